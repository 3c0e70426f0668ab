"""The desk's command line: one command per Enter, history on up/down, tab completion.

Textual's ``Input`` posts ``Submitted`` with its value and leaves clearing to the handler, which
runs later: a second Enter (or keys typed meanwhile) reached the box still holding the first
line, so one order went out twice and fast typing merged two lines. :class:`CommandLine` takes
the value and clears the box in the key handler itself, before the message is posted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Input

COMMANDS = (
    "buy", "sell", "long", "short", "close", "cancel", "amend", "lev", "mode", "size", "hedge",
    "scale", "pause", "resume", "speed", "step", "help", "quit",
)  # fmt: skip
OPTIONS = (
    "limit", "stop", "tp", "lev", "cross", "isolated", "reduce", "ioc", "fok", "post", "mark",
    "trigger", "trail", "tag", "beta", "from", "to", "in", "entry", "risk", "price", "all",
)  # fmt: skip


def common_prefix(words: Iterable[str]) -> str:
    """The longest prefix shared by all ``words`` (case-insensitive compare, first's spelling)."""
    items = list(words)
    if not items:
        return ""
    first = items[0]
    n = 0
    while n < len(first) and all(len(w) > n and w[n].lower() == first[n].lower() for w in items):
        n += 1
    return first[:n]


def complete(line: str, symbols: Iterable[str], ids: Iterable[str] = ()) -> tuple[str, list[str]]:
    """Complete the last word of ``line``: the line after Tab and the candidates it matched.

    The first word completes to a command; later words to a symbol, an order id or an option.
    A unique match gets a trailing space; several extend to their common prefix.
    """
    head, _, last = line.rpartition(" ")
    pool = COMMANDS if not head.strip() else (*symbols, *ids, *OPTIONS)
    matches = sorted({w for w in pool if w.lower().startswith(last.lower())}, key=str.lower)
    if not matches or not last:
        return line, matches
    if len(matches) == 1:
        done = matches[0] + " "
    else:
        done = common_prefix(matches)
        if len(done) < len(last):
            done = last
    return (f"{head} " if head else "") + done, matches


class CommandLine(Input):
    """An ``Input`` that sends each non-empty line exactly once and remembers what was sent."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "history(-1)", "previous command", show=False),
        Binding("down", "history(1)", "next command", show=False),
        Binding("tab", "complete", "complete", show=False, priority=True),
    ]

    class Command(Message):
        """One typed line, already taken out of the box."""

        def __init__(self, line: str) -> None:
            super().__init__()
            self.line = line

    def __init__(
        self, *, completions: Callable[[str], tuple[str, list[str]]] | None = None,
        on_choices: Callable[[list[str]], None] | None = None, **kwargs: object,
    ) -> None:  # fmt: skip
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.history: list[str] = []
        self._at = 0
        self._draft = ""
        self._completions = completions
        self._on_choices = on_choices

    async def action_submit(self) -> None:
        """Take the line and clear the box now (synchronously); an empty line sends nothing."""
        line = self.value
        self.value = ""
        if not line.strip():
            return
        if not self.history or self.history[-1] != line:
            self.history.append(line)
        self._at = len(self.history)
        self._draft = ""
        self.post_message(self.Command(line))

    def action_history(self, delta: int) -> None:
        """Walk the sent lines; past the newest, back to what was being typed."""
        if not self.history:
            return
        if self._at == len(self.history):
            self._draft = self.value
        self._at = max(0, min(len(self.history), self._at + delta))
        self.value = self.history[self._at] if self._at < len(self.history) else self._draft
        self.cursor_position = len(self.value)

    def action_complete(self) -> None:
        if self._completions is None:
            return
        done, choices = self._completions(self.value)
        if done != self.value:
            self.value = done
            self.cursor_position = len(done)
        elif len(choices) > 1 and self._on_choices is not None:
            self._on_choices(choices)
