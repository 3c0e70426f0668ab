"""The loopback exchange: venue wire protocol, faults, and the real ccxt.pro classes against it."""

from __future__ import annotations

import asyncio
import gzip
import json
import time
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from websockets.asyncio.client import connect

from adapters.exchanges import make_exchange
from adapters.loopback.faults import Fault, Faults, parse_fault_spec
from adapters.loopback.server import LoopbackExchange
from sim.errors import DataError, InputError

TIMEOUT = 20


# fault specs ---------------------------------------------------------------------------------
def test_fault_spec_parses_every_kind() -> None:
    faults = parse_fault_spec("drop@200, garble@50,gap@300,silence@400:2.5,silence@9")

    assert faults == [
        Fault("drop", 200),
        Fault("garble", 50),
        Fault("gap", 300),
        Fault("silence", 400, 2.5),
        Fault("silence", 9, 5.0),
    ]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("explode@3", "kind@N"),
        ("drop", "kind@N"),
        ("drop@x", "kind@N"),
        ("drop@3:2", "only silence"),
        ("silence@3:abc", "seconds must be a number"),
        ("silence@3:0", r"\(0, 3600\]"),
    ],
)
def test_bad_fault_spec_is_an_input_error(spec: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_fault_spec(spec)


def test_gap_fault_waits_for_a_depth_diff() -> None:
    faults = Faults([Fault("gap", 3), Fault("drop", 4)])

    fired = [faults.due(n, is_diff=n == 6) for n in range(1, 8)]

    assert [[f.kind for f in x] for x in fired] == [[], [], [], ["drop"], [], ["gap"], []]
    assert faults.fired == [(4, "drop"), (6, "gap")]


# construction --------------------------------------------------------------------------------
async def test_unknown_venue_and_missing_captures_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="serves binanceusdm"):
        LoopbackExchange("kraken", [tmp_path])
    with pytest.raises(DataError, match="no bybit websocket captures"):
        async with LoopbackExchange("bybit", [tmp_path]):
            pass


# Binance protocol ----------------------------------------------------------------------------
async def recv_json(ws: Any) -> Any:
    return json.loads(await asyncio.wait_for(ws.recv(), 5))


async def test_binance_subscribe_is_acked_and_streams_are_relabelled(shared_data: Path) -> None:
    async with (
        LoopbackExchange("binanceusdm", [shared_data], max_frames=100) as ex,
        connect(f"{ex.ws_url}/stream") as ws,
    ):
        await ws.send(json.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@trade"], "id": 7}))

        ack = await recv_json(ws)
        first = await recv_json(ws)

    assert ack == {"result": None, "id": 7}
    assert first["stream"] == "btcusdt@trade"
    assert (first["data"]["t"], first["data"]["p"]) == (5266583935, "61800.30")


async def test_binance_raw_stream_path_sends_bare_payloads(shared_data: Path) -> None:
    async with (
        LoopbackExchange("binanceusdm", [shared_data], max_frames=100) as ex,
        connect(f"{ex.ws_url}/ws/btcusdt@depth@100ms") as ws,
    ):
        first = await recv_json(ws)

    assert (first["e"], first["U"], first["u"]) == ("depthUpdate", 5123107832006, 5123107837557)


async def test_rest_depth_is_rebuilt_at_the_replay_position(shared_data: Path) -> None:
    async with (
        LoopbackExchange("binanceusdm", [shared_data], max_frames=400) as ex,
        connect(f"{ex.ws_url}/stream?streams=btcusdt@depth@100ms") as ws,
    ):
        diffs = []
        while len(diffs) < 20:
            diffs.append((await recv_json(ws))["data"])
        await asyncio.wait_for(ex.wait_done("BTCUSDT"), 10)
        while True:  # drain to the last diff sent
            try:
                diffs.append(json.loads(await asyncio.wait_for(ws.recv(), 0.3))["data"])
            except TimeoutError:
                break
        url = f"{ex.base_url}/fapi/v1/depth?symbol=BTCUSDT&limit=5"
        async with aiohttp.ClientSession() as http, http.get(url) as r:
            snap = await r.json()

    book = ex.markets["BTCUSDT"].book.binance
    assert snap["lastUpdateId"] == diffs[-1]["u"] == book.last_id
    assert len(snap["bids"]) == 5
    assert Decimal(snap["bids"][0][0]) == book.top().bid


# Bybit protocol ------------------------------------------------------------------------------
async def test_bybit_ack_pong_and_depth_relabel(shared_data: Path) -> None:
    async with (
        LoopbackExchange("bybit", [shared_data], pace_s=0.01) as ex,
        connect(f"{ex.ws_url}/v5/public/linear") as ws,
    ):
        await ws.send(json.dumps({"op": "ping", "req_id": "p1"}))
        pong = await recv_json(ws)
        await ws.send(
            json.dumps({"op": "subscribe", "req_id": "s1", "args": ["orderbook.50.XRPUSDT"]})
        )
        ack = await recv_json(ws)
        snapshot = await recv_json(ws)

    assert (pong["op"], pong["ret_msg"], pong["req_id"]) == ("ping", "pong", "p1")
    assert (ack["op"], ack["success"], ack["req_id"]) == ("subscribe", True, "s1")
    assert (snapshot["topic"], snapshot["type"]) == ("orderbook.50.XRPUSDT", "snapshot")
    assert snapshot["data"]["u"] == 20254869


async def test_bybit_resubscribe_gets_a_snapshot_at_the_current_update(shared_data: Path) -> None:
    async with (
        LoopbackExchange("bybit", [shared_data], pace_s=0.01) as ex,
        connect(f"{ex.ws_url}/v5/public/linear") as ws,
    ):
        sub = {"op": "subscribe", "args": ["orderbook.200.XRPUSDT"]}
        await ws.send(json.dumps(sub))
        await recv_json(ws)  # ack
        seen = [await recv_json(ws) for _ in range(10)]
        await ws.send(json.dumps({**sub, "op": "unsubscribe"}))
        await ws.send(json.dumps(sub))
        after = []
        while not after or after[-1].get("type") != "snapshot":
            after.append(await recv_json(ws))

    snap = after[-1]
    assert snap["topic"] == "orderbook.200.XRPUSDT"
    assert snap["data"]["u"] >= seen[-1]["data"]["u"]
    assert len(snap["data"]["b"]) == 200


# the real ccxt.pro classes -------------------------------------------------------------------
async def test_ccxt_binanceusdm_trades_and_book_match_the_capture(shared_data: Path) -> None:
    # 7648 frames end with the diff u=5123110362378: exchange-mechanics.md §B.6's nonce.
    loop = LoopbackExchange(
        "binanceusdm", [shared_data], symbols=["BTCUSDT"], max_frames=7648, pace_s=0.0002
    )
    async with loop as ex:
        cx = make_exchange("binanceusdm", endpoint=ex.base_url, pro=True)
        try:
            markets = await asyncio.wait_for(cx.load_markets(), TIMEOUT)
            trades = await asyncio.wait_for(cx.watch_trades("BTC/USDT:USDT"), TIMEOUT)
            book_task = asyncio.create_task(cx.watch_order_book("BTC/USDT:USDT"))
            await asyncio.wait_for(ex.wait_done("BTCUSDT"), TIMEOUT)
            await asyncio.wait_for(book_task, TIMEOUT)
            await asyncio.sleep(0.2)  # let ccxt apply the last frames
            book = cx.orderbooks["BTC/USDT:USDT"]
        finally:
            await cx.close()

    assert "BTC/USDT:USDT" in markets
    first = trades[0]
    assert (first["price"], first["amount"], first["side"], first["datetime"]) == (
        61800.3,
        0.006,
        "buy",
        "2024-08-08T23:54:16.322Z",
    )
    assert book["nonce"] == 5123110362378
    assert (book["bids"][0][0], book["asks"][0][0]) == (61827.9, 61828.0)


async def test_ccxt_bybit_book_matches_the_capture(shared_data: Path) -> None:
    async with LoopbackExchange("bybit", [shared_data], pace_s=0.02) as ex:
        cx = make_exchange("bybit", endpoint=ex.base_url, pro=True)
        try:
            markets = await asyncio.wait_for(cx.load_markets(), TIMEOUT)
            book = await asyncio.wait_for(cx.watch_order_book("XRP/USDT:USDT"), TIMEOUT)
            while book["timestamp"] < 1733011201091:
                book = await asyncio.wait_for(cx.watch_order_book("XRP/USDT:USDT"), TIMEOUT)
        finally:
            await cx.close()

    assert "XRP/USDT:USDT" in markets
    # §B.6: book 500x500, best 1.9531/1.9532 at 2024-12-01T00:00:01.091Z
    assert book["timestamp"] == 1733011201091
    assert (book["bids"][0][0], book["asks"][0][0]) == (1.9531, 1.9532)
    assert (len(book["bids"]), len(book["asks"])) == (500, 500)


async def test_slice_starting_mid_capture_serves_the_book_as_it_stood(shared_data: Path) -> None:
    async with LoopbackExchange("binanceusdm", [shared_data], start=1000, max_frames=10) as ex:
        url = f"{ex.base_url}/fapi/v1/depth?symbol=BTCUSDT&limit=5"
        async with aiohttp.ClientSession() as http, http.get(url) as r:
            snap = await r.json()

    # the last depth diff among the first 1000 recorded lines
    with gzip.open(shared_data / "binanceusdm/ws_raw_btcusdt_20240808.gz", "rt") as f:
        lines = [json.loads(x.split(" ", 1)[1]) for x in islice(f, 1000)]
    last_u = [x["data"]["u"] for x in lines if x.get("data", {}).get("e") == "depthUpdate"][-1]
    assert snap["lastUpdateId"] == last_u


async def test_speed_paces_by_the_recorded_receive_times(shared_data: Path) -> None:
    # The Bybit capture spans 4.8 s (ts 00:00:00.691 → 00:00:05.490); at x10 that is ~0.48 s.
    async with (
        LoopbackExchange("bybit", [shared_data], speed=10) as ex,
        connect(f"{ex.ws_url}/v5/public/linear") as ws,
    ):
        await ws.send(json.dumps({"op": "subscribe", "args": ["orderbook.50.XRPUSDT"]}))
        started = time.monotonic()
        await asyncio.wait_for(ex.wait_done("XRPUSDT"), 10)
        elapsed = time.monotonic() - started

    assert 0.45 <= elapsed < 5


async def test_busy_port_is_an_input_error(shared_data: Path) -> None:
    async with LoopbackExchange("bybit", [shared_data]) as first:
        second = LoopbackExchange("bybit", [shared_data], port=first.port)

        with pytest.raises(InputError, match=r"cannot listen on 127\.0\.0\.1"):
            await second.start_server()


async def test_a_new_session_after_a_finished_replay_starts_over(shared_data: Path) -> None:
    async with LoopbackExchange("binanceusdm", [shared_data], max_frames=50) as ex:
        firsts = []
        for _ in range(2):
            async with connect(f"{ex.ws_url}/ws/btcusdt@trade") as ws:
                firsts.append((await recv_json(ws))["t"])
                await asyncio.wait_for(ex.wait_done("BTCUSDT"), 5)

    assert firsts == [5266583935, 5266583935]
