"""Values several commands build from their flags (kept here so the commands agree)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from sim.errors import InputError

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
