"""`record` says when a symbol goes stale and when it recovers (issue 17: it printed nothing).

The loopback exchange serves the real BTC capture and goes silent for 3 s after frame 100;
with ``feeds.stale_after_s`` = 1 the recording prints a "stale" line, then "recovered".
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.test_feed_cli import CLI, ROOT, _read_until


@pytest.fixture
def silent_serve(shared_data: Path, tmp_path: Path) -> Iterator[str]:
    env = {**os.environ, "MICROFUT_HOME": str(tmp_path / "serve-data")}
    proc = subprocess.Popen(
        [*CLI, "exchange", "serve", "--venue", "binanceusdm", "--data", str(shared_data),
         "--port", "0", "--fault", "silence@100:3"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        out = _read_until(proc, "base URL:")
        yield out.split("base URL:", 1)[1].split()[0]
    finally:
        proc.kill()
        proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def test_record_prints_stale_and_recovered_lines(
    run_cli, silent_serve: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MICROFUT_FEEDS__STALE_AFTER_S", "1")

    result = run_cli(
        "record", "-e", "binanceusdm", "--symbols", "BTC/USDT:USDT", "--endpoint", silent_serve,
        "--duration", "7s", "--out", str(tmp_path / "rec"), "--json",
    )  # fmt: skip

    assert result.exit_code == 0, result.stderr
    lines = json.loads(result.stdout)["feed_status"]
    assert len(lines) >= 2
    assert re.fullmatch(
        r"\d\d:\d\d:\d\d BTC/USDT:USDT stale: no data for 1 s "
        r"\(still recording; gap in the data\)",
        lines[0],
    )
    assert re.fullmatch(r"\d\d:\d\d:\d\d BTC/USDT:USDT recovered: data resumed", lines[1])
    for line in lines:
        assert line in result.stderr  # printed as it happened, not only in the result
