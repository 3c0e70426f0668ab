"""Web desk fixtures: an app over a replay of the recorded candles, and the real server."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

MAIN = "from sim.cli.main import main; main()"
URL = re.compile(r"microfut web: (http://\S+)")


def web_env(tmp_path: Path, shared: Path) -> dict[str, str]:
    """Environment that keeps the journal in tmp and reads specs from the recorded data."""
    home = tmp_path / "home"
    return {
        "MICROFUT_HOME": str(home),
        "MICROFUT_DATA__DIRS": f'["{shared}"]',
    }


@pytest.fixture
def replay_dir(shared_data: Path) -> Path:
    return shared_data / "ohlcv" / "binance_usdm"


@pytest.fixture
def client(tmp_path: Path, shared_data: Path, replay_dir: Path, monkeypatch: pytest.MonkeyPatch):
    """A TestClient over a paused replay (the feed runs on the client's loop)."""
    from starlette.testclient import TestClient

    from config.settings import load_settings
    from sim.web.app import build_app
    from sim.web.server import open_desk

    for k, v in web_env(tmp_path, shared_data).items():
        monkeypatch.setenv(k, v)
    settings = load_settings(None)
    desk = open_desk(
        settings, replay=replay_dir, symbols=None, account=None, exchange=None, speed=0,
        endpoint=None, journal=tmp_path / "journal.sqlite",
    )  # fmt: skip
    app = build_app(desk, token=None, risk_pct=settings.risk.risk_pct)
    with TestClient(app) as c:
        c.desk = desk  # type: ignore[attr-defined]
        yield c
    desk.close()


@dataclass
class Server:
    url: str
    proc: subprocess.Popen[str]
    home: Path


def start_server(tmp_path: Path, shared: Path, *args: str) -> Server:
    """`microfut web ARGS --port 0` as a subprocess; its printed URL."""
    env = os.environ | web_env(tmp_path, shared)
    cmd = [sys.executable, "-c", MAIN, "web", "--port", "0", *args]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    line = ""
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
        found = URL.search(line)
        if found:
            return Server(found.group(1), proc, tmp_path / "home")
    proc.kill()
    _, err = proc.communicate()
    raise AssertionError(f"microfut web printed no URL (last line {line!r}); stderr: {err}")


def stop_server(server: Server) -> None:
    server.proc.terminate()
    try:
        server.proc.wait(10)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait()


@pytest.fixture
def server(tmp_path: Path, shared_data: Path, replay_dir: Path) -> Iterator[Server]:
    """The real uvicorn server on 127.0.0.1, replaying the recorded candles (paused)."""
    srv = start_server(tmp_path, shared_data, "--replay", str(replay_dir), "--speed", "0")
    yield srv
    stop_server(srv)
