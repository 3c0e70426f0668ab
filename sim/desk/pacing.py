"""The replay's clock at the desk: pause, resume, speed N and step N bars.

``microfut trade --replay`` plays a recording into the desk at ×N data time. The trader drives
the clock with desk commands (``pause``, ``resume``, ``speed N``, ``step [N]``), so a recording
can be read bar by bar instead of racing to its end before anything can be typed. The clock
sits between the recorded inputs and the desk: it only decides *when* the next input goes in,
never changes one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sim.display import fmt
from sim.errors import InputError


def _when(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")


async def as_async(inputs: Iterable[Any]) -> AsyncIterator[Any]:
    """A plain iterator of inputs as an async one (pulled lazily, one at a time)."""
    for inp in inputs:
        yield inp


class ReplayClock:
    """When each recorded input reaches the desk: paused, stepping, or at ×speed data time.

    ``bar_ms`` is what ``step`` counts in: the candle period, or a minute on raw recordings.
    """

    def __init__(self, speed: float, bar_ms: int, *, paused: bool = False) -> None:
        self.speed = speed if speed > 0 else 1.0
        self.bar_ms = bar_ms
        self.paused = paused
        self.next_ms: int | None = None  # data time of the input waiting at the gate
        self.last_ms: int | None = None  # data time of the last input let through
        self._open_first = paused  # a paused start still plays the first instant (prices known)
        self._until: int | None = None  # paused: inputs up to this data time may go in
        self._anchor: tuple[float, int] | None = None
        self._wake: asyncio.Event | None = None

    # ---- commands (from the desk) -----------------------------------------------------------
    def command(self, word: str, value: Decimal | None = None) -> str:
        """Carry out ``pause``/``resume``/``speed N``/``step [N]``; the line to log."""
        if word == "pause":
            return self.pause()
        if word == "resume":
            return self.resume()
        if word == "speed":
            return self.set_speed(value)
        return self.step(Decimal(1) if value is None else value)

    def pause(self) -> str:
        if self.paused:
            return f"replay already paused{self._at()}; type resume or step N"
        self.paused, self._until = True, None
        self._open_first = False
        self._poke()
        return f"replay paused{self._at()}; type resume, step N or speed N"

    def resume(self) -> str:
        if not self.paused:
            return f"replay already running at ×{fmt(Decimal(str(self.speed)))}"
        self.paused, self._until, self._open_first = False, None, False
        self._poke()
        return f"replay resumed at ×{fmt(Decimal(str(self.speed)))}{self._at()}"

    def set_speed(self, value: Decimal | None) -> str:
        if value is None or value <= 0:
            raise InputError(
                f"speed needs a pace above 0 (× real time), was {value}; e.g. speed 60"
            )
        self.speed = float(value)
        self._poke()
        state = " (paused; type resume)" if self.paused else ""
        return f"replay speed ×{fmt(value)}{state}"

    def step(self, bars: Decimal) -> str:
        """Play exactly ``bars`` bars: up to and including the open of the bar ``bars`` later."""
        if not self.paused:
            raise InputError("step advances a paused replay; type pause first")
        if bars != bars.to_integral_value() or bars < 1:
            raise InputError(f"step takes a whole number of bars of 1 or more, was {bars}")
        base = self._until if self._until is not None else self._bar_start()
        if base is None:
            return "replay has no data yet to step through"
        self._until = base + int(bars) * self.bar_ms
        self._poke()
        return (f"replay steps {int(bars)} bar(s) of {self.bar_ms // 60_000} min to "
                f"{_when(self._until)} UTC")  # fmt: skip

    @property
    def stepping(self) -> bool:
        """True while a requested step is still being played (the next input is due)."""
        return (
            self.paused and self._until is not None and self.next_ms is not None
            and self.next_ms <= self._until
        )  # fmt: skip

    def _bar_start(self) -> int | None:
        """The open of the bar the desk is in (the next input's bar before anything played)."""
        at = self.last_ms if self.last_ms is not None else self.next_ms
        return None if at is None else at // self.bar_ms * self.bar_ms

    def _at(self) -> str:
        return "" if self.next_ms is None else f" at {_when(self.next_ms)} UTC"

    def _poke(self) -> None:
        """A command changed the clock: restart the pace from now, wake the gate."""
        self._anchor = None
        if self._wake is not None:
            self._wake.set()

    # ---- the stream -------------------------------------------------------------------------
    async def play(self, source: AsyncIterator[Any]) -> AsyncIterator[Any]:
        """``source`` as it should reach the desk: held while paused, paced at ×speed."""
        self._wake = asyncio.Event()
        n = 0
        async for inp in source:
            await self._gate(int(inp.ts_ms))
            self.last_ms = int(inp.ts_ms)
            n += 1
            if n % 200 == 0:
                await asyncio.sleep(0)
            yield inp

    async def _gate(self, ts: int) -> None:
        """Return when the input stamped ``ts`` may go in."""
        loop = asyncio.get_running_loop()
        assert self._wake is not None
        while True:
            self.next_ms = ts
            if self.paused:
                if self._open_first:
                    self._until, self._open_first = ts, False
                if self._until is not None and ts <= self._until:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            if self._anchor is None:
                self._anchor = (loop.time(), ts)
            due = self._anchor[0] + (ts - self._anchor[1]) / 1000 / self.speed - loop.time()
            if due <= 0:
                return
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), due)
