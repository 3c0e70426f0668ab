"""The desk in a real 80×24 terminal (tmux): keys as a trader types them, the screen as seen.

An order line followed by two quick Enters gives one order; the screen shows the open
position's liquidation price and margin ratio, the replay clock and PAUSED; the journal's trade
agrees with what the screen showed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sim.engine.events import OrderAccepted, TradeClosed
from sim.journal import Journal

MICROFUT = shutil.which("microfut") or "microfut"
pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None or shutil.which("microfut") is None,
    reason="needs tmux and the microfut console script",
)
ROOT = Path(__file__).resolve().parents[3]


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def window(tmp_path: Path, shared_data: Path) -> Iterator[tuple[str, Path]]:
    name = f"desk{os.getpid()}"
    db = tmp_path / "j.sqlite"
    cmd = (
        f"cd {ROOT} && PYTHONPATH={ROOT} MICROFUT_HOME={tmp_path / 'home'} "
        f"MICROFUT_DATA__DIRS='[\"{shared_data}\"]' {MICROFUT} trade "
        f"--replay {shared_data / 'ohlcv' / 'binance_usdm'} --speed 0 --db {db}; "
        f"echo EXIT=$?; sleep 30"
    )
    tmux("new-session", "-d", "-s", name, "-x", "80", "-y", "24", cmd)
    try:
        yield name, db
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], check=False, capture_output=True)


def screen(name: str) -> str:
    return tmux("capture-pane", "-t", name, "-p")


def wait(name: str, ok: Callable[[str], bool], seconds: float = 30) -> str:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        text = screen(name)
        if ok(text):
            return text
        time.sleep(0.2)
    raise AssertionError(f"the screen never got there:\n{screen(name)}")


def test_one_order_per_enter_and_the_risk_numbers_at_80x24(window: tuple[str, Path]) -> None:
    name, db = window
    wait(name, lambda s: "PAUSED" in s and "95,505.40" in s)

    tmux("send-keys", "-t", name, "buy 0.01 BTC lev 20 isolated stop 94000 tp 99000", "Enter")
    tmux("send-keys", "-t", name, "Enter")
    shown = wait(name, lambda s: "o3 accepted" in s and "liq dist" in s)
    time.sleep(0.5)
    shown = screen(name)

    lines = shown.splitlines()
    assert lines[0].startswith(" 2025-05-04 15:33:00 UTC │ replay")
    assert "PAUSED" in lines[0]
    row = next(i for i, line in enumerate(lines) if line.startswith("BTC/USDT:USDT  0.01"))
    top, bottom = lines[row].split(), lines[row + 1].split()
    entry, liq = top[3], top[5]
    ratio, dist = bottom[-3], bottom[-2]  # long 20x iso │ 1 │ margin │ mark │ ratio │ dist │ tp
    assert liq == "91,112.82"  # the engine's isolated 20x liquidation price
    assert ratio.endswith("%")
    assert dist.endswith("%")

    tmux("send-keys", "-t", name, "step 2", "Enter")
    wait(name, lambda s: "15:35:00 UTC" in s.splitlines()[0])
    tmux("send-keys", "-t", name, "close BTC", "Enter")
    wait(name, lambda s: "trade closed long" in s)
    tmux("send-keys", "-t", name, "C-c")
    assert "EXIT=0" in wait(name, lambda s: "EXIT=" in s)

    with Journal.open(db) as journal:
        events = journal.events("main")
    entries = [e for e in events if isinstance(e, OrderAccepted) and not e.parent_id]
    assert [(e.side, e.order_type) for e in entries] == [("buy", "market"), ("sell", "market")]
    (trade,) = [e for e in events if isinstance(e, TradeClosed)]
    assert f"{trade.entry_price:,.2f}" == entry
