"""A web session's end in the journal: the real `microfut web` process, stopped or killed."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx2 as httpx
import pytest

from sim.journal import Journal
from sim.journal.sessions import SessionInfo
from tests.web.conftest import MAIN, Server, start_server


def _web_sessions(server: Server) -> list[SessionInfo]:
    with Journal.open(server.home / "journal.sqlite") as journal:
        return journal.sessions("web")


def _start(tmp_path: Path, shared_data: Path, replay_dir: Path) -> Server:
    srv = start_server(tmp_path, shared_data, "--replay", str(replay_dir), "--speed", "0")
    r = httpx.post(srv.url + "api/orders", json={"text": "buy 0.01 ETH"}, timeout=30)
    assert r.status_code == 200, r.text
    return srv


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_clean_stop_marks_the_session_completed(
    tmp_path: Path, shared_data: Path, replay_dir: Path, sig: signal.Signals
) -> None:
    srv = _start(tmp_path, shared_data, replay_dir)
    [running] = _web_sessions(srv)
    assert running.state == "running"  # its process lives
    assert running.params["pid"] == srv.proc.pid

    srv.proc.send_signal(sig)
    _, err = srv.proc.communicate(timeout=30)

    assert srv.proc.returncode == 0, err
    assert "Traceback" not in err
    [done] = _web_sessions(srv)
    assert (done.id, done.params["status"], done.state) == (running.id, "completed", "completed")


def test_a_killed_server_shows_as_interrupted(
    tmp_path: Path, shared_data: Path, replay_dir: Path
) -> None:
    srv = _start(tmp_path, shared_data, replay_dir)

    srv.proc.send_signal(signal.SIGKILL)
    srv.proc.wait(30)

    [killed] = _web_sessions(srv)
    assert "status" not in killed.params
    assert killed.state == "interrupted"
    with Journal.open(srv.home / "journal.sqlite") as journal:
        assert journal.session_statuses() == {"main": "interrupted"}
        # the order it took before the kill is in the journal: nothing committed was lost
        assert [e.kind for e in journal.events("main")].count("OrderFilled") == 1
    listed = subprocess.run(
        [sys.executable, "-c", MAIN, "journal", "list", "--db", str(srv.home / "journal.sqlite")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert "account main: its web run was interrupted; start `microfut web` again" in listed.stderr
