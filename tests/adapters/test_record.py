"""Recorder: gzip JSON lines + manifest, rotation, and crash safety (a SIGKILL loses ≤ 1 s)."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from adapters.record import Recorder, read_manifest
from adapters.replay import open_replay
from sim.errors import DataError

TRADE = (
    '{"e":"trade","E":1723161256322,"T":1723161256322,"s":"BTCUSDT","t":5266583935,'
    '"p":"61800.30","q":"0.006","X":"MARKET","m":false}'
)


def _lines(folder: Path) -> list[dict]:
    out = []
    for f in sorted(folder.glob("frames-*.jsonl.gz")):
        with gzip.open(f, "rt") as fh:
            out += [json.loads(line) for line in fh]
    return out


def test_recorded_frames_come_back_verbatim_with_a_closed_manifest(tmp_path: Path) -> None:
    out = tmp_path / "rec"

    with Recorder(out, "binanceusdm", ["BTC/USDT:USDT"], "0.1.0") as rec:
        rec.write(1_000, "binanceusdm", TRADE)
        rec.write(2_000, "binanceusdm", '{"result":null,"id":1}')

    manifest = read_manifest(out)
    assert [(d["recv_ns"], d["venue"], d["raw"]) for d in _lines(out)] == [
        (1_000, "binanceusdm", TRADE),
        (2_000, "binanceusdm", '{"result":null,"id":1}'),
    ]
    assert manifest.closed is True
    assert manifest.frames == 2
    assert manifest.venue == "binanceusdm"
    assert manifest.symbols == ["BTC/USDT:USDT"]
    assert manifest.microfut_version == "0.1.0"
    assert manifest.files[0].name == "frames-0001.jsonl.gz"
    assert (manifest.files[0].first_recv_ns, manifest.files[0].last_recv_ns) == (1_000, 2_000)
    assert manifest.end_ms is not None
    assert manifest.end_ms >= manifest.start_ms
    doc = json.loads((out / "manifest.json").read_text())
    assert doc["start"].endswith("+00:00")


def test_a_frame_processed_after_a_later_one_keeps_file_order_and_its_own_time(
    tmp_path: Path,
) -> None:
    """The REST snapshot (received at 5 000) is teed before the buffered frame received at 3 000."""
    out = tmp_path / "rec"
    snapshot = '{"lastUpdateId":1,"E":1,"T":1,"bids":[],"asks":[]}'

    with Recorder(out, "binanceusdm", ["BTC/USDT:USDT"], "0.1.0") as rec:
        rec.write(1_000, "binanceusdm", TRADE)
        rec.write(5_000, "binanceusdm", snapshot)
        rec.write(3_000, "binanceusdm", TRADE)
        rec.write(6_000, "binanceusdm", TRADE)

    lines = _lines(out)
    assert [d["recv_ns"] for d in lines] == [1_000, 5_000, 5_000, 6_000]
    assert [d.get("recv_ns_orig") for d in lines] == [None, None, 3_000, None]
    assert [d["raw"] for d in lines] == [TRADE, snapshot, TRADE, TRADE]
    source = open_replay(out)
    list(source)
    assert (source.stats.frames, source.stats.skipped) == (4, 0)


def test_recording_rotates_by_size_and_replays_in_order(tmp_path: Path) -> None:
    out = tmp_path / "rec"
    rec = Recorder(out, "binanceusdm", ["BTC/USDT:USDT"], "0.1.0", rotate_bytes=1)

    for i in range(3):
        frame = json.loads(TRADE)
        frame["t"], frame["T"] = 100 + i, 1723161256322 + i
        rec.write(10 + i, "binanceusdm", json.dumps(frame))
        rec.flush()
    manifest = rec.close()

    assert [f.name for f in manifest.files] == [
        "frames-0001.jsonl.gz",
        "frames-0002.jsonl.gz",
        "frames-0003.jsonl.gz",
    ]
    assert [f.frames for f in manifest.files] == [1, 1, 1]
    trades = list(open_replay(out))
    assert [t.ts_ms for t in trades] == [1723161256322, 1723161256323, 1723161256324]
    assert str(trades[0].price) == "61800.30"


def test_recording_rotates_by_age(tmp_path: Path) -> None:
    rec = Recorder(tmp_path / "rec", "bybit", ["XRP/USDT:USDT"], "0.1.0", rotate_s=0.0)

    rec.write(1, "bybit", "{}")
    rec.flush()
    rec.write(2, "bybit", "{}")
    manifest = rec.close()

    assert len(manifest.files) == 2


def test_a_folder_that_already_holds_a_recording_is_refused(tmp_path: Path) -> None:
    Recorder(tmp_path, "bybit", [], "0.1.0").close()

    with pytest.raises(DataError, match="already holds a recording"):
        Recorder(tmp_path, "bybit", [], "0.1.0")


def test_frames_reach_the_disk_within_a_second_without_close(tmp_path: Path) -> None:
    rec = Recorder(tmp_path / "rec", "binanceusdm", [], "0.1.0", flush_s=0.2)

    rec.write(5, "binanceusdm", TRADE)
    deadline = time.monotonic() + 3
    while not _lines(tmp_path / "rec") and time.monotonic() < deadline:
        time.sleep(0.05)

    assert [d["recv_ns"] for d in _lines(tmp_path / "rec")] == [5]
    rec.close()


KILLED_RECORDER = textwrap.dedent(
    """
    import sys, time
    from adapters.record import Recorder
    rec = Recorder(sys.argv[1], "binanceusdm", ["BTC/USDT:USDT"], "0.1.0")
    print("ready", flush=True)
    while True:
        rec.write(time.time_ns(), "binanceusdm", sys.argv[2])
        time.sleep(0.005)
    """
)


def test_sigkilled_recorder_leaves_files_readable_up_to_the_last_second(tmp_path: Path) -> None:
    out = tmp_path / "rec"
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_RECORDER, str(out), TRADE],
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(2.5)
        killed_ns = time.time_ns()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()

    source = open_replay(out)
    trades = list(source)

    assert source.stats.skipped == 0
    assert len(trades) == source.stats.frames > 100
    assert {str(t.price) for t in trades} == {"61800.30"}
    assert source.stats.last_recv_ns is not None
    assert killed_ns - source.stats.last_recv_ns < 1.5e9  # ≤ the last second (+ scheduling)
    assert read_manifest(out).closed is False
