"""`microfut calc ...`: size, liquidation and hedge calculators on real specs."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Risk calculators: position size, liquidation price, hedge.", no_args_is_help=True
)
