"""Which command groups the `microfut` app has; each lives in its own module with register(app)."""

from __future__ import annotations

import typer

from sim.cli import calc_cmd, feed_cmd, journal_cmd, replay_cmd, run_cmd, specs_cmd, trade_cmd

MODULES = (specs_cmd, calc_cmd, trade_cmd, replay_cmd, run_cmd, journal_cmd, feed_cmd)


def register(app: typer.Typer) -> None:
    """Attach every command group to the root app."""
    for module in MODULES:
        module.register(app)
