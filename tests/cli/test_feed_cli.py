"""`microfut record` and `microfut exchange serve`, end to end on 127.0.0.1."""

from __future__ import annotations

import gzip
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.exchanges import make_exchange
from adapters.record import read_manifest
from adapters.replay import open_replay
from sim.engine.market import BookDepth, LastTrade

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-c", "from sim.cli.main import main; main()"]
CAPTURE = "binanceusdm/ws_raw_btcusdt_20240808.gz"


def _read_until(proc: subprocess.Popen, marker: str, timeout: float = 30) -> str:
    """The child's stdout up to and including the line holding ``marker`` (bounded in time)."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    seen = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            seen += chunk
            text = seen.decode()
            at = text.find(marker)
            if at >= 0 and "\n" in text[at:]:
                return text
    raise AssertionError(f"{marker!r} not printed; got {seen!r}")


@pytest.fixture
def serve(shared_data: Path, tmp_path: Path) -> Iterator[tuple[subprocess.Popen, str]]:
    """`microfut exchange serve` as a user runs it; yields (process, base URL)."""
    env = {**os.environ, "MICROFUT_HOME": str(tmp_path / "serve-data")}
    proc = subprocess.Popen(
        [
            *CLI,
            "exchange",
            "serve",
            "--venue",
            "binanceusdm",
            "--data",
            str(shared_data),
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    try:
        out = _read_until(proc, "base URL:")
        url = out.split("base URL:", 1)[1].split()[0]
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def test_exchange_serve_prints_its_url_serves_ccxt_and_stops_on_sigint(serve) -> None:
    proc, url = serve
    ex = make_exchange("binanceusdm", endpoint=url)

    markets = ex.load_markets()
    book = ex.fetch_order_book("BTC/USDT:USDT", 5)
    proc.send_signal(signal.SIGINT)
    code = proc.wait(timeout=15)

    assert url.startswith("http://127.0.0.1:")
    assert {"BTC/USDT:USDT", "ETH/USDT:USDT"} <= set(markets)
    assert len(book["bids"]) == 5
    assert book["bids"][0][0] < book["asks"][0][0]
    assert code == 0
    assert "loopback exchange stopped" in proc.stderr.read()


def _capture_lines(shared_data: Path, n: int) -> list[bytes]:
    """The first ``n`` stream lines of the capture (the REST snapshot line is not streamed)."""
    out = []
    with gzip.open(shared_data / CAPTURE, "rb") as f:
        for line in f:
            if b'"lastUpdateId"' not in line:
                out.append(line)
                if len(out) == n:
                    break
    return out


def test_record_from_the_loopback_replays_to_the_capture_events(
    serve, run_cli, shared_data: Path, tmp_path: Path
) -> None:
    _, url = serve

    result = run_cli(
        "record",
        "--exchange",
        "binanceusdm",
        "--symbols",
        "BTC/USDT:USDT",
        "--endpoint",
        url,
        "--duration",
        "2s",
        "--json",
    )

    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    folder = Path(doc["folder"])
    assert folder.parent == tmp_path / "data" / "recordings"
    assert folder.name.startswith("binanceusdm-")
    manifest = read_manifest(folder)
    assert manifest.closed is True
    assert manifest.frames == doc["frames"] > 50
    assert doc["stopped_by"] == "duration"
    assert doc["inputs"]["LastTrade"] > 0
    with gzip.open(folder / "frames-0001.jsonl.gz", "rt") as f:
        frames = [json.loads(line) for line in f]
    streamed = [fr for fr in frames if fr["raw"].startswith('{"stream"')]
    snapshots = [fr for fr in frames if '"lastUpdateId"' in fr["raw"]]
    # the recorded stream frames are the capture's, in order, from its first frame on
    slice_path = tmp_path / "binanceusdm" / "slice.gz"
    slice_path.parent.mkdir()
    with gzip.open(slice_path, "wb") as f:
        f.writelines(_capture_lines(shared_data, len(streamed)))
    expected = list(open_replay(slice_path))
    stream_only = tmp_path / "binanceusdm" / "recorded-stream.gz"
    with gzip.open(stream_only, "wt") as f:
        f.writelines(f"{fr['recv_ns']} {fr['raw']}\n" for fr in streamed)
    assert list(open_replay(stream_only)) == expected
    assert (expected[0].bid, expected[0].ask) == (Decimal("61800.20"), Decimal("61800.30"))
    # the REST depth snapshot is recorded too, so replaying the recording rebuilds the book
    got = list(open_replay(folder))
    assert len(snapshots) >= 1
    assert [e for e in got if isinstance(e, LastTrade)] == [
        e for e in expected if isinstance(e, LastTrade)
    ]
    assert any(isinstance(e, BookDepth) for e in got)


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("exchange", ["binanceusdm", "mexc"])
def test_record_without_network_is_one_line_feed_error(run_cli, exchange: str) -> None:
    url = f"http://127.0.0.1:{_dead_port()}"

    result = run_cli(
        "record",
        "--exchange",
        exchange,
        "--symbols",
        "BTC/USDT:USDT",
        "--endpoint",
        url,
        "--duration",
        "2s",
    )

    assert result.exit_code == 4
    assert "cannot" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--symbols", "BTC/USDT:USDT", "--duration", "soon"), "--duration must look like"),
        (("--symbols", "BTC/USDT", "--duration", "2s"), "not a futures symbol"),
        (("--symbols", "", "--duration", "2s"), "at least one symbol"),
    ],
)
def test_record_bad_values_exit_2(run_cli, args: tuple[str, ...], message: str) -> None:
    result = run_cli("record", "--exchange", "binanceusdm", *args)

    assert result.exit_code == 2
    assert message in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--venue", "kraken"), "the loopback serves"),
        (("--fault", "explode@3"), "is not kind@N"),
    ],
)
def test_serve_bad_values_exit_2(run_cli, shared_data: Path, args: tuple, message: str) -> None:
    result = run_cli("exchange", "serve", "--data", str(shared_data), *args)

    assert result.exit_code == 2
    assert message in result.stderr


def test_record_stops_cleanly_on_ctrl_c_and_closes_the_manifest(serve, tmp_path: Path) -> None:
    _, url = serve
    out = tmp_path / "rec"
    proc = subprocess.Popen(
        [
            *CLI,
            "record",
            "--exchange",
            "binanceusdm",
            "--symbols",
            "BTC/USDT:USDT",
            "--endpoint",
            url,
            "--out",
            str(out),
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 20
        while not (out / "manifest.json").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.5)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()

    assert proc.returncode == 0, stderr
    doc = json.loads(stdout)
    manifest = read_manifest(out)
    assert doc["stopped_by"] == "interrupt"
    assert manifest.closed is True
    assert manifest.frames == doc["frames"] > 0


def test_serve_on_a_taken_port_exits_2(run_cli, shared_data: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        result = run_cli(
            "exchange",
            "serve",
            "--venue",
            "bybit",
            "--data",
            str(shared_data / "bybit"),
            "--port",
            str(port),
        )

    assert result.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


def test_a_fresh_loopback_recording_replays_with_no_frame_skipped(
    serve, run_cli, tmp_path: Path
) -> None:
    """The REST depth snapshot is teed after frames received before it: none may be lost."""
    from adapters.replay import recorded_span

    _, url = serve
    out = tmp_path / "rec"
    recorded = run_cli(
        "record",
        "--exchange",
        "binanceusdm",
        "--symbols",
        "BTC/USDT:USDT",
        "--endpoint",
        url,
        "--duration",
        "3s",
        "--out",
        str(out),
        "--json",
    )
    assert recorded.exit_code == 0, recorded.stderr
    manifest = read_manifest(out)
    with gzip.open(out / "frames-0001.jsonl.gz", "rt") as f:
        stamps = [json.loads(line)["recv_ns"] for line in f]

    source = open_replay(out)
    got = list(source)

    assert stamps == sorted(stamps)
    assert (source.stats.frames, source.stats.skipped) == (manifest.frames, 0)
    books = [e for e in got if isinstance(e, BookDepth)]
    assert books
    assert books[-1].bids[0][0] < books[-1].asks[0][0]
    span = recorded_span(out)
    when = datetime.fromtimestamp((span.first_ms + span.end_ms) / 2000, tz=UTC)
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "time,symbol,side,type,contracts\n"
        f"{when:%Y-%m-%dT%H:%M:%S.%f}Z,BTC/USDT:USDT,buy,market,0.01\n",
        encoding="utf-8",
    )
    replayed = run_cli("replay", "--data", str(out), "--orders", str(orders), "--json")
    assert replayed.exit_code == 0, replayed.stderr
    assert "skipped" not in replayed.stderr
    assert Decimal(json.loads(replayed.stdout)["positions"][0]["contracts"]) == Decimal("0.01")
