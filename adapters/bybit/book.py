"""Bybit local order book: ``orderbook.<depth>`` snapshot, then deltas numbered by ``u``.

Rule (bybit-exchange.github.io/docs/v5/websocket/public/orderbook): a snapshot replaces the
book (also the ``u == 1`` snapshot after a service restart); deltas carry absolute sizes, 0
deletes. Deltas of one topic number ``u`` consecutively (the recorded XRPUSDT capture goes
20254869, 20254870, ...) and ``seq`` only grows; anything else is a gap and the topic is
re-subscribed to get a fresh snapshot.
"""

from __future__ import annotations

from adapters.bybit.wire import BookUpdate
from adapters.depth import LevelBook, Sync
from sim.engine.market import BookDepth, BookTop


class BybitBook:
    """One symbol's book; ``synced`` is False until a snapshot arrives."""

    def __init__(self, venue: str, symbol: str) -> None:
        self.levels = LevelBook(venue, symbol)
        self.update_id: int | None = None
        self.seq: int | None = None
        self.ts_ms = 0
        self.synced = False
        self.gaps = 0

    def reset(self) -> None:
        """Forget the book (after a reconnect) until the next snapshot."""
        self.levels.clear()
        self.update_id = self.seq = None
        self.synced = False

    def on_update(self, msg: BookUpdate) -> Sync:
        """Apply a snapshot or delta; GAP means re-subscribe for a new snapshot."""
        if msg.snapshot:
            self.levels.replace(msg.bids, msg.asks, msg.parsed)
            self._mark(msg)
            self.synced = True
            return Sync.APPLIED
        if not self.synced or self.update_id is None:
            return Sync.BUFFERED  # deltas before the first snapshot are useless
        if msg.update_id <= self.update_id:
            return Sync.STALE
        seq_back = msg.seq is not None and self.seq is not None and msg.seq < self.seq
        if msg.update_id != self.update_id + 1 or seq_back:
            self.synced = False
            self.gaps += 1
            return Sync.GAP
        self.levels.apply(msg.bids, msg.asks, msg.parsed)
        self._mark(msg)
        return Sync.APPLIED

    def top(self) -> BookTop | None:
        return self.levels.top(self.ts_ms) if self.synced else None

    def depth(self, levels: int = 20) -> BookDepth | None:
        return self.levels.depth(self.ts_ms, levels) if self.synced else None

    def _mark(self, msg: BookUpdate) -> None:
        self.update_id = msg.update_id
        self.seq = msg.seq
        self.ts_ms = msg.ts_ms
