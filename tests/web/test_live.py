"""`microfut web` on live prices: the desk's live feed from the loopback exchange on 127.0.0.1."""

from __future__ import annotations

import asyncio
import queue
import re
import threading
import time
from decimal import Decimal
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.web.conftest import start_server, stop_server

BINANCE, BYBIT = "binanceusdm", "bybit"


def run_loopback(
    shared: Path, ready: queue.Queue, stop: threading.Event, venues: tuple[str, ...] = (BINANCE,)
) -> None:
    """Loopback exchanges (one per venue, each on its own port) on one loop in a thread, until
    ``stop`` is set; their base URLs go to ``ready`` in ``venues`` order."""
    from contextlib import AsyncExitStack

    from adapters.loopback.server import LoopbackExchange

    async def main() -> None:
        async with AsyncExitStack() as stack:
            urls = []
            for venue in venues:
                symbols = ["BTCUSDT"] if venue == BINANCE else None  # Bybit: its XRP capture
                exchange = LoopbackExchange(
                    venue, [shared], symbols=symbols, pace_s=0.005, max_frames=2000
                )
                lb = await stack.enter_async_context(exchange)
                urls.append(lb.base_url)
            ready.put(urls[0] if len(urls) == 1 else urls)
            await asyncio.to_thread(stop.wait)

    asyncio.run(main())


def _wait_for(http: httpx.Client, venue: str, symbol: str, key: str) -> str | None:
    """The venue's ``key`` price of ``symbol`` (last, mark, bid, ask) once the desk has one."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        got = http.get("/api/state").json()["venue_prices"][venue][symbol][key]
        if got:
            return got
        time.sleep(0.05)
    return None


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


def test_two_live_venues_each_on_its_own_loopback(tmp_path: Path, shared_data: Path):
    """`-e binanceusdm -e bybit --endpoint binanceusdm=URL --endpoint bybit=URL`: two live
    feeds (Binance's trades, Bybit's order book) into one desk, an order on each venue."""
    ready: queue.Queue = queue.Queue()
    stop = threading.Event()
    thread = threading.Thread(
        target=run_loopback, args=(shared_data, ready, stop, (BINANCE, BYBIT)), daemon=True
    )
    thread.start()
    binance, bybit = ready.get(timeout=60)
    srv = start_server(tmp_path, shared_data, "-e", f"{BINANCE},{BYBIT}",
                       "--endpoint", f"{BINANCE}={binance}", "--endpoint", f"bybit={bybit}",
                       "--symbols", "BTC,XRP")  # fmt: skip
    try:
        with httpx.Client(base_url=srv.url, timeout=30) as http:
            acct = http.get("/api/account").json()
            assert [(v["venue"], v["source"]) for v in acct["venues"]] == [
                (BINANCE, f"live {binance}"), (BYBIT, f"live {bybit}")
            ]  # fmt: skip
            assert _wait_for(http, BINANCE, "BTC/USDT:USDT", "last"), "no Binance trade came"
            r = http.post("/api/orders", json={"text": "buy 0.002 BTC"})
            assert r.status_code == 200, r.text
            [pos] = http.get("/api/positions").json()
            assert (pos["venue"], pos["contracts"]) == (BINANCE, "0.002")
            # Bybit's order goes to Bybit: the loopback serves no risk limits, so it is refused
            # there with that venue's own message (online, ccxt loads them)
            r = http.post("/api/orders", json={"text": "buy 10 XRP", "venue": BYBIT})
            assert (r.status_code, r.json()["venue"]) == (400, BYBIT)
            assert "XRP/USDT:USDT on bybit" in r.json()["error"]
            # Bybit's capture is its order book: the desk shows its best bid and ask
            bid = _wait_for(http, BYBIT, "XRP/USDT:USDT", "bid")
            ask = _wait_for(http, BYBIT, "XRP/USDT:USDT", "ask")
            assert bid
            assert ask
            assert Decimal(bid) < Decimal(ask)
    finally:
        stop_server(srv)
        stop.set()
        thread.join(10)


def test_endpoints_name_their_venue_when_there_are_several() -> None:
    from sim.errors import InputError
    from sim.web.server import venue_endpoints

    url = "http://127.0.0.1:9/?a=b"
    assert venue_endpoints(url, [BINANCE]) == {BINANCE: url}  # a query's "=" is the URL's
    assert venue_endpoints([f"Bybit={url}"], [BINANCE, BYBIT]) == {BYBIT: url}
    assert venue_endpoints(None, [BINANCE, BYBIT]) == {}
    for given, message in (
        ([url], "with several venues name the venue, e.g. --endpoint binanceusdm=URL"),
        ([f"kraken={url}"], "kraken is not a venue of this desk (binanceusdm, bybit)"),
        ([f"bybit={url}", f"bybit={url}"], "bybit is given twice"),
    ):
        with pytest.raises(InputError, match=re.escape(message)):
            venue_endpoints(given, [BINANCE, BYBIT])
