"""Recorded candles played into a desk: several symbols side by side, in time order.

Each bar is four last-price points (``adapters/pricepath.py``: open, the extreme against the
position first, the other extreme, close) with the recorded funding and mark inputs at their
instants. Used by the demo (flat out, stopping at scene times) and by ``microfut trade --replay``
on candle files (paced by the desk's clock, ``pacing.ReplayClock``).

When a symbol's recorded bars run out (symbols may end at different times), a ``FeedStatus``
marks it stale at its last bar's close: the engine then refuses its fills and orders, the desk
log says so, and nothing is ever filled at a price from after the data ended.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from adapters.pricepath import MarketData, bar_path, capture_notes, point_times
from adapters.pricepath import replay_notes as candle_notes
from sim.desk.pacing import ReplayClock, as_async
from sim.desk.session import DeskSession
from sim.display import ts_text
from sim.engine.market import FeedStatus, LastTrade
from sim.engine.money import ZERO
from sim.errors import InputError

if TYPE_CHECKING:
    from adapters.specs import SpecBook


class Player:
    """Plays the recorded bars of several symbols side by side, in time order, into the desk.

    Inputs come from a generator, so each bar's path is chosen (``bar_path``) from the account
    as it is when the bar's open has been played, and play can stop inside a bar.
    """

    def __init__(
        self, desk: DeskSession, data: MarketData, start_ms: int, symbols: Sequence[str]
    ) -> None:
        self.desk = desk
        self.series = [data.candles[s] for s in symbols if s in data.candles]
        self.funding = [f for f in data.funding if f[0] >= start_ms]
        self.start_ms = start_ms
        self.pending: Any = None
        self.stream = self._inputs()

    def _inputs(self) -> Iterator[Any]:
        venue = self.desk.book.exchange
        rows = [int(np.searchsorted(c.ts, self.start_ms)) for c in self.series]
        k = 0
        while True:
            live = [i for i, c in enumerate(self.series) if rows[i] < len(c.ts)]
            if not live:
                break
            t0 = min(int(self.series[i].ts[rows[i]]) for i in live)
            due = [i for i in live if int(self.series[i].ts[rows[i]]) == t0]
            paths: dict[int, tuple[Decimal, ...]] = {}
            for j in range(4):
                for i in due:
                    c, r = self.series[i], rows[i]
                    ts = point_times(t0, c.period_ms)[j]
                    while k < len(self.funding) and self.funding[k][0] <= ts:
                        yield self.funding[k][2]
                        k += 1
                    o, h, low, close = c.bar(r)
                    if j > 0 and i not in paths:
                        paths[i] = bar_path(o, h, low, close, self.desk.account.path_bias(c.symbol))
                    yield LastTrade(venue, c.symbol, ts, o if j == 0 else paths[i][j], ZERO)
            for i in due:
                rows[i] += 1
                if rows[i] == len(self.series[i].ts):
                    yield self._ended(venue, self.series[i].symbol, t0 + self.series[i].period_ms)
        yield from (f[2] for f in self.funding[k:])

    @staticmethod
    def _ended(venue: str, symbol: str, end_ms: int) -> FeedStatus:
        """Stale from the last bar's close on: no price exists after it."""
        when = datetime.fromtimestamp(end_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")
        reason = f"recorded data ended {when} UTC; no fills or orders after it"
        return FeedStatus(venue, symbol, end_ms - 1, stale=True, reason=reason)

    def play_until(self, end_ms: int) -> None:
        """Feed every input stamped before ``end_ms``."""
        while True:
            if self.pending is None:
                self.pending = next(self.stream, None)
                if self.pending is None:
                    return
            if self.pending.ts_ms >= end_ms:
                return
            self.desk.feed(self.pending)
            self.pending = None

    def play_until_event(self, wanted: type, end_ms: int) -> Any:
        """Feed inputs until one causes a ``wanted`` event (returned); None at ``end_ms``."""
        while True:
            if self.pending is None:
                self.pending = next(self.stream, None)
                if self.pending is None:
                    return None
            if self.pending.ts_ms >= end_ms:
                return None
            events = self.desk.feed(self.pending)
            self.pending = None
            hit = next((e for e in events if isinstance(e, wanted)), None)
            if hit is not None:
                return hit


def resume_ms(desk: DeskSession, recorded: Any, symbols: list[str], first_ms: int) -> int:
    """Where a replay starts: its first input, or on a resumed account its clock.

    A resumed account must not go back in time: the recording restarts at its first bar (or
    message) at or after the account's last event; a recording that ends before is refused.
    """
    from adapters.replay import open_replay

    if not desk.resumed or desk.now_ms <= first_ms:
        return first_ms
    now = desk.now_ms
    if isinstance(recorded, MarketData):
        later = [int(t) for c in recorded.candles.values() for t in c.ts[c.ts >= now][:1]]
        end_ms = max(c.end_ms for c in recorded.candles.values())
    else:
        source = open_replay(recorded, venue=desk.book.exchange, progress=False, symbols=symbols)
        end_ms, later = 0, []
        for ns, _ in source.frames_with_inputs():
            end_ms = ns // 1_000_000
            if end_ms >= now:
                later = [end_ms]
                break
    if not later:
        raise InputError(
            f"account '{desk.options.account}' is at {ts_text(now)} UTC but the recording ends "
            f"{ts_text(end_ms)} UTC; replay a later recording or pass another --account"
        )
    start = min(later)
    desk.note(
        f"resuming the recording at {ts_text(start)} UTC (the account's clock is at "
        f"{ts_text(now)} UTC; earlier data is skipped)"
    )
    return start


def replay_inputs(
    desk: DeskSession, recorded: Any, symbols: list[str], start_ms: int
) -> Iterator[Any]:
    """The recorded inputs from ``start_ms`` on, lazily (a candle bar's path is chosen from the
    account as it is when the bar's open has been played)."""
    from adapters.replay import open_replay

    if isinstance(recorded, MarketData):
        return Player(desk, recorded, start_ms, symbols).stream
    source = open_replay(recorded, venue=desk.book.exchange, progress=False, symbols=symbols)
    return (
        inp
        for ns, inputs in source.frames_with_inputs()
        if ns // 1_000_000 >= start_ms
        for inp in inputs
    )


def replay_feed(
    desk: DeskSession, recorded: Any, symbols: list[str], start_ms: int, clock: ReplayClock
) -> Any:
    """The recorded inputs from ``start_ms`` on, as an async stream driven by the desk's clock."""
    return clock.play(as_async(replay_inputs(desk, recorded, symbols, start_ms)))


def replay_notes(recorded: Any, symbols: list[str]) -> list[str]:
    """What stands in for what, in the words of `microfut replay` (same mark rule)."""
    if isinstance(recorded, MarketData):
        return candle_notes(recorded, [s for s in symbols if s in recorded.candles])
    return capture_notes(recorded.name)


def replay_clock(recorded: Any, speed: float) -> ReplayClock:
    """The replay's clock; ``--speed 0`` starts it paused; ``step`` counts candle bars."""

    bar_ms = 60_000
    if isinstance(recorded, MarketData):
        bar_ms = min(c.period_ms for c in recorded.candles.values())
    return ReplayClock(speed, bar_ms, paused=speed == 0)


def symbol_names(wanted: list[str] | None) -> list[str]:
    """The names ``--symbols`` gives, repeated or comma-separated (BTC,ETH)."""
    return [n.strip() for w in (wanted or []) for n in w.split(",") if n.strip()]


def desk_symbols(book: SpecBook, wanted: list[str] | None) -> list[str]:
    """The symbols a desk follows: as asked (BTC, ETH, venue ids...), else BTC and ETH."""
    names = symbol_names(wanted)
    if not names:
        names = [b for b in ("BTC", "ETH") if any(s.base == b for s in book.specs)]
    if not names and book.specs:
        names = [book.specs[0].symbol]
    if not names:
        raise InputError(f"no symbols to trade on {book.exchange}; pass --symbols")
    return [book.get(n).symbol for n in names]


def is_candles(path: Path) -> bool:
    from adapters.candles import list_series

    return any(sf.kind == "futures" for sf in list_series(path)) if path.exists() else False


def first_input(path: Path, exchange: str, symbols: list[str]) -> tuple[Any, int]:
    """The recording to replay (candles or raw frames) and the time of its first input."""
    from adapters.pricepath import discover
    from adapters.replay import open_replay

    if is_candles(path):
        data = discover(path, exchange, symbols)
        return data, min(int(c.ts[0]) for c in data.candles.values())
    source = open_replay(path, venue=exchange, progress=False, symbols=symbols)
    first_ns = next((ns for ns, _ in source.frames_with_inputs()), 0)
    return path, first_ns // 1_000_000


AUTO = "auto"  # --replay auto: the first data folder with candles for the symbols


def replay_path(replay: Path | None, data_dirs: Sequence[Path], symbols: list[str]) -> Path | None:
    """``--replay`` as given; ``auto`` (when no such file exists) is the first data folder
    holding candles for ``symbols``: configured folders, downloads, then the bundled month."""
    if replay is None or replay != Path(AUTO) or replay.exists():
        return replay
    from adapters.candles import default_root

    return default_root(data_dirs, symbols)
