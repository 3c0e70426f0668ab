"""`microfut web` on live prices: the desk's live feed from the loopback exchange on 127.0.0.1."""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from decimal import Decimal
from pathlib import Path

import httpx2 as httpx

from tests.web.conftest import start_server, stop_server


def run_loopback(shared: Path, ready: queue.Queue, stop: threading.Event) -> None:
    """The loopback exchange on its own loop in a thread, until ``stop`` is set."""
    from adapters.loopback.server import LoopbackExchange

    async def main() -> None:
        async with LoopbackExchange(
            "binanceusdm", [shared], symbols=["BTCUSDT"], pace_s=0.005, max_frames=2000
        ) as lb:
            ready.put(lb.base_url)
            await asyncio.to_thread(stop.wait)

    asyncio.run(main())


def test_live_prices_from_the_loopback_exchange(tmp_path: Path, shared_data: Path):
    ready: queue.Queue = queue.Queue()
    stop = threading.Event()
    thread = threading.Thread(target=run_loopback, args=(shared_data, ready, stop), daemon=True)
    thread.start()
    base = ready.get(timeout=60)
    srv = start_server(tmp_path, shared_data, "--endpoint", base, "--symbols", "BTC")
    try:
        with httpx.Client(base_url=srv.url, timeout=30) as http:
            acct = http.get("/api/account").json()
            assert acct["clock"] is None
            assert acct["source"] == f"live {base}"
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                last = http.get("/api/state").json()["prices"]["BTC/USDT:USDT"]["last"]
                if last:
                    break
                time.sleep(0.1)
            assert last, "no live price reached the desk"
            r = http.post("/api/replay/step", json={"bars": 1})
            assert r.status_code == 400
            assert "live prices" in r.json()["error"]
            r = http.post("/api/orders", json={"text": "buy 0.002 BTC"})
            assert r.status_code == 200, r.text
            fill = next(e for e in r.json()["events"] if e["kind"] == "OrderFilled")
            [pos] = http.get("/api/positions").json()
            assert pos["entry"] == fill["price"]
            assert Decimal(pos["contracts"]) == Decimal("0.002")
            bars = http.get("/api/candles", params={"symbol": "BTC"}).json()["bars"]
            assert bars
            assert all(b["low"] <= b["close"] <= b["high"] for b in bars)
    finally:
        stop_server(srv)
        stop.set()
        thread.join(10)
