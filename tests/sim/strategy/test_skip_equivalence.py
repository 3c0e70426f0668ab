"""A strategy run that skips quiet bars' paths equals the run that plays every bar.

Real recorded BTC/ETH 1m candles, the example strategies with generated parameters and a test
strategy with cross positions on both symbols and trailing stops (``cross_trail.py``); the events,
the summary and the messages must be identical, and the skipping run must skip most paths.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.specs import SpecBook
from sim.strategy import loader
from sim.strategy.run import RunOptions, run_replay
from tests.sim.strategy.conftest import SLICE_FROM_MS

HOUR = 3_600_000
CROSS_TRAIL = Path(__file__).with_name("cross_trail.py")


@settings(
    max_examples=9, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.sampled_from(["breakout", "hedged_bag", str(CROSS_TRAIL)]),
    start_h=st.integers(0, 48),
    hours=st.integers(2, 8),
    data=st.data(),
)
def test_skipping_run_equals_every_bar_run(
    candles_dir: Path,
    book: SpecBook,
    options: RunOptions,
    name: str,
    start_h: int,
    hours: int,
    data: st.DataObject,
) -> None:
    loaded = loader.load(name)
    overrides = (
        {"lookback": data.draw(st.sampled_from([5, 10, 30])),
         "reward": data.draw(st.sampled_from([D(1), D(2), D(3)]))}
        if name == "breakout"
        else {}
    )  # fmt: skip
    since = SLICE_FROM_MS + start_h * HOUR
    runs = [
        run_replay(
            loaded,
            overrides,
            replace(options, db=None, every_bar=every),
            book,
            candles_dir,
            since_ms=since,
            until_ms=since + hours * HOUR,
        )
        for every in (False, True)
    ]

    fast, full = runs
    assert fast.events == full.events
    assert fast.summary == full.summary
    assert fast.messages == full.messages
    assert fast.bars == full.bars
    assert full.paths_skipped == 0
    assert fast.paths_skipped > fast.bars // 2  # most bars touch nothing
