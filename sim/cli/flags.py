"""Values several commands build from their flags (kept here so the commands agree)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sim.errors import InputError

DB_HELP = (
    "journal file \\[default: journal.sqlite in the data home (MICROFUT_HOME, or the \\[data] "
    "home setting); `microfut --version` prints the folder]"
)

# Options several commands take, declared once so their names and help agree.
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output", metavar="")]
DbOpt = Annotated[Path | None, typer.Option("--db", help=DB_HELP)]
ExchangeOpt = Annotated[
    str | None,
    typer.Option("--exchange", "-e", help="ccxt id \\[default: from config: exchange.default]"),
]
MakerFeeOpt = Annotated[
    str | None,
    typer.Option("--maker-fee", help="maker fee rate instead of the spec's (0.0002 = 0.02 %)"),
]
TakerFeeOpt = Annotated[
    str | None,
    typer.Option("--taker-fee", help="taker fee rate instead of the spec's (0.0005 = 0.05 %)"),
]

if TYPE_CHECKING:
    from sim.engine.spec import MarginTier


def user_tier(rate: Decimal | None, cum: Decimal | None, number: int) -> MarginTier | None:
    """One maintenance tier from --mmr/--maint-amount (None without --mmr), numbered ``number``."""
    if rate is None:
        if cum is not None:
            raise InputError("--maint-amount needs --mmr (the rate of the same tier)")
        return None
    if not 0 < rate < 1:
        raise InputError(f"--mmr is a fraction between 0 and 1 (0.004 = 0.4 %), was {rate}")
    if cum is not None and cum < 0:
        raise InputError(f"--maint-amount must not be negative, was {cum}")
    from sim.engine.spec import MarginTier

    return MarginTier(number, Decimal(0), None, rate, cum or Decimal(0), Decimal(0))


def hide_flag_types() -> None:
    """Help shows no ``<bool>`` after an on/off flag (``--json``, ``--help``): a flag takes no
    value, so naming a type there reads as if one were expected. Typer ≥ 0.20 prints one for
    every option; other types (``<path>``, ``<int>``) stay."""
    from typer.core import TyperOption

    if getattr(TyperOption, "_microfut_flags", False):
        return
    shown = TyperOption.display_type_rich

    def display_type_rich(self: TyperOption, ctx: object) -> str | None:
        if self.is_flag and self.is_bool_flag:
            return None
        return shown(self, ctx)  # type: ignore[arg-type]

    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]
    TyperOption._microfut_flags = True  # type: ignore[attr-defined]
