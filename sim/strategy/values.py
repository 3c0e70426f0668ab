"""What a strategy is handed and handed back: a closed :class:`Bar`, an order's :class:`Ticket`.

Plain values with no behaviour of their own, so the API, the context and the views can all use
them without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sim.engine.commands import Command
from sim.engine.events import Event


@dataclass(frozen=True, slots=True)
class Bar:
    """One closed candle of ``symbol``: ``ts_ms`` is its start, ``close_ts_ms`` its last ms."""

    symbol: str
    timeframe: str
    ts_ms: int
    close_ts_ms: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal


@dataclass(slots=True)
class Ticket:
    """What became of one order action: queued, then accepted, rejected or denied.

    ``order_id`` is known once the command was sent (right after the hook returns); ``events``
    holds what the account answered. ``reason`` says why a rejection or denial happened.
    """

    command: Command
    status: str = "queued"  # queued | accepted | rejected | denied | done
    order_id: str | None = None
    reason: str = ""
    events: list[Event] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status in ("queued", "accepted", "done")


__all__ = ["Bar", "Ticket"]
