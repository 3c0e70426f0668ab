"""Input sources (candles, captures, live) fed in time order into the session kernel.

A candle replay merges three streams by time: non-bar inputs (funding marks and rates,
priority 0), user commands (priority 1) and the bars' path points (``adapters/pricepath.py``).
At equal times funding comes first (a position open at the instant pays), then commands, then
prices. A tick replay (``TickReplay``) plays a tape of decoded price inputs the same way.

The candle replay (``sim/candle_replay.py``, re-exported here) skips bars by half-line bounds;
a tick replay (``TickReplay``) skips rows whose range cannot touch a working level
(``views.quiet_levels``) and plays the next row of every stream after any change. Neither ever
skips past a funding instant or an expiry; both end exactly where the row-by-row path would
have (``fast=False`` plays every row; property tests compare).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

import numpy as np

from sim.bus import Bus
from sim.engine.account import Account
from sim.engine.events import Event
from sim.engine.triggers import PriceTape, level_array
from sim.interrupt import DeferredInterrupt
from sim.session import RunStats, Session

__all__ = ["CandleReplay", "RunStats", "Runner", "TickReplay"]


class Runner:
    """Drive a :class:`~sim.session.Session` from an input source, one input at a time.

    Given a bare ``Account`` it opens a guard-free session over it (tests, benchmarks).
    ``interrupt`` (a :class:`~sim.interrupt.DeferredInterrupt`) makes a Ctrl-C land between
    two inputs, never inside one, so the account and the journal stop on the same input.
    """

    def __init__(
        self,
        target: Account | Session,
        bus: Bus | None = None,
        *,
        interrupt: DeferredInterrupt | None = None,
    ) -> None:
        self.session = target if isinstance(target, Session) else Session(target, bus=bus)
        self.account = self.session.account
        self.bus = self.session.bus
        self.stats = self.session.stats
        self.interrupt = interrupt

    def feed(self, inp: object) -> list[Event]:
        if self.interrupt is None:
            return self.session.feed(inp)
        with self.interrupt.one_input():
            return self.session.feed(inp)

    def run(self, inputs: Iterable[object]) -> RunStats:
        """Apply already time-ordered inputs (a live feed or a raw recording)."""
        for inp in inputs:
            self.feed(inp)
        return self.stats

    def run_merged(
        self,
        inputs: Iterable[object],
        timed: Sequence[tuple[int, int, object]],
        *,
        fast: bool = True,
        chunk: int = 50_000,
    ) -> RunStats:
        """Apply time-ordered market inputs with (ts, priority, command) items merged in.

        A command goes in before the first market input at or after its time. The inputs are
        read ``chunk`` at a time into a :class:`PriceTape` and played by :class:`TickReplay`,
        so quiet prices are skipped (``fast=False`` applies every one; the events are the same).
        """
        pending = sorted(timed, key=lambda x: (x[0], x[1]))
        k = 0
        buf: list[object] = []
        for inp in inputs:
            buf.append(inp)
            if len(buf) >= chunk:
                k = self._run_chunk(buf, pending, k, fast)
                buf = []
        if buf:
            k = self._run_chunk(buf, pending, k, fast)
        for _, _, cmd in pending[k:]:
            self.feed(cmd)
        return self.stats

    def _run_chunk(
        self, buf: list[object], pending: list[tuple[int, int, object]], k: int, fast: bool
    ) -> int:
        """Play one chunk with the commands due inside it; return the next pending command."""
        newest = max(int(x.ts_ms) for x in buf)  # type: ignore[attr-defined]
        j = k
        while j < len(pending) and pending[j][0] <= newest:
            j += 1
        TickReplay(self, PriceTape(buf), pending[k:j], fast=fast).run()
        return j


class TickReplay:
    """Replay a :class:`PriceTape` (optionally looped ``laps`` times) through a :class:`Runner`.

    Lap ``n`` replays the tape shifted by ``n × lap_ms`` (default: the tape's span plus 1 ms),
    for benchmarks that need more events than a capture holds. ``timed`` commands go in before
    the first row at or after their time, as in :meth:`Runner.run_merged`.
    """

    def __init__(
        self,
        runner: Runner,
        tape: PriceTape,
        timed: Sequence[tuple[int, int, object]] = (),
        *,
        fast: bool = True,
        laps: int = 1,
        lap_ms: int | None = None,
    ) -> None:
        self.runner = runner
        self.account = runner.account
        self.tape = tape
        self.timed = sorted(timed, key=lambda x: (x[0], x[1]))
        self.fast = fast
        self.laps = laps
        span = int(tape.ts_max[-1] - tape.ts.min()) + 1 if len(tape) else 1
        self.lap_ms = lap_ms if lap_ms is not None else span
        self._n_streams = tape.other + 1
        self._skipped_last: dict[int, int] = {}  # stream -> last skipped row (this lap)
        self._skipped_ms = -1  # newest time among the skipped rows (times can step back)
        self._fresh: set[int] = set()
        self._shift = 0

    def run(self) -> RunStats:
        k = 0
        for lap in range(self.laps):
            self._shift = lap * self.lap_ms
            # A new lap jumps back to the tape's first prices: play each stream's first row.
            self._fresh = set(range(self._n_streams))
            k = self._run_lap(k)
            self._catch_up()  # at this lap's times, before the next lap shifts them
        for _, _, cmd in self.timed[k:]:
            self._catch_up()
            self._feed(cmd)
        self._catch_up()
        return self.runner.stats

    def _run_lap(self, k: int) -> int:
        tape, timed, n = self.tape, self.timed, len(self.tape)
        g = 0
        while g < n:
            t_next = timed[k][0] if k < len(timed) else None
            if self.fast:
                g = self._skip(g, t_next)
                if g >= n:
                    break
            if t_next is not None and t_next <= int(tape.ts[g]) + self._shift:
                self._catch_up()
                self._feed(timed[k][2])
                k += 1
                continue
            self._catch_up()
            self._fresh.discard(int(tape.stream[g]))
            self._feed(self._row(g))
            self.runner.stats.ticks_played += 1
            g += 1
        return k

    def _row(self, g: int) -> object:
        inp = self.tape.inputs[g]
        return replace(inp, ts_ms=inp.ts_ms + self._shift) if self._shift else inp  # type: ignore[type-var, attr-defined]

    def _feed(self, inp: object) -> None:
        events = self.runner.feed(inp)
        if events or type(inp).__name__ not in PriceTape.PRICE_KINDS:
            self._fresh = set(range(self._n_streams))

    def _skip(self, g: int, t_next: int | None) -> int:
        tape = self.tape
        limit = len(tape)
        for t in (t_next, self.runner.session.next_due_ms()):
            if t is not None:
                at = int(np.searchsorted(tape.ts_max, t - self._shift, side="left"))
                limit = min(limit, at)
        for s in self._fresh:
            r = tape.index.next_row(s, g)
            if r is not None:
                limit = min(limit, r)
        if limit <= g:
            return g
        by_symbol = {s: level_array(self.account.quiet_levels(s)) for s in set(tape.symbols)}
        levels: list[np.ndarray | None] = [by_symbol[s] for s in tape.symbols]
        levels.append(None)  # non-price rows are always played
        stop = tape.index.first_touch(g, limit, levels)
        if stop > g:
            for s in range(tape.other):
                r = tape.index.next_row(s, g)
                if r is None or r >= stop:
                    continue
                rows = tape.index.rows[s]
                last = int(rows[int(np.searchsorted(rows, stop, side="left")) - 1])
                self._skipped_last[s] = last
            newest = int(tape.ts_max[stop - 1]) + self._shift  # rows before g: already seen
            self._skipped_ms = max(self._skipped_ms, newest)
            self.runner.stats.ticks_skipped += stop - g
        return stop

    def _catch_up(self) -> None:
        """Play the last skipped row of each stream, as the row-by-row run would have, and
        bring the clock to the newest skipped time."""
        if not self._skipped_last:
            return
        rows = sorted(self._skipped_last.values())
        self._skipped_last = {}
        for r in rows:
            self._feed(self._row(r))
        self.runner.session.observe_clock(self._skipped_ms)


from sim.candle_replay import CandleReplay  # noqa: E402  (re-exported; it imports Runner)
