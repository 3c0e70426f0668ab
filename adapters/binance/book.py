"""Binance futures local order book: REST snapshot + ``depthUpdate`` diffs chained by U/u/pu.

Rule (developers.binance.com, "How to manage a local order book correctly", futures): buffer
diffs, fetch a snapshot, drop diffs with ``u < lastUpdateId``; the first applied diff has
``U <= lastUpdateId <= u``; every later diff's ``pu`` equals the previous diff's ``u``, else
the book is out of sync and must be rebuilt from a new snapshot.
"""

from __future__ import annotations

from adapters.binance.wire import DepthDiff, DepthSnapshot
from adapters.depth import LevelBook, Sync
from sim.engine.market import BookDepth, BookTop

# Diffs kept while waiting for a snapshot; a real stream sends ~10/s at 100 ms.
MAX_BUFFER = 5000


class BinanceBook:
    """One symbol's book; ``synced`` is False until a snapshot lines up with the diffs."""

    def __init__(self, venue: str, symbol: str) -> None:
        self.levels = LevelBook(venue, symbol)
        self.last_id: int | None = None
        self.ts_ms = 0
        self.synced = False
        self.gaps = 0
        self._first = False  # the next diff must straddle the snapshot's id
        self._buffer: list[DepthDiff] = []

    def reset(self) -> None:
        """Forget everything (after a reconnect): buffer diffs until the next snapshot."""
        self.levels.clear()
        self.last_id = None
        self.synced = False
        self._buffer.clear()

    def on_diff(self, diff: DepthDiff) -> Sync:
        """Apply or buffer one diff; GAP means call ``on_snapshot`` with a fresh snapshot."""
        if not self.synced:
            self._buffer.append(diff)
            if len(self._buffer) > MAX_BUFFER:
                del self._buffer[0]
            return Sync.BUFFERED
        assert self.last_id is not None
        if diff.last_id <= self.last_id:
            return Sync.STALE
        if self._first:
            if diff.first_id > self.last_id and diff.prev_id != self.last_id:
                self._lose_sync(diff)
                return Sync.GAP
            self._first = False
        elif diff.prev_id != self.last_id:
            self._lose_sync(diff)
            return Sync.GAP
        self._apply(diff)
        return Sync.APPLIED

    def on_snapshot(self, snap: DepthSnapshot) -> Sync:
        """Start from a snapshot and replay the buffered diffs that follow it.

        GAP when the buffered diffs do not connect to the snapshot (it is older than the
        first diff kept): fetch another snapshot.
        """
        self.levels.replace(snap.bids, snap.asks, snap.parsed)
        self.last_id = snap.last_update_id
        self.ts_ms = snap.ts_ms
        pending = [d for d in self._buffer if d.last_id >= snap.last_update_id]
        self._buffer.clear()
        first = pending[0] if pending else None
        if first and first.first_id > snap.last_update_id and first.prev_id != snap.last_update_id:
            self._buffer.extend(pending)
            self.synced = False
            self.gaps += 1
            return Sync.GAP
        self.synced = True
        self._first = not pending
        for i, diff in enumerate(pending):
            if i and diff.prev_id != self.last_id:
                self._lose_sync(diff)
                self._buffer.extend(pending[i + 1 :])
                return Sync.GAP
            self._apply(diff)
        return Sync.APPLIED

    def top(self) -> BookTop | None:
        return self.levels.top(self.ts_ms) if self.synced else None

    def depth(self, levels: int = 20) -> BookDepth | None:
        return self.levels.depth(self.ts_ms, levels) if self.synced else None

    def _apply(self, diff: DepthDiff) -> None:
        self.levels.apply(diff.bids, diff.asks, diff.parsed)
        self.last_id = diff.last_id
        self.ts_ms = diff.ts_ms

    def _lose_sync(self, diff: DepthDiff) -> None:
        self.synced = False
        self.gaps += 1
        self._buffer = [diff]
