"""``ctx.prices()``: the bars as a frame, built once per bar and safe to change."""

from __future__ import annotations

from decimal import Decimal as D

import numpy as np
import pandas as pd
import pytest

from sim.strategy.values import Bar
from sim.strategy.views import History

T0 = 1_746_374_400_000
FIELDS = ("ts_ms", "open", "high", "low", "close")


def bar(i: int) -> Bar:
    px = D(100) + i
    return Bar("BTC/USDT:USDT", "1m", T0 + i * 60_000, T0 + i * 60_000 + 59_999,
               px, px + D("0.5"), px - D("0.25"), px + D("0.1"))  # fmt: skip


def test_frame_holds_the_last_n_bars_with_utc_times() -> None:
    history = History("BTC/USDT:USDT")
    for i in range(300):  # past the first array growth
        history.add(bar(i))

    frame = history.frame(3)

    assert list(frame.columns) == ["ts_ms", "open", "high", "low", "close"]
    assert frame["ts_ms"].tolist() == [T0 + i * 60_000 for i in (297, 298, 299)]
    assert frame["close"].tolist() == [397.1, 398.1, 399.1]
    assert frame["low"].tolist() == [396.75, 397.75, 398.75]
    assert frame.index[-1] == pd.Timestamp("2025-05-04 20:59:00", tz="UTC")
    assert frame.index.name == "time"
    assert len(history.frame(None)) == len(history) == 300


def test_a_changed_frame_does_not_change_the_next_one_and_a_new_bar_shows() -> None:
    history = History("BTC/USDT:USDT")
    for i in range(5):
        history.add(bar(i))

    first = history.frame(2)
    first["close"] = 0.0
    first["ema"] = 1.0
    again = history.frame(2)
    history.add(bar(5))
    after = history.frame(2)

    assert again["close"].tolist() == [103.1, 104.1]
    assert "ema" not in again.columns
    assert after["close"].tolist() == [104.1, 105.1]


def test_ohlc_views_are_the_last_n_bars_read_only_and_keep_their_values() -> None:
    history = History("BTC/USDT:USDT")
    for i in range(256):  # exactly the first capacity: the next bar grows the arrays
        history.add(bar(i))

    last3 = history.ohlc(3)
    history.add(bar(256))
    after = history.ohlc(2)

    assert len(last3) == 3
    assert last3.ts_ms.tolist() == [T0 + i * 60_000 for i in (253, 254, 255)]
    assert last3.high.tolist() == [353.5, 354.5, 355.5]
    assert last3.close.tolist() == [353.1, 354.1, 355.1]  # the grown arrays did not move them
    assert after.low.tolist() == [354.75, 355.75]
    assert len(history.ohlc(None)) == 257
    with pytest.raises(ValueError, match="read-only"):
        last3.close[0] = 0.0


def test_a_preloaded_series_gives_the_same_bars_frames_and_arrays_as_one_filled_bar_by_bar() -> (
    None
):
    bars = [bar(i) for i in range(300)]
    filled, preloaded = History("BTC/USDT:USDT"), History("BTC/USDT:USDT")
    cols = [np.array([getattr(b, k) for b in bars], dtype=float) for k in FIELDS]
    preloaded.preload([cols[0].astype("int64"), *cols[1:]])

    for i, b in enumerate(bars[:280]):
        filled.add(b)
        preloaded.add(b)
        if i in (0, 19, 279):
            for n in (1, 20, None):
                pd.testing.assert_frame_equal(preloaded.frame(n), filled.frame(n))
                assert [a.tolist() for a in preloaded.ohlc(n)] == [
                    a.tolist() for a in filled.ohlc(n)
                ]
    changed = preloaded.frame(2)
    changed["close"] = 0.0
    assert preloaded.frame(2)["close"].tolist() == [378.1, 379.1]
    assert len(preloaded) == 280
    assert preloaded.last == bars[279]


def test_a_bar_off_the_preloaded_series_keeps_the_bars_so_far_and_goes_on() -> None:
    history = History("BTC/USDT:USDT")
    ts = np.array([T0 + i * 60_000 for i in range(5)], dtype="int64")
    history.preload([ts, *(np.full(5, 100.0) for _ in range(4))])
    history.add(bar(0))
    history.add(bar(3))  # not the recorded next bar (1)

    assert history.ts == [T0, T0 + 3 * 60_000]
    assert history.close == [100.0, 103.1]
    assert history.frame(None)["open"].tolist() == [100.0, 103.0]
