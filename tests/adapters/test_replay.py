"""Replay: recordings and the shared captures through the live decoders, paced or flat out."""

from __future__ import annotations

import asyncio
import gzip
import json
import time
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.record import Recorder
from adapters.replay import open_replay
from sim.engine.market import BookDepth, BookTop, LastTrade
from sim.errors import DataError, InputError

USDM = "binanceusdm/ws_raw_btcusdt_20240808.gz"


def _capture_lines(shared_data: Path, rel: str, n: int) -> list[bytes]:
    with gzip.open(shared_data / rel, "rb") as f:
        return [next(f) for _ in range(n)]


def _write_gz(path: Path, lines: list[bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wb") as f:
        f.writelines(lines)
    return path


@pytest.fixture
def usdm_slice(shared_data: Path, tmp_path: Path) -> Path:
    """The first 300 lines of the real BTCUSDT capture (holds the REST snapshot at line 55)."""
    lines = _capture_lines(shared_data, USDM, 300)
    return _write_gz(tmp_path / "binanceusdm" / "ws_raw_btcusdt_slice.gz", lines)


def test_capture_slice_gives_the_recorded_trades_tops_and_rebuilt_book(usdm_slice: Path) -> None:
    source = open_replay(usdm_slice)

    inputs = list(source)

    tops = [x for x in inputs if isinstance(x, BookTop)]
    trades = [x for x in inputs if isinstance(x, LastTrade)]
    depths = [x for x in inputs if isinstance(x, BookDepth)]
    assert source.kind == "capture"
    assert tops[0] == BookTop(
        "binanceusdm",
        "BTC/USDT:USDT",
        1723161256313,
        Decimal("61800.20"),
        Decimal("2.507"),
        Decimal("61800.30"),
        Decimal("2.510"),
    )  # line 2 of the capture (bookTicker u=5123107839020)
    assert (trades[0].ts_ms, trades[0].price, trades[0].qty, trades[0].side) == (
        1723161256322,
        Decimal("61800.30"),
        Decimal("0.006"),
        "buy",
    )
    # the book starts at the REST snapshot (line 55) and its first diff after it
    assert depths[0].ts_ms == 1723161256559
    assert depths[0].bids[0] == (Decimal("61800.20"), Decimal("2.890"))
    assert depths[0].asks[0] == (Decimal("61800.30"), Decimal("1.088"))
    assert len(depths[0].bids) == 20
    assert source.stats.frames == 300
    assert source.stats.skipped == 0


def test_coinm_capture_takes_its_venue_from_the_folder(shared_data: Path, tmp_path: Path) -> None:
    lines = _capture_lines(shared_data, "binancecoinm/ws_raw_btcusd_perp_20240808.gz", 50)
    path = _write_gz(tmp_path / "binancecoinm" / "slice.gz", lines)

    inputs = list(open_replay(path))

    assert inputs
    assert {(x.venue, x.symbol) for x in inputs} == {("binancecoinm", "BTC/USD:BTC")}


def test_bybit_jsonl_rebuilds_the_xrp_book(shared_data: Path) -> None:
    source = open_replay(shared_data / "bybit" / "ws_orderbook500_XRPUSDT_2024-12-01.jsonl")

    tops = [x for x in source if isinstance(x, BookTop)]

    assert source.kind == "bybit-jsonl"
    assert len(tops) == 50
    assert (tops[0].bid, tops[0].bid_qty, tops[0].ask, tops[0].ask_qty) == (
        Decimal("1.9531"),
        Decimal("6203"),
        Decimal("1.9532"),
        Decimal("10480"),
    )
    assert (tops[-1].ts_ms, tops[-1].bid, tops[-1].ask) == (
        1733011205490,
        Decimal("1.9537"),
        Decimal("1.9538"),
    )


def test_a_capture_outside_a_venue_folder_needs_the_venue(usdm_slice: Path, tmp_path: Path) -> None:
    moved = tmp_path / "elsewhere.gz"
    moved.write_bytes(usdm_slice.read_bytes())

    with pytest.raises(DataError, match="cannot tell which venue"):
        open_replay(moved)
    assert next(iter(open_replay(moved, venue="binanceusdm"))).venue == "binanceusdm"


def test_corrupt_lines_are_skipped_and_counted(shared_data: Path, tmp_path: Path) -> None:
    good = _capture_lines(shared_data, USDM, 5)  # depth, bookTicker, trade, bookTicker, ...
    stamp = int(good[2].split(b" ", 1)[0])
    trade = json.loads(good[2].split(b" ", 1)[1])
    nan = dict(trade, data=dict(trade["data"], p="NaN"))
    negative = dict(trade, data=dict(trade["data"], p="-1"))
    lines = [
        good[1],
        b"this is not json\n",
        f"{stamp} {json.dumps(nan)}\n".encode(),
        f"{stamp} {json.dumps(negative)}\n".encode(),
        f"{stamp - 10**9} {json.dumps(trade)}\n".encode(),  # receipt time goes backwards
        good[2],
    ]
    path = _write_gz(tmp_path / "binanceusdm" / "synthetic_corrupt.gz", lines)
    source = open_replay(path)

    inputs = list(source)

    assert [type(x).__name__ for x in inputs] == ["BookTop", "LastTrade"]
    assert (source.stats.garbled, source.stats.bad_values, source.stats.out_of_order) == (1, 2, 1)
    assert len(source.stats.messages) == 4


def test_an_older_recording_with_a_late_receipt_time_plays_every_frame_in_file_order(
    shared_data: Path, tmp_path: Path
) -> None:
    """Recordings made before the recorder kept recv_ns non-decreasing: nothing is dropped."""
    good = _capture_lines(shared_data, USDM, 5)
    stamps = [int(line.split(b" ", 1)[0]) for line in good]
    docs = [
        {"recv_ns": ns, "venue": "binanceusdm", "raw": line.split(b" ", 1)[1].decode().strip()}
        for ns, line in zip(stamps, good, strict=True)
    ]
    docs[3]["recv_ns"] = stamps[0] - 10**9  # stamped before the previous line
    folder = tmp_path / "rec"
    folder.mkdir()
    _write_gz(folder / "frames-0001.jsonl.gz", [(json.dumps(d) + "\n").encode() for d in docs])
    capture = _write_gz(tmp_path / "binanceusdm" / "synthetic_ok.gz", good)

    source = open_replay(folder)
    got = list(source)

    assert (source.stats.frames, source.stats.skipped, source.stats.late_frames) == (5, 0, 1)
    assert got == list(open_replay(capture))


def test_truncated_gzip_plays_up_to_the_damage(usdm_slice: Path, tmp_path: Path) -> None:
    data = usdm_slice.read_bytes()
    cut = tmp_path / "binanceusdm" / "synthetic_truncated.gz"
    cut.write_bytes(data[: len(data) // 2])
    source = open_replay(cut)

    inputs = list(source)

    assert source.stats.truncated_files == 1
    assert 0 < source.stats.frames < 300
    assert inputs


def test_unreadable_files_are_one_line_data_errors(tmp_path: Path) -> None:
    not_gzip = tmp_path / "synthetic_bad.gz"
    not_gzip.write_bytes(b"\x1f\x8b" + b"\x00" * 40)
    text = tmp_path / "synthetic_notes.txt"
    text.write_text("hello\n")
    candles = tmp_path / "BTC_USDT_USDT-1m-futures.csv"
    candles.write_text("timestamp_ms,open\n")

    with pytest.raises(DataError, match="cannot read"):
        open_replay(not_gzip)
    with pytest.raises(DataError, match="not a format replay reads"):
        open_replay(text)
    with pytest.raises(DataError, match="pricepath"):
        open_replay(candles)
    with pytest.raises(DataError, match="was not found"):
        open_replay(tmp_path / "missing.gz")
    with pytest.raises(DataError, match="no recording"):
        open_replay(tmp_path)


def test_a_recording_with_native_and_ccxt_frames_replays_both(
    shared_data: Path, tmp_path: Path
) -> None:
    line = _capture_lines(shared_data, USDM, 3)[2]
    stamp, raw = line.split(b" ", 1)
    ccxt_frame = {
        "ccxt": "trades",
        "symbol": "BTC/USDT:USDT",
        "data": [
            {
                "id": "1",
                "timestamp": 1723161256400,
                "symbol": "BTC/USDT:USDT",
                "side": "sell",
                "price": 61800.1,
                "amount": 0.01,
            }
        ],
    }
    with Recorder(tmp_path / "rec", "binanceusdm", ["BTC/USDT:USDT"], "0.1.0") as rec:
        rec.write(int(stamp), "binanceusdm", raw.decode().strip())
        rec.write(int(stamp) + 1, "mexc", json.dumps(ccxt_frame))

    inputs = list(open_replay(tmp_path / "rec"))

    assert [(x.venue, x.price, x.side) for x in inputs] == [
        ("binanceusdm", Decimal("61800.30"), "buy"),
        ("mexc", Decimal("61800.1"), "sell"),
    ]


def test_symbols_filter_keeps_only_the_named_markets(usdm_slice: Path) -> None:
    assert list(open_replay(usdm_slice, symbols=["ETH/USDT:USDT"])) == []
    assert list(open_replay(usdm_slice, symbols=["BTC/USDT:USDT"]))


async def test_paced_replay_follows_receipt_times_at_speed(tmp_path: Path) -> None:
    trade = (
        '{"e":"trade","E":1,"T":%d,"s":"BTCUSDT","t":%d,"p":"100.0","q":"1","X":"MARKET","m":true}'
    )
    lines = [f"{i * 100_000_000} {trade % (i + 1, i)}\n".encode() for i in range(6)]  # 0.5 s span
    path = _write_gz(tmp_path / "binanceusdm" / "synthetic_paced.gz", lines)

    async def play(speed: float | None) -> tuple[float, int]:
        started, n = time.monotonic(), 0
        async for _ in open_replay(path, speed=speed):
            n += 1
        return time.monotonic() - started, n

    paced, n_paced = await asyncio.wait_for(play(2.0), timeout=10)
    flat, n_flat = await asyncio.wait_for(play(None), timeout=10)

    assert n_paced == n_flat == 6
    assert 0.24 <= paced < 1.5  # 0.5 s of recording at ×2
    assert flat < 0.2
    with pytest.raises(InputError, match="speed"):
        open_replay(path, speed=-1)


def test_progress_bar_runs_without_a_terminal(usdm_slice: Path) -> None:
    source = open_replay(usdm_slice, progress=True)

    assert len(list(source)) == source.stats.inputs > 0


def test_a_recorded_depth_snapshot_naming_its_symbol_rebuilds_the_book(
    usdm_slice: Path, tmp_path: Path
) -> None:
    with gzip.open(usdm_slice, "rb") as f:
        lines = f.readlines()
    with Recorder(tmp_path / "rec", "binanceusdm", ["BTC/USDT:USDT"], "0.1.0") as rec:
        rec.write(1, "binanceusdm", '{"result":null,"id":1}')
        for line in lines:
            stamp, raw = line.split(b" ", 1)
            frame = json.loads(raw)
            if "lastUpdateId" in frame:  # a feed tees its REST snapshot with the symbol added
                frame["symbol"] = "BTCUSDT"
            rec.write(int(stamp), "binanceusdm", json.dumps(frame))

    from_recording = list(open_replay(tmp_path / "rec"))
    single_file = list(open_replay(tmp_path / "rec" / "frames-0001.jsonl.gz"))

    assert from_recording == list(open_replay(usdm_slice))
    assert single_file == from_recording
    assert any(isinstance(x, BookDepth) for x in from_recording)
