"""`adapters/download.py` with the real ccxt classes against the loopback on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from adapters import download as dl
from adapters.exchanges import make_exchange
from adapters.loopback.faults import Fault, Faults
from adapters.loopback.rest import RECORDED, RecordedVenue, rest_app, serve_rest_thread
from adapters.series_store import merge_ranges, missing_ranges, read_series
from sim.errors import DataError, FeedError, InputError

MAR10 = dl.parse_when("2025-03-10", "--from")
MAR17 = dl.parse_when("2025-03-17", "--until")
MAY05 = dl.parse_when("2025-05-05", "--from")
HOUR = 3_600_000
ETH = "ETH/USDT:USDT"


class Venue:
    """A loopback REST server and a ccxt instance pointed at it."""

    def __init__(self, url: str, recorded: RecordedVenue, venue: str) -> None:
        self.url = url
        self.recorded = recorded
        self.ex = make_exchange(venue, endpoint=url)
        dl.load_markets(self.ex, venue)

    def history_requests(self) -> int:
        return self.recorded.history_requests


def _serve(venue: str, data: Path, **options) -> Iterator[Venue]:
    app = rest_app(venue, [data], **options)
    with serve_rest_thread(app) as url:
        yield Venue(url, app[RECORDED], venue)


@pytest.fixture
def binance(shared_data: Path) -> Iterator[Venue]:
    yield from _serve("binanceusdm", shared_data)


def _recorded(shared_data: Path, name: str, start: int, end: int) -> pd.DataFrame:
    df = pd.read_feather(shared_data / "ohlcv/binance_usdm" / f"{name}.feather")
    df["ts_ms"] = df["date"].dt.as_unit("ms").astype("int64")
    return df[(df["ts_ms"] >= start) & (df["ts_ms"] < end)].reset_index(drop=True)


def _jobs(v: Venue, tf: str, start: int, end: int, root: Path, venue: str = "binanceusdm"):
    return dl.plan(v.ex, venue, ETH, tf, start, end, root)


def test_week_of_eth_1h_equals_the_recorded_file(
    binance: Venue, shared_data: Path, tmp_path: Path
) -> None:
    jobs = _jobs(binance, "1h", MAR10, MAR17, tmp_path)
    results = [dl.run_job(binance.ex, j) for j in jobs]

    candles, mark, funding = results
    want = _recorded(shared_data, "ETH_USDT_USDT-1h-futures", MAR10, MAR17)
    assert len(want) == 168 == 7 * 24  # the recorded week has no holes
    assert (candles.rows, candles.requests) == (168, 1)
    assert (mark.kind, mark.timeframe, mark.rows) == ("mark", "8h", 21)
    assert (funding.kind, funding.timeframe, funding.rows) == ("funding_rate", "8h", 21)
    got = pd.read_parquet(candles.path)
    assert str(got["date"].dtype) == "datetime64[ms, UTC]"
    cols = ["open", "high", "low", "close", "volume"]
    assert got[cols].equals(want[cols])
    assert got["date"].dt.as_unit("ms").astype("int64").tolist() == want["ts_ms"].tolist()
    rates = pd.read_parquet(funding.path)
    want_rates = _recorded(shared_data, "ETH_USDT_USDT-8h-funding_rate", MAR10, MAR17)
    assert list(rates.columns) == ["date", "open"]
    assert rates["open"].tolist() == want_rates["open"].tolist()
    assert pq.read_metadata(candles.path).row_group(0).column(0).compression == "ZSTD"
    assert candles.path == tmp_path / "binanceusdm" / "ETH_USDT_USDT-1h-futures.parquet"


def test_rerun_is_incremental(binance: Venue, tmp_path: Path) -> None:
    for j in _jobs(binance, "1h", MAR10, MAR17, tmp_path):
        dl.run_job(binance.ex, j)
    asked = binance.history_requests()

    again = [dl.run_job(binance.ex, j) for j in _jobs(binance, "1h", MAR10, MAR17, tmp_path)]
    after_again = binance.history_requests()
    # one more day: only that day is asked for, from where the file ended
    longer = _jobs(binance, "1h", MAR10, MAR17 + 24 * HOUR, tmp_path)
    grown = dl.run_job(binance.ex, longer[0])

    assert asked == 3
    assert [r.requests for r in again] == [0, 0, 0]
    assert after_again == asked  # no request reached the venue
    assert (grown.requests, grown.new_rows, grown.rows) == (1, 24, 192)
    assert longer[0].windows(read_series(longer[0].path, "futures").covered) == []


def test_failure_half_way_keeps_pages_and_resume_matches_uninterrupted(
    shared_data: Path, tmp_path: Path
) -> None:
    end = MAY05 + 5 * 1000 * 60_000  # five pages of 1m candles
    clean_root, cut_root = tmp_path / "clean", tmp_path / "cut"
    for v in _serve("binanceusdm", shared_data):
        clean = dl.run_job(v.ex, _jobs(v, "1m", MAY05, end, clean_root)[0])
    for v in _serve("binanceusdm", shared_data, faults=Faults([Fault("cut", 3)])):
        job = _jobs(v, "1m", MAY05, end, cut_root)[0]
        with pytest.raises(FeedError, match="network failure"):
            dl.run_job(v.ex, job)
        kept = read_series(job.path, "futures")
        before = v.history_requests()
        resumed = dl.run_job(v.ex, job)
        resumed_requests = v.history_requests() - before

    assert clean.rows == 5000
    assert len(kept.frame) == 2000  # the two pages before the cut, nothing half-written
    assert kept.covered == [(MAY05, MAY05 + 2000 * 60_000)]
    assert resumed_requests == 3  # only the rest
    assert (resumed.rows, resumed.new_rows) == (5000, 3000)
    assert pd.read_parquet(job.path).equals(pd.read_parquet(clean.path))
    assert not list(cut_root.rglob("*.tmp"))  # no temp file left behind


def test_a_damaged_file_is_a_one_line_data_error(tmp_path: Path) -> None:
    path = tmp_path / "binanceusdm" / "ETH_USDT_USDT-1h-futures.parquet"
    path.parent.mkdir()
    path.write_bytes(b"PAR1 truncated")
    with pytest.raises(DataError, match="delete it and download again"):
        read_series(path, "futures")


def test_bybit_wire_format_and_paging(shared_data: Path, tmp_path: Path) -> None:
    # The loopback serves the recorded *Binance* candles under Bybit's routes here, only to test
    # Bybit's wire format (newest first) and its 200-row funding pages: not Bybit data.
    start, end = MAR10 - 3 * 86_400_000, MAR17 + 8 * 86_400_000  # 18 days: 432 h
    for v in _serve("bybit", shared_data, wire_test_candles=True):
        jobs = _jobs(v, "1h", start, end, tmp_path, "bybit")
        results = [dl.run_job(v.ex, j) for j in jobs]
        with pytest.raises(DataError, match="risk-limit"):  # none recorded: the route is absent
            dl.save_risk_limits(v.ex, "bybit", ETH, tmp_path)

    candles, mark, funding = results
    want = _recorded(shared_data, "ETH_USDT_USDT-1h-futures", start, end)
    want_rates = _recorded(shared_data, "ETH_USDT_USDT-8h-funding_rate", start, end)
    got = pd.read_parquet(candles.path)
    assert [j.limit for j in jobs] == [1000, 1000, 200]
    assert (candles.rows, candles.requests) == (len(want), 1) == (432, 1)
    assert got["close"].tolist() == want["close"].tolist()
    assert mark.timeframe == "4h"  # Bybit has no 8h bars
    assert mark.rows == 0  # and no 4h mark candles were recorded
    assert (funding.rows, funding.requests) == (54, 3)  # 200 h windows
    assert pd.read_parquet(funding.path)["open"].tolist() == want_rates["open"].tolist()
    assert not list(tmp_path.rglob("*risk_limit*"))


def test_bad_input_and_venue_errors(binance: Venue, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no market 'ETH/USDT'"):
        dl.check_symbols(binance.ex, "binanceusdm", ["ETH/USDT"])
    with pytest.raises(InputError, match="no '7m' candles"):
        dl.check_timeframe(binance.ex, "binanceusdm", "7m")
    with pytest.raises(InputError, match="--from must be a date"):
        dl.parse_when("10/03/2025", "--from")
    # the dated future is in the recorded exchangeInfo but has no history: Binance's error
    dated = dl.plan(binance.ex, "binanceusdm", "BTC/USDT:USDT-220325", "1h", MAR10, MAR17,
                    tmp_path)  # fmt: skip
    with pytest.raises(DataError, match="Invalid symbol"):
        dl.run_job(binance.ex, dated[0])
    assert dl.check_timeframe(binance.ex, "binanceusdm", "1h") == HOUR


def test_unreachable_endpoint_is_a_network_error() -> None:
    ex = make_exchange("binanceusdm", endpoint="http://127.0.0.1:9")
    with pytest.raises(FeedError):
        dl.load_markets(ex, "binanceusdm")


def test_ranges_and_windows() -> None:
    assert merge_ranges([(5, 9), (0, 3), (3, 4), (8, 12)]) == [(0, 4), (5, 12)]
    assert missing_ranges([(0, 4), (5, 12)], 2, 15) == [(4, 5), (12, 15)]
    assert missing_ranges([], 2, 15) == [(2, 15)]
    assert missing_ranges([(0, 20)], 2, 15) == []
    job = dl.SeriesJob("x", ETH, "futures", "1h", HOUR, 0, 2500 * HOUR, 1000, Path("f"))
    assert job.windows([]) == [(0, 1000 * HOUR), (1000 * HOUR, 2000 * HOUR),
                               (2000 * HOUR, 2500 * HOUR)]  # fmt: skip
    assert job.windows([(0, 1500 * HOUR)]) == [(1500 * HOUR, 2500 * HOUR)]
    assert dl.parse_when("2025-03-10T08:00+01:00", "--from") == MAR10 + 7 * HOUR


def test_plan_never_stores_an_unfinished_bar(binance: Venue, tmp_path: Path) -> None:
    now = MAR10 + 5 * HOUR + 1234
    jobs = dl.plan(binance.ex, "binanceusdm", ETH, "1h", MAR10, MAR17, tmp_path, now_ms=now)
    assert [(j.start_ms, j.end_ms) for j in jobs] == [
        (MAR10, MAR10 + 5 * HOUR),  # the 05:00 bar is still open
        (MAR10, MAR10),  # no 8h mark bar has closed yet
        (MAR10, now),
    ]


def test_bybit_risk_limit_tiers_are_saved_as_json(shared_data: Path, tmp_path: Path) -> None:
    # No Bybit tiers were recorded: this folder holds the example row of Bybit's v5 risk-limit
    # docs (as quoted in ccxt's bybit.py) to check the wire → ccxt → JSON path.
    extra = tmp_path / "extra"
    (extra / "bybit").mkdir(parents=True)
    example = {"id": 1, "symbol": "BTCUSD", "riskLimitValue": "150", "maintenanceMargin": "0.5",
               "initialMargin": "1", "isLowestRisk": 1, "maxLeverage": "100.00"}  # fmt: skip
    (extra / "bybit" / "v5_risk_limit_items.json").write_text(
        json.dumps({"linear": [], "inverse": [example]})
    )
    app = rest_app("bybit", [extra, shared_data])
    with serve_rest_thread(app) as url:
        ex = make_exchange("bybit", endpoint=url)
        dl.load_markets(ex, "bybit")
        path, n = dl.save_risk_limits(ex, "bybit", "BTC/USD:BTC", tmp_path / "home")

    saved = json.loads(path.read_text())
    tier = saved["BTC/USD:BTC"][0]
    assert n == 1
    assert path == tmp_path / "home" / "bybit" / "BTC_USD_BTC-risk_limit.json"
    assert (tier["minNotional"], tier["maxNotional"], tier["maxLeverage"]) == (0.0, 150.0, 100.0)
    assert tier["maintenanceMarginRate"] == 0.5
    assert tier["info"]["riskLimitValue"] == "150"
