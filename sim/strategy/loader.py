"""Load a user's STRATEGY.py (or a shipped example by name) and report errors in their code.

* A missing file, a syntax error or a file without exactly one :class:`Strategy` subclass is an
  ``InputError``: one line, exit 2.
* An exception raised by the user's own code (at import or inside a hook) is a
  :class:`StrategyError`: the run stops cleanly, the journal keeps every event committed before
  it, and the CLI prints the user's traceback (their frames only: it is their code) and exits 1.
"""

from __future__ import annotations

import hashlib
import importlib
import sys
import traceback
import types
from dataclasses import dataclass
from pathlib import Path

from sim.errors import InputError, MicrofutError
from sim.strategy.api import Strategy

EXAMPLES: dict[str, str] = {
    "breakout": "sim.strategy.examples.breakout",
    "hedged_bag": "sim.strategy.examples.hedged_bag",
}
STRATEGY_EXIT_CODE = 1


class StrategyError(MicrofutError):
    """The user's strategy raised; ``user_traceback`` shows where, in their file."""

    exit_code = STRATEGY_EXIT_CODE

    def __init__(self, headline: str, user_traceback: str = "", after: str = "") -> None:
        super().__init__(headline + after)
        self.headline = headline  # what went wrong (kept with the failed session)
        self.user_traceback = user_traceback


@dataclass(frozen=True, slots=True)
class LoadedStrategy:
    """A strategy class and where it came from (``ref`` reloads it in a sweep worker)."""

    cls: type[Strategy]
    ref: str
    path: Path


def user_traceback(exc: BaseException, path: Path) -> str:
    """The traceback of ``exc`` limited to frames in ``path`` (the whole one if none are)."""
    frames = traceback.extract_tb(exc.__traceback__)
    target = str(path.resolve())
    mine = [f for f in frames if str(Path(f.filename).resolve()) == target]
    lines = ["Traceback (most recent call last), in your strategy:\n"]
    lines += traceback.StackSummary.from_list(mine or frames).format()
    lines += traceback.format_exception_only(type(exc), exc)
    return "".join(lines)


def _one_class(module: types.ModuleType, where: str) -> type[Strategy]:
    found = [
        v
        for v in vars(module).values()
        if isinstance(v, type)
        and issubclass(v, Strategy)
        and v is not Strategy
        and v.__module__ == module.__name__
    ]
    if not found:
        raise InputError(
            f"{where} defines no Strategy subclass; write `class MyRule(Strategy):` "
            "(from sim.strategy import Strategy)"
        )
    if len(found) > 1:
        names = ", ".join(sorted(c.__name__ for c in found))
        raise InputError(f"{where} defines several strategies ({names}); keep one per file")
    return found[0]


def _load_file(path: Path) -> type[Strategy]:
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read strategy file {path}: {e}") from None
    try:
        code = compile(source, str(path), "exec")
    except SyntaxError as e:
        raise InputError(f"{path} line {e.lineno}: {e.msg}; fix the syntax and run again") from None
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:10]
    name = f"microfut_strategy_{path.stem}_{digest}"
    module = types.ModuleType(name)
    module.__file__ = str(path)
    sys.modules[name] = module  # annotations of the classes resolve through sys.modules
    try:
        exec(code, module.__dict__)
    except Exception as e:
        del sys.modules[name]
        raise StrategyError(
            f"{path.name} raised {type(e).__name__} while loading: {e}", user_traceback(e, path)
        ) from e
    return _one_class(module, str(path))


def load(ref: str) -> LoadedStrategy:
    """Load ``ref``: a path to a .py file, or the name of a shipped example."""
    path = Path(ref).expanduser()
    if ref in EXAMPLES and not path.exists():
        module = importlib.import_module(EXAMPLES[ref])
        return LoadedStrategy(_one_class(module, ref), ref, Path(str(module.__file__)))
    if not path.is_file():
        names = ", ".join(EXAMPLES)
        raise InputError(
            f"strategy file {ref} was not found; pass a .py file or a shipped example: {names}"
        )
    if path.suffix != ".py":
        raise InputError(f"strategy file {ref} must be a Python file (.py)")
    return LoadedStrategy(_load_file(path), str(path), path)
