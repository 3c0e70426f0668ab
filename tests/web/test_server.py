"""`microfut web` as a user runs it: the real uvicorn server on 127.0.0.1, over HTTP and /ws."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.web.conftest import MAIN, start_server, stop_server, web_env


def test_issue_check_order_position_liquidation_and_journal_page(server):
    url = server.url
    assert url.startswith("http://127.0.0.1:")
    with httpx.Client(base_url=url, timeout=30) as http:
        page = http.get("/")
        assert page.status_code == 200
        assert "lightweight-charts.standalone.production.js" in page.text
        step = http.post("/api/replay/step", json={"bars": 2})
        assert step.status_code == 200, step.text
        r = http.post("/api/orders", json={"text": "buy 0.01 ETH"})  # the issue's line
        assert r.status_code == 200, r.text
        [pos] = http.get("/api/positions").json()
        assert (pos["symbol"], pos["side"], pos["contracts"]) == ("ETH/USDT:USDT", "long", "0.01")
        liq, entry = Decimal(pos["liquidation_price"]), Decimal(pos["entry"])
        assert entry * Decimal("0.94") < liq < entry  # 20x isolated: about 5% below the entry
        [row] = http.get("/api/trades").json()
        assert http.get(f"/api/trades/{row['id']}").json()["fills"][0]["price"] == pos["entry"]
        trade_page = http.get(f"/trades/{row['id']}")
        assert trade_page.status_code == 200
        assert "trade.js" in trade_page.text


def test_websocket_on_the_real_server(server):
    import websockets

    async def talk() -> dict:
        ws_url = server.url.replace("http://", "ws://") + "ws"
        async with websockets.connect(ws_url) as ws:
            return json.loads(await asyncio.wait_for(ws.recv(), 10))

    state = asyncio.run(talk())
    assert state["account"]["clock"]["paused"] is True
    assert state["account"]["wallets"] == {"USDT": "1000"}


def test_other_address_needs_a_token(tmp_path: Path, shared_data: Path):
    env = {**__import__("os").environ, **web_env(tmp_path, shared_data)}
    done = subprocess.run(
        [sys.executable, "-c", MAIN, "web", "--host", "0.0.0.0", "--port", "0"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert "--token" in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_token_is_required_on_every_request(tmp_path: Path, shared_data: Path):
    replay = shared_data / "ohlcv" / "binance_usdm"
    srv = start_server(tmp_path, shared_data, "--replay", str(replay), "--speed", "0",
                       "--token", "s3cret")  # fmt: skip
    try:
        assert srv.url.endswith("/?token=s3cret")
        base = srv.url.split("?")[0]
        assert httpx.get(base + "api/account").status_code == 401
        assert httpx.get(base, params={"token": "wrong"}).status_code == 401
        ok = httpx.get(base + "api/account", headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200
        page = httpx.get(srv.url)  # the page's own requests then carry the cookie
        assert page.status_code == 200
        assert page.cookies.get("microfut_token") == "s3cret"
    finally:
        stop_server(srv)


def test_port_taken_is_one_line_exit_2(tmp_path: Path, shared_data: Path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        env = {**__import__("os").environ, **web_env(tmp_path, shared_data)}
        done = subprocess.run(
            [sys.executable, "-c", MAIN, "web", "--port", str(port)],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr


@pytest.mark.parametrize("speed", ["-1"])
def test_bad_speed_is_a_usage_error(tmp_path: Path, shared_data: Path, speed: str):
    env = {**__import__("os").environ, **web_env(tmp_path, shared_data)}
    done = subprocess.run(
        [sys.executable, "-c", MAIN, "web", "--port", "0", "--speed", speed],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2


@pytest.mark.parametrize("port", ["99999", "-1"])
def test_port_out_of_range_is_a_usage_error_not_an_internal_one(
    tmp_path: Path, shared_data: Path, port: str
):
    env = {**__import__("os").environ, **web_env(tmp_path, shared_data)}
    done = subprocess.run(
        [sys.executable, "-c", MAIN, "web", "--port", port],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "--port" in done.stderr
    assert "internal error" not in done.stderr
