"""The reconciling "at open" fields of one closed trade, shared by the light journal reader
(``reader.py``: sqlite3 only, for `journal list/show`) and the pandas review (``frames.py``).

Both read the same rows in their own way; what a trade's first fill, size traded, risk and
leverage at open *are* is decided here once, so the two screens cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

# (seq, side, contracts, price) of one fill of the trade, in seq order
Fill = tuple[int, str, Decimal, Decimal]

COLUMNS = (
    "open_seq",
    "entry_at_open",
    "contracts_at_open",
    "size_traded",
    "risk_at_open",
    "leverage_at_open",
)


def at_open(
    row: Mapping[str, Any], fills: Sequence[Fill], leverage_changes: Sequence[tuple[int, Decimal]]
) -> dict[str, Any]:
    """``open_seq`` (first fill), ``entry_at_open``/``contracts_at_open`` (first fill),
    ``size_traded`` (contracts added to the position), ``risk_at_open`` (|first entry − stop|
    × contracts at open × multiplier) and ``leverage_at_open`` (the last leverage change
    before the first fill, else the trade's own when none happened during it).

    A trade without fills (an old journal) falls back on the trade row's own figures.
    """
    adding = "buy" if row["side"] == "long" else "sell"
    first = fills[0] if fills else None
    open_seq = first[0] if first else int(row["seq"])
    stop = row["stop_at_entry"]
    risk = None
    if stop is not None and first is not None:
        risk = abs(first[3] - stop) * first[2] * (row["contract_size"] or Decimal(1))
    elif stop is not None:
        risk = row["risk_at_entry"]
    before = [lev for seq, lev in leverage_changes if seq < open_seq]
    traded = sum((q for _, side, q, _ in fills if side == adding), Decimal(0))
    return {
        "open_seq": open_seq,
        "entry_at_open": first[3] if first else row["entry_price"],
        "contracts_at_open": first[2] if first else abs(row["contracts"]),
        "size_traded": traded or abs(row["contracts"]),
        "risk_at_open": risk,
        "leverage_at_open": before[-1] if before else row["leverage"],
    }
