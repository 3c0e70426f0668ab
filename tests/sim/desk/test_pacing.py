"""The replay's clock: paused, stepping whole bars, paced at ×speed; inputs never altered."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from sim.desk.pacing import ReplayClock, as_async
from sim.engine.market import LastTrade
from sim.errors import InputError

T0 = 1_699_999_980_000  # 2023-11-14 22:13 UTC, on the minute like a candle
BAR = 60_000


def synthetic_points(bars: int) -> list[LastTrade]:
    """Four path points per 1m bar, as the candle player sends them."""
    return [
        LastTrade("binanceusdm", "BTC/USDT:USDT", T0 + b * BAR + off, Decimal(100 + b), Decimal(1))
        for b in range(bars)
        for off in (0, BAR // 4, BAR // 2, BAR - 1)
    ]


async def test_paused_clock_lets_through_exactly_the_stepped_bars() -> None:
    clock = ReplayClock(0, BAR, paused=True)
    got: list[int] = []

    async def consume() -> None:
        async for inp in clock.play(as_async(synthetic_points(5))):
            got.append(inp.ts_ms)

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.05)
    assert got == [T0]  # paused AT the first bar: its open is played, prices are known
    assert clock.next_ms == T0 + BAR // 4
    assert clock.step(Decimal(2)) == "replay steps 2 bar(s) of 1 min to 2023-11-14 22:15 UTC"
    await asyncio.sleep(0.05)
    assert got[-1] == T0 + 2 * BAR  # exactly two bars later: the open of bar 2
    assert len(got) == 9
    assert clock.command("step") == "replay steps 1 bar(s) of 1 min to 2023-11-14 22:16 UTC"
    await asyncio.sleep(0.05)
    assert got[-1] == T0 + 3 * BAR
    clock.set_speed(Decimal(1_000_000))
    clock.resume()
    await asyncio.wait_for(task, timeout=5)
    assert len(got) == 20


async def test_step_after_a_pause_mid_bar_goes_to_a_bar_open() -> None:
    clock = ReplayClock(1_000_000, BAR)
    got: list[int] = []
    points = synthetic_points(5)

    async def consume() -> None:
        async for inp in clock.play(as_async(points)):
            got.append(inp.ts_ms)
            if len(got) == 6:  # inside bar 1
                clock.pause()

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.05)
    assert got[-1] == T0 + BAR + BAR // 4
    clock.step(Decimal(2))
    await asyncio.sleep(0.05)
    assert got[-1] == T0 + 3 * BAR
    task.cancel()


async def test_pace_follows_data_time_at_speed() -> None:
    clock = ReplayClock(600, BAR)  # 1 minute of data in 0.1 s
    loop = asyncio.get_running_loop()
    started = loop.time()

    async def consume() -> int:
        return len([inp async for inp in clock.play(as_async(synthetic_points(2)))])

    n = await asyncio.wait_for(consume(), timeout=5)

    assert n == 8
    assert 0.15 <= loop.time() - started < 1.0  # 2 min - 1 ms of data at ×600 ≈ 0.2 s


def test_step_needs_a_pause_and_speed_needs_a_pace() -> None:
    clock = ReplayClock(60, BAR)

    with pytest.raises(InputError, match="step advances a paused replay; type pause first"):
        clock.step(Decimal(1))
    with pytest.raises(InputError, match="speed needs a pace above 0"):
        clock.set_speed(Decimal(0))
    assert clock.pause() == "replay paused; type resume, step N or speed N"
    assert clock.step(Decimal(1)) == "replay has no data yet to step through"
    assert clock.pause().startswith("replay already paused")
    with pytest.raises(InputError, match="whole number of bars"):
        clock.step(Decimal(0))
