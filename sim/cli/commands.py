"""Which command groups the `microfut` app has; each lives in its own module with register(app).

Modules are imported only when needed: `microfut calc ...` imports calc_cmd alone, so one
command's heavy dependencies (ccxt, pandas, sqlmodel, textual) never slow down another, and
`--version` imports none. Help and unknown names attach every group.
"""

from __future__ import annotations

from importlib import import_module

import typer

# module in sim.cli -> the top-level commands/groups its register(app) adds
GROUPS: dict[str, tuple[str, ...]] = {
    "specs_cmd": ("specs",),
    "calc_cmd": ("calc",),
    "trade_cmd": ("trade", "demo"),
    "replay_cmd": ("replay",),
    "run_cmd": ("run", "sweep"),
    "journal_cmd": ("journal",),
    "feed_cmd": ("record", "exchange"),
    "web_cmd": ("web",),
    "data_cmd": ("data",),
}

_attached: dict[int, set[str]] = {}


def module_for(command: str) -> str | None:
    """The module that registers ``command``, or None for a name no group declares."""
    return next((m for m, names in GROUPS.items() if command in names), None)


def register(app: typer.Typer, command: str | None = None) -> None:
    """Attach the group serving ``command`` (every group when None or not a known name).

    Each module is attached to an app once, however often this runs in one process.
    """
    wanted = module_for(command) if command is not None else None
    done = _attached.setdefault(id(app), set())
    for name in (wanted,) if wanted is not None else tuple(GROUPS):
        if name not in done:
            import_module(f"sim.cli.{name}").register(app)
            done.add(name)
