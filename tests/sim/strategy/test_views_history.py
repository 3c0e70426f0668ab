"""``ctx.prices()``: the bars as a frame, built once per bar and safe to change."""

from __future__ import annotations

from decimal import Decimal as D

import pandas as pd
import pytest

from sim.strategy.values import Bar
from sim.strategy.views import History

T0 = 1_746_374_400_000


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
