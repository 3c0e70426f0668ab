"""Corrupt data files through the real CLI: candle files stop with one line (exit 2); raw
captures skip the damage, count and log it, and replay the rest.

The corrupt files are real recorded data cut and damaged in tmp_path (never in the repo):
the first hour of the BTC 1m CSV and the first frames of the BTC websocket capture.
"""

from __future__ import annotations

import gzip
import json
import logging
from decimal import Decimal as D
from pathlib import Path

import pytest

HEADER = (
    "time,symbol,side,type,contracts,price,trigger_price,callback_pct,reduce_only,leverage,"
    "margin_mode,stop_loss,take_profit,tag\n"
)
CANDLES = "ohlcv/binance_usdm/BTC_USDT_USDT-1m-futures.csv"
CAPTURE = "binanceusdm/ws_raw_btcusdt_20240808.gz"
ROW_11 = "1746373320000"  # the 10th bar (file row 11) of the recorded BTC 1m series


def _orders(tmp_path: Path, time: str) -> Path:
    path = tmp_path / "orders.csv"
    path.write_text(
        HEADER + f"{time},BTC/USDT:USDT,buy,market,0.01,,,,,10,isolated,,,\n", encoding="utf-8"
    )
    return path


def _candle_file(shared_data: Path, folder: Path, damage: tuple[str, str] | None) -> Path:
    lines = (shared_data / CANDLES).read_text(encoding="utf-8").splitlines(keepends=True)[:61]
    if damage is not None:
        old, new = damage
        lines = [ln.replace(old, new, 1) if ln.startswith(ROW_11) else ln for ln in lines]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "BTC_USDT_USDT-1m-futures.csv"
    path.write_text("".join(lines), encoding="utf-8")
    return path


def _one_line_error(stderr: str) -> str:
    text = stderr.strip()
    assert "\n" not in text, text
    assert "Traceback" not in text
    return text


def test_the_undamaged_hour_replays(run_cli, shared_data: Path, tmp_path: Path) -> None:
    data = _candle_file(shared_data, tmp_path / "good", None)

    result = run_cli(
        "replay",
        "--data",
        str(data),
        "--orders",
        str(_orders(tmp_path, "2025-05-04T15:40:00Z")),
        "--json",
    )

    assert result.exit_code == 0, result.stderr
    assert D(json.loads(result.stdout)["positions"][0]["contracts"]) == D("0.01")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (("95459.2,95467.2", "abc,95467.2"), "row 11: open is not a number (open='abc')"),
        (("95459.2,95467.2", "NaN,95467.2"), "row 11: price is missing, NaN or not positive"),
        (("95459.2,95467.2", "-95459.2,95467.2"), "row 11: price is missing, NaN or not positive"),
        ((ROW_11, "1746372000000"), "row 11: timestamp does not increase"),
        ((",95467.1,16.223", ""), "row 11: price is missing"),  # a row cut short
    ],
    ids=["text", "nan", "negative", "out_of_order", "short_row"],
)
def test_damaged_candle_row_is_one_line_exit_2(
    run_cli, shared_data: Path, tmp_path: Path, damage: tuple[str, str], message: str
) -> None:
    data = _candle_file(shared_data, tmp_path / "bad", damage)

    result = run_cli(
        "replay", "--data", str(data), "--orders", str(_orders(tmp_path, "2025-05-04T15:40:00Z"))
    )

    assert result.exit_code == 2
    text = _one_line_error(result.stderr)
    assert "BTC_USDT_USDT-1m-futures.csv" in text
    assert message in text


def test_truncated_candle_file_is_one_line_exit_2(
    run_cli, shared_data: Path, tmp_path: Path
) -> None:
    data = _candle_file(shared_data, tmp_path / "cut", None)
    text = data.read_text(encoding="utf-8")
    data.write_text(text[: len(text) // 2].rsplit(",", 3)[0], encoding="utf-8")

    result = run_cli(
        "replay", "--data", str(data), "--orders", str(_orders(tmp_path, "2025-05-04T15:40:00Z"))
    )

    assert result.exit_code == 2
    assert "BTC_USDT_USDT-1m-futures.csv row" in _one_line_error(result.stderr)


# -- raw captures -------------------------------------------------------------------------------
def _capture_lines(shared_data: Path, n: int) -> list[bytes]:
    with gzip.open(shared_data / CAPTURE, "rb") as f:
        return [next(f) for _ in range(n)]


def _write_capture(folder: Path, lines: list[bytes]) -> Path:
    (folder / "binanceusdm").mkdir(parents=True, exist_ok=True)
    path = folder / "binanceusdm" / "synthetic_damaged.gz"
    with gzip.open(path, "wb") as f:
        f.writelines(lines)
    return path


def _replay(run_cli, capture: Path, orders: Path) -> dict:
    result = run_cli("replay", "--data", str(capture), "--orders", str(orders), "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _damaged_copies(lines: list[bytes], after: bytes) -> list[bytes]:
    """A garbled line, a NaN and a negative trade price, and a receipt time going back.

    The damaged trades carry the receipt time of ``after``, the line they follow.
    """
    trade = next(ln for ln in lines if b"@trade" in ln)
    _, _, body = trade.partition(b" ")
    stamp = after.partition(b" ")[0]
    frame = json.loads(body)
    nan = dict(frame, data=dict(frame["data"], p="NaN"))
    neg = dict(frame, data=dict(frame["data"], p="-1"))
    return [
        b'{"stream":"btcusdt@trade","data":{"e":"trade","p":\n',
        stamp + b" " + json.dumps(nan).encode() + b"\n",
        stamp + b" " + json.dumps(neg).encode() + b"\n",
        str(int(stamp) - 10**9).encode() + b" " + body,
    ]


def test_damaged_capture_frames_are_skipped_logged_and_change_nothing(
    run_cli, shared_data: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lines = _capture_lines(shared_data, 3000)
    orders = _orders(tmp_path, "2024-08-08T23:54:20Z")
    clean = _replay(run_cli, _write_capture(tmp_path / "clean", lines), orders)
    damaged = lines[:1500] + _damaged_copies(lines, lines[1499]) + lines[1500:]

    with caplog.at_level(logging.WARNING, logger="microfut.replay"):
        hurt = _replay(run_cli, _write_capture(tmp_path / "hurt", damaged), orders)

    assert hurt["balances"] == clean["balances"]
    assert hurt["positions"] == clean["positions"]
    assert hurt["stats"]["events"] == clean["stats"]["events"] > 0
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "skipped 4 frames (garbled 1, bad values 2, out of order 1)" in logged


def test_truncated_capture_replays_up_to_the_damage_and_logs_it(
    run_cli, shared_data: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    capture = _write_capture(tmp_path / "cut", _capture_lines(shared_data, 3000))
    data = capture.read_bytes()
    capture.write_bytes(data[: len(data) * 2 // 3])

    with caplog.at_level(logging.WARNING, logger="microfut.replay"):
        result = _replay(run_cli, capture, _orders(tmp_path, "2024-08-08T23:54:20Z"))

    assert D(result["positions"][0]["contracts"]) == D("0.01")  # the order before the cut filled
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "is truncated or corrupt after line" in logged
    assert "1 truncated files" in logged
