"""The one drawdown definition of microfut: equity marked at each trade close.

``microfut run``, ``sweep`` and ``journal report`` all compute the maximum drawdown here, from
the same numbers: the opening balance plus the cumulative net P&L (realized − fees + funding) of
closed trades, sampled at each close. Open positions are not marked (a journal holds no
price path for them), so two reports of one run agree to the cent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

ZERO = Decimal(0)
HUNDRED = Decimal(100)


def equity_curve(start: Decimal, nets: Iterable[Decimal]) -> list[Decimal]:
    """Equity after each trade: start + cumulative net."""
    out, equity = [], start
    for net in nets:
        equity += net
        out.append(equity)
    return out


def max_drawdown(start: Decimal, curve: Sequence[Decimal]) -> tuple[Decimal, Decimal | None]:
    """Largest fall from a running peak, in money and in % of that peak."""
    peak, worst, worst_pct = start, ZERO, None
    for equity in curve:
        peak = max(peak, equity)
        fall = peak - equity
        if fall > worst:
            worst, worst_pct = fall, (fall / peak * HUNDRED if peak > 0 else None)
    return worst, worst_pct
