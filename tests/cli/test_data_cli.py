"""`microfut data download` / `data list` end to end against the loopback on 127.0.0.1."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from adapters.loopback.faults import Fault, Faults
from adapters.loopback.rest import RECORDED, RecordedVenue, rest_app, serve_rest_thread
from tests.cli.test_feed_cli import _read_until

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-c", "from sim.cli.main import main; main()"]
ETH = "ETH/USDT:USDT"
WEEK = ("--from", "2025-03-10", "--until", "2025-03-17")


@contextlib.contextmanager
def _serve_cli(shared_data: Path, home: Path, *extra: str) -> Iterator[str]:
    """`microfut exchange serve --venue binanceusdm --data <shared data>` as the issue runs it."""
    env = {**os.environ, "MICROFUT_HOME": str(home)}
    args = ["exchange", "serve", "--venue", "binanceusdm", "--data", str(shared_data), *extra]
    proc = subprocess.Popen(
        [*CLI, *args, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=env,
    )
    try:
        out = _read_until(proc, "base URL:")
        yield out.split("base URL:", 1)[1].split()[0]
    finally:
        proc.kill()
        proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def serve_cli(shared_data: Path, tmp_path: Path) -> Iterator[str]:
    with _serve_cli(shared_data, tmp_path / "serve-home") as url:
        yield url


def _loopback(shared_data: Path, *faults: Fault) -> Iterator[tuple[str, RecordedVenue]]:
    app = rest_app("binanceusdm", [shared_data], faults=Faults(list(faults)))
    with serve_rest_thread(app) as url:
        yield url, app[RECORDED]


@pytest.fixture
def loopback(shared_data: Path) -> Iterator[tuple[str, RecordedVenue]]:
    yield from _loopback(shared_data)


def _download(run_cli, url: str, *extra: str, symbols: str = ETH, tf: str = "1h"):
    args = ["data", "download", "--exchange", "binanceusdm", "--symbols", symbols]
    return run_cli(*args, "--timeframe", tf, *(extra or WEEK), "--endpoint", url, "--json")


def _listed(run_cli) -> dict:
    result = run_cli("data", "list", "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _recorded_rows(shared_data: Path, name: str, start: str, end: str) -> int:
    df = pd.read_feather(shared_data / "ohlcv/binance_usdm" / f"{name}.feather")
    return int(((df["date"] >= start) & (df["date"] < end)).sum())


def test_issue_check_download_a_week_then_list_it(run_cli, serve_cli, shared_data: Path) -> None:
    result = _download(run_cli, serve_cli)
    listed = _listed(run_cli)

    assert result.exit_code == 0, result.stderr
    rows = _recorded_rows(shared_data, "ETH_USDT_USDT-1h-futures", "2025-03-10", "2025-03-17")
    assert rows == 168 == 7 * 24  # the recorded week has no holes
    mine = [s for s in listed["series"] if s["source"] == "downloaded"]
    candles = next(s for s in mine if s["kind"] == "futures")
    assert (candles["venue"], candles["symbol"], candles["timeframe"]) == ("binanceusdm", ETH, "1h")
    assert (candles["rows"], candles["gaps"]) == (rows, 0)
    assert candles["first"] == "2025-03-10T00:00:00+00:00"
    assert candles["last"] == "2025-03-16T23:00:00+00:00"
    assert {(s["kind"], s["timeframe"], s["rows"]) for s in mine} == {
        ("futures", "1h", 168), ("mark", "8h", 21), ("funding_rate", "8h", 21)
    }  # fmt: skip
    assert Path(listed["data_home"]).is_absolute()
    # the recorded shared-data series are listed too
    assert any(s["source"] == "data dir" and s["rows"] == 719 for s in listed["series"])


def test_rerun_asks_the_venue_for_nothing_already_complete(run_cli, loopback) -> None:
    url, venue = loopback
    first = _download(run_cli, url)
    asked = dict(venue.requests)
    second = _download(run_cli, url)

    assert first.exit_code == second.exit_code == 0
    assert asked["/fapi/v1/klines"] == 1
    assert [s["requests"] for s in json.loads(second.stdout)["series"]] == [0, 0, 0]
    assert venue.requests["/fapi/v1/klines"] == 1
    assert venue.requests["/fapi/v1/markPriceKlines"] == asked["/fapi/v1/markPriceKlines"]
    assert venue.requests["/fapi/v1/fundingRate"] == asked["/fapi/v1/fundingRate"]


def test_network_failing_half_way_exits_4_and_a_rerun_resumes(
    run_cli, shared_data: Path, tmp_path: Path
) -> None:
    span = ("--from", "2025-05-05", "--until", "2025-05-08")  # 4320 1m bars: 5 pages
    for url, venue in _loopback(shared_data, Fault("cut", 3)):
        cut = _download(run_cli, url, *span, tf="1m")
        kept = pd.read_parquet(next(tmp_path.rglob("ETH_USDT_USDT-1m-futures.parquet")))
        before = venue.requests["/fapi/v1/klines"]
        resumed = _download(run_cli, url, *span, tf="1m")
        resumed_pages = venue.requests["/fapi/v1/klines"] - before

    assert cut.exit_code == 4
    assert cut.stderr.strip().count("\n") == 0
    assert "run the same command again" in cut.stderr
    assert len(kept) == 2000  # two whole pages, nothing half-written
    assert resumed.exit_code == 0, resumed.stderr
    assert resumed_pages == 3
    path = next(tmp_path.rglob("ETH_USDT_USDT-1m-futures.parquet"))
    got = pd.read_parquet(path)
    want = pd.read_feather(shared_data / "ohlcv/binance_usdm/ETH_USDT_USDT-1m-futures.feather")
    want = want[(want["date"] >= "2025-05-05") & (want["date"] < "2025-05-08")]
    assert len(got) == len(want) == 4320
    assert got["close"].tolist() == want["close"].tolist()


def test_exchange_serve_cut_fault_then_rerun(run_cli, shared_data: Path, tmp_path: Path) -> None:
    span = ("--from", "2025-05-05", "--until", "2025-05-06")  # 1440 1m bars: 2 pages
    with _serve_cli(shared_data, tmp_path / "serve-home", "--fault", "cut@2") as url:
        cut = _download(run_cli, url, *span, tf="1m")
        rerun = _download(run_cli, url, *span, tf="1m")

    assert cut.exit_code == 4
    assert "network failure while downloading ETH/USDT:USDT 1m trade candles" in cut.stderr
    series = json.loads(rerun.stdout)["series"]
    assert rerun.exit_code == 0
    assert (series[0]["rows"], series[0]["new_rows"], series[0]["requests"]) == (1440, 440, 1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--exchange", "binanceusdx"), "unknown exchange 'binanceusdx'"),
        (("--symbols", "DOGE/USDT:USDT"), "has no market 'DOGE/USDT:USDT'"),
        (("--timeframe", "7m"), "has no '7m' candles"),
        (("--from", "2025-03-17", "--until", "2025-03-10"), "is not before --until"),
        (("--from", "2025-17-03"), "--from must be a date"),
        (("--from", "2024-01-01", "--until", "2024-01-08"), "has no ETH/USDT:USDT 1h trade"),
        (("--symbols", "BTC/USDT:USDT-220325"), "Invalid symbol"),  # the venue's error payload
    ],
)
def test_bad_input_is_one_line_and_exit_2(run_cli, loopback, args, message) -> None:
    url, _ = loopback
    opts = {"--exchange": "binanceusdm", "--symbols": ETH, "--timeframe": "1h",
            "--from": WEEK[1], "--until": WEEK[3]}  # fmt: skip
    for flag, value in zip(args[::2], args[1::2], strict=True):
        opts[flag] = value
    flat = [x for kv in opts.items() for x in kv]

    result = run_cli("data", "download", *flat, "--endpoint", url)

    assert result.exit_code == 2, result.stderr
    assert message in result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_endpoint_exits_4(run_cli) -> None:
    result = _download(run_cli, "http://127.0.0.1:9")
    assert result.exit_code == 4
    assert result.stderr.strip().count("\n") == 0


def test_list_says_where_the_data_home_is(run_cli) -> None:
    result = run_cli("data", "list")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("data home: ")
    assert "ETH/USDT:USDT" in result.stdout  # the shared data folder's series


def test_gaps_count_the_missing_bars() -> None:
    from sim.cli.data_cmd import count_gaps

    minute = 60_000
    assert count_gaps([0, minute, 4 * minute, 5 * minute, 7 * minute], minute) == 3  # 2,3 and 6
    assert count_gaps([0, 28_800_001, 57_599_999, 86_400_000], 28_800_000) == 0  # funding jitter
    assert count_gaps([0], minute) == 0


def test_bybit_download_warns_when_no_risk_limit_tiers_are_served(
    run_cli, shared_data: Path
) -> None:
    # wire_test_candles: the loopback serves the recorded *Binance* candles under Bybit's routes,
    # only to drive the Bybit code path end to end; they are not Bybit data.
    app = rest_app("bybit", [shared_data], wire_test_candles=True)
    with serve_rest_thread(app) as url:
        args = ["data", "download", "--exchange", "bybit", "--symbols", ETH, *WEEK]
        result = run_cli(*args, "--endpoint", url)

    assert result.exit_code == 0, result.stderr
    assert "168" in result.stdout
    assert "risk-limit" in result.stderr  # not recorded: a warning, the candles are kept


def test_list_shows_a_damaged_download_without_hiding_the_rest(run_cli, tmp_path: Path) -> None:
    bad = tmp_path / "data" / "downloads" / "binanceusdm" / "ETH_USDT_USDT-1h-futures.parquet"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"PAR1 cut short")

    result = run_cli("data", "list", "--json")

    assert result.exit_code == 0, result.stderr
    series = json.loads(result.stdout)["series"]
    damaged = [s for s in series if s["source"] == "downloaded"]
    assert len(damaged) == 1
    assert damaged[0]["rows"] == 0
    assert str(bad) in damaged[0]["error"]
    # the rest stays listed: the bundled sample (shipped with the package, always there) keeps
    # its ETH 1h month of 719 bars, whatever the data folders hold
    assert any(
        s["source"] == "bundled" and s["symbol"] == "ETH/USDT:USDT" and s["rows"] == 719
        for s in series
    )
