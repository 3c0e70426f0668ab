"""Which command groups the `microfut` app has; each lives in its own module."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Attach every command group to the root app."""
    from sim.cli import calc_cmd, specs_cmd

    app.add_typer(specs_cmd.app, name="specs")
    app.add_typer(calc_cmd.app, name="calc")
