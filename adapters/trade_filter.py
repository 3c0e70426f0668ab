"""Deduplicate trades a ccxt venue delivers twice (overlapping polls, re-sends after reconnect)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any


class TradeFilter:
    """Drops trades already delivered (a poll overlaps the last one; a venue may re-send recent
    trades after a reconnect). The first poll keeps only the latest trade: older ones are history.
    """

    def __init__(self, poll: bool, on_duplicate: Callable[[], None], size: int = 5000) -> None:
        self.first_poll = poll
        self.on_duplicate = on_duplicate
        self.size = size
        self.seen: set[Any] = set()
        self.order: deque[Any] = deque()

    def new(self, trades: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if self.first_poll:
            self.first_poll = False
            for t in trades[:-1]:
                self._remember(_trade_key(t))
            trades = trades[-1:]
        out = []
        for t in trades:
            key = _trade_key(t)
            if key is not None and key in self.seen:
                self.on_duplicate()
                continue
            out.append(t)
            self._remember(key)
        return out

    def _remember(self, key: Any) -> None:
        if key is None or key in self.seen:
            return
        self.seen.add(key)
        self.order.append(key)
        if len(self.order) > self.size:
            self.seen.discard(self.order.popleft())


def _trade_key(trade: dict[str, Any]) -> Any:
    """The venue's trade id; None when it gives none (such trades cannot be deduplicated)."""
    trade_id = trade.get("id")
    return None if trade_id in (None, "") else (trade_id, trade.get("timestamp"))
