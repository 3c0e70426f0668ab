"""A one-line price picture per symbol: a sparkline of recent prices and a risk ruler.

The ruler places the mark (●), entry (E), stop (S), take-profit (T) and liquidation (L) on one
scale, so the distance to liquidation is seen, not read: ``▁▂▄▆█ L····S·····E··●····T``.
Plain text, no plotting library: it must fit an 80-column terminal.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

BARS = "▁▂▃▄▅▆▇█"


def sparkline(prices: Sequence[Decimal], width: int) -> str:
    """The last ``width`` prices as block heights (flat line when they do not move)."""
    pts = list(prices)[-width:]
    if not pts:
        return " " * width
    lo, hi = min(pts), max(pts)
    span = hi - lo
    top = len(BARS) - 1
    out = "".join(BARS[int((p - lo) / span * top) if span else top // 2] for p in pts)
    return out.rjust(width)


def ruler(marks: dict[str, Decimal | None], width: int) -> str:
    """``marks`` (letter → price) placed on one line of ``width`` cells, low prices left.

    Later letters win a shared cell, so pass the mark last to keep it always visible.
    """
    known = {k: v for k, v in marks.items() if v is not None}
    if width < 3 or not known:
        return " " * max(width, 0)
    lo, hi = min(known.values()), max(known.values())
    cells = ["·"] * width
    for letter, value in known.items():
        i = 0 if hi == lo else int((value - lo) / (hi - lo) * (width - 1))
        cells[i] = letter
    return "".join(cells)


def chart_line(
    label: str, prices: Sequence[Decimal], mark: Decimal | None, *, entry: Decimal | None = None,
    stop: Decimal | None = None, tp: Decimal | None = None, liq: Decimal | None = None,
    width: int = 78,
) -> str:  # fmt: skip
    """``label`` + sparkline + ruler in ``width`` characters (the ruler only with a position)."""
    label = label[:8].ljust(8)
    room = max(width - len(label) - 1, 4)
    has_levels = any(v is not None for v in (entry, stop, tp, liq))
    if not has_levels:
        return f"{label} {sparkline(prices, room)}"
    spark_w = max(room // 3, 4)
    ruler_w = room - spark_w - 1
    levels = {"L": liq, "S": stop, "T": tp, "E": entry, "●": mark}
    return f"{label} {sparkline(prices, spark_w)} {ruler(levels, ruler_w)}"
