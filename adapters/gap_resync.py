"""A replayed book survives a lost depth message: it resynchronises from what the recording holds.

Live, a sequence gap is repaired by fetching a REST snapshot; a recording cannot fetch one and
most captures hold a single snapshot at the start, so one lost ``depthUpdate`` used to leave the
symbol stale (no fills) for the rest of the capture. In a replay, a Binance gap is bridged:

1. the book restarts from the levels it held plus the diff that revealed the gap (Binance diffs
   carry absolute quantities, so every level a later diff touches is exact again);
2. until a real snapshot arrives, a level still at its pre-gap quantity that the recording's own
   best bid/ask (``bookTicker``) shows cannot exist (a bid above the best bid, an ask below the
   best ask) is dropped: the lost message had removed it;
3. the next snapshot in the recording, if any, replaces the book outright.

The symbol is marked stale and resumed at the gap's own time (both land in the journal as
``FeedStale`` events), and ``notes()`` names every gap, how it was repaired, and every span a
symbol stayed stale. Bybit books are bridged the same way (its deltas carry absolute sizes too)
without the best bid/ask check; a gap that cannot be bridged leaves the symbol stale until a
snapshot, and that span is named.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from adapters.binance import wire as binance_wire
from adapters.bybit import wire as bybit_wire
from adapters.depth import Sync
from sim.engine.market import BookTop, FeedStatus, MarketInput

if TYPE_CHECKING:
    from adapters.wire import MarketDecoder

BRIDGED = "book rebuilt after a gap from the recording (held levels + later diffs)"


def _when(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


@dataclass
class _Gap:
    symbol: str
    ts_ms: int
    detail: str
    bridged: bool = False
    dropped: int = 0  # pre-gap levels removed because bookTicker showed they were gone
    snapshot_ms: int | None = None  # a real snapshot replaced the book afterwards


@dataclass
class _Suspect:
    """Pre-gap levels not yet checked against the recorded best bid/ask: price -> the quantity
    held at the gap, and the prices sorted so each check only looks at the levels it rules out
    (each level is looked at once: amortised O(1) per ticker)."""

    gap: _Gap
    bids: dict[Decimal, Decimal]
    asks: dict[Decimal, Decimal]
    bid_prices: list[Decimal]  # ascending: the highest (first ruled out) last
    ask_prices: list[Decimal]  # descending: the lowest last


class GapResync:
    """Watches one replay's decoded frames; bridges Binance book gaps and records stale spans."""

    def __init__(self) -> None:
        self.gaps: list[_Gap] = []
        self.spans: list[tuple[str, int, int | None, str]] = []  # symbol, from, to, reason
        self._stale: dict[str, tuple[int, str]] = {}
        self._suspects: dict[str, _Suspect] = {}
        self.last_ms = 0

    def after_frame(
        self, decoder: MarketDecoder | None, frame: dict[str, Any], out: list[MarketInput]
    ) -> list[MarketInput]:
        """The frame's inputs, with a gap bridged in place; call for every decoded frame."""
        if decoder is not None and self._suspects:
            self._check_against_ticker(decoder, frame, out)
            self._snapshot_seen(frame, out)
        if not any(isinstance(x, FeedStatus) for x in out):
            return out
        result: list[MarketInput] = []
        for item in out:
            result.append(item)
            if not isinstance(item, FeedStatus):
                continue
            if item.stale and item.reason == "book gap" and decoder is not None:
                result.extend(self._bridge(decoder, frame, item))
        for item in result:
            if isinstance(item, FeedStatus):
                self._track(item)
        return result

    # -- bridging ----------------------------------------------------------------------------
    def _bridge(
        self, decoder: MarketDecoder, frame: dict[str, Any], status: FeedStatus
    ) -> list[MarketInput]:
        if decoder.venue == bybit_wire.VENUE:
            return self._bridge_bybit(decoder, frame, status)
        book = decoder.binance_books.get(status.symbol)
        diff = self._diff_of(decoder, frame, status.symbol)
        if book is None or diff is None:
            self.gaps.append(
                _Gap(status.symbol, status.ts_ms, "this venue's book resyncs only from a snapshot")
            )
            return []
        held_bids, held_asks = dict(book.levels.bids), dict(book.levels.asks)
        gap = _Gap(
            status.symbol,
            status.ts_ms,
            f"depth update ids {book.last_id}..{diff.first_id} missing",
        )
        self.gaps.append(gap)
        synthetic = binance_wire.DepthSnapshot(
            venue=diff.venue,
            symbol=diff.symbol,
            ts_ms=diff.ts_ms,
            last_update_id=diff.prev_id,
            bids=tuple(held_bids.items()),
            asks=tuple(held_asks.items()),
        )
        if book.on_snapshot(synthetic) is not Sync.APPLIED:
            gap.detail += "; the diffs that follow do not chain either"
            return []
        gap.bridged = True
        self._suspects[status.symbol] = _Suspect(
            gap, held_bids, held_asks, sorted(held_bids), sorted(held_asks, reverse=True)
        )
        resumed = FeedStatus(status.venue, status.symbol, status.ts_ms, stale=False, reason=BRIDGED)
        tops = [x for x in (book.top(), book.depth(decoder.depth_levels)) if x is not None]
        return [resumed, *tops]

    def _bridge_bybit(
        self, decoder: MarketDecoder, frame: dict[str, Any], status: FeedStatus
    ) -> list[MarketInput]:
        """Bybit deltas carry absolute sizes too: restart from the held levels, apply the
        delta that revealed the gap, and chain on from its ``u``."""
        book = decoder.bybit_books.get(status.symbol)
        delta = next(
            (
                x
                for x in bybit_wire.decode(frame, decoder.symbols)
                if isinstance(x, bybit_wire.BookUpdate) and x.symbol == status.symbol
            ),
            None,
        )
        if book is None or delta is None:
            self.gaps.append(_Gap(status.symbol, status.ts_ms, "no delta to resume from"))
            return []
        gap = _Gap(
            status.symbol,
            status.ts_ms,
            f"book update ids {book.update_id}..{delta.update_id} not consecutive (no separate "
            "best bid/ask in the recording to check the rebuilt book against)",
        )
        self.gaps.append(gap)
        held = replace(
            delta,
            snapshot=True,
            bids=tuple(book.levels.bids.items()),
            asks=tuple(book.levels.asks.items()),
        )
        book.on_update(held)
        book.levels.apply(delta.bids, delta.asks)
        gap.bridged = True
        resumed = FeedStatus(status.venue, status.symbol, status.ts_ms, stale=False, reason=BRIDGED)
        tops = [x for x in (book.top(), book.depth(decoder.depth_levels)) if x is not None]
        return [resumed, *tops]

    @staticmethod
    def _diff_of(
        decoder: MarketDecoder, frame: dict[str, Any], symbol: str
    ) -> binance_wire.DepthDiff | None:
        if decoder.venue not in binance_wire.VENUES:
            return None
        items = binance_wire.decode(decoder.venue, frame, decoder.symbols)
        return next(
            (x for x in items if isinstance(x, binance_wire.DepthDiff) and x.symbol == symbol),
            None,
        )

    def _check_against_ticker(
        self, decoder: MarketDecoder, frame: dict[str, Any], out: list[MarketInput]
    ) -> None:
        """Drop unconfirmed pre-gap levels that the recorded best bid/ask rules out."""
        data = frame.get("data", frame)
        if not isinstance(data, dict) or data.get("e", "bookTicker") != "bookTicker":
            return
        for top in out:
            if not isinstance(top, BookTop) or top.symbol not in self._suspects:
                continue
            suspect = self._suspects[top.symbol]
            book = decoder.binance_books.get(top.symbol)
            if book is None:
                continue
            levels = book.levels
            gone_bids = _ruled_out(suspect.bid_prices, suspect.bids, levels.bid_qty, top.bid.__lt__)
            gone_asks = _ruled_out(suspect.ask_prices, suspect.asks, levels.ask_qty, top.ask.__gt__)
            if gone_bids or gone_asks:
                zero = Decimal(0)
                levels.apply([(p, zero) for p in gone_bids], [(p, zero) for p in gone_asks])
                suspect.gap.dropped += len(gone_bids) + len(gone_asks)

    def _snapshot_seen(self, frame: dict[str, Any], out: list[MarketInput]) -> None:
        if "lastUpdateId" not in frame:
            return
        for item in out:
            suspect = self._suspects.pop(getattr(item, "symbol", ""), None)
            if suspect is not None:
                suspect.gap.snapshot_ms = item.ts_ms

    # -- stale spans and the summary ---------------------------------------------------------
    def _track(self, status: FeedStatus) -> None:
        self.last_ms = max(self.last_ms, status.ts_ms)
        if status.stale and status.symbol not in self._stale:
            self._stale[status.symbol] = (status.ts_ms, status.reason)
        elif not status.stale and status.symbol in self._stale:
            since, reason = self._stale.pop(status.symbol)
            self.spans.append((status.symbol, since, status.ts_ms, reason))

    def notes(self) -> list[str]:
        """One line per gap and per stale span, for the replay summary."""
        lines = [f"{g.symbol}: depth gap at {_when(g.ts_ms)}: {_repair(g)}" for g in self.gaps]
        spans = list(self.spans) + [
            (sym, since, None, reason) for sym, (since, reason) in self._stale.items()
        ]
        for symbol, since, until, reason in sorted(spans, key=lambda s: s[1]):
            if until is None:
                lines.append(
                    f"{symbol}: stale from {_when(since)} ({reason}) to the end of the "
                    "recording; no fills in that span"
                )
            else:
                seconds = (until - since) / 1000
                lines.append(
                    f"{symbol}: stale {_when(since)} → {_when(until)} ({seconds:g} s, {reason})"
                )
        return lines


def _ruled_out(
    prices: list[Decimal],
    held: dict[Decimal, Decimal],
    book_qty: Callable[[Decimal], Decimal | None],
    beyond: Callable[[Decimal], bool],
) -> list[Decimal]:
    """Suspect prices beyond the recorded best (popped from ``prices``) whose level still has
    its pre-gap quantity: the lost message removed them. A level a later diff changed is exact."""
    gone = []
    while prices and beyond(prices[-1]):
        price = prices.pop()
        if book_qty(price) == held.pop(price):
            gone.append(price)
    return gone


def _repair(gap: _Gap) -> str:
    if not gap.bridged:
        return f"{gap.detail}; the book waits for a snapshot"
    parts = [f"{gap.detail}; the book was rebuilt from the levels held plus the diffs that follow"]
    if gap.dropped:
        parts.append(f"{gap.dropped} stale level(s) dropped against the recorded best bid/ask")
    if gap.snapshot_ms is not None:
        parts.append(f"replaced by the snapshot at {_when(gap.snapshot_ms)}")
    else:
        parts.append("no later snapshot: levels only the lost message changed may differ")
    return "; ".join(parts)
