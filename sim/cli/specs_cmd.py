"""`microfut specs ...`: what one contract of a market really is on a venue."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Contract specs from the exchange (live or from snapshots).", no_args_is_help=True
)
