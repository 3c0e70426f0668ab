"""A fake exchange on 127.0.0.1 replaying recorded websocket captures in the venue's own format.

Binance: combined ``/stream?streams=a/b`` (also ``/public/stream``, ``/market/stream``), raw
``/ws`` and ``/ws/<stream>``, and ccxt's ``/<category>/ws/<n>`` rewrites;
``{"method":"SUBSCRIBE",...,"id":N}`` is acked with ``{"result":null,"id":N}``.
Bybit: ``/v5/public/linear|inverse`` with ``op`` subscribe/ping; the recorded
``orderbook.500`` topic is re-labelled to the depth the client asked for.
REST comes from ``adapters.loopback.rest`` (recorded files, incl. candle/funding history,
whose requests ``ex.rest.requests`` counts); the depth snapshot is answered here
from the replay position so clients can resync mid-replay. Recipe: exchange-mechanics.md §B.6.

Each captured symbol is one "market": it starts replaying when first subscribed and broadcasts
every frame to the connections subscribed to its stream, like a live venue. It pauses while
nobody listens (a reconnecting client misses nothing) and starts over for the next session
once a replay has finished and everyone has left.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import WSMsgType, web

from adapters.loopback.captures import Frame, find_captures, load_frames, stream_kind
from adapters.loopback.faults import GARBLED, Fault, Faults
from adapters.loopback.rest import RecordedVenue, add_rest_routes
from adapters.loopback.session import Conn, Market
from sim.errors import DataError, InputError

log = logging.getLogger(__name__)

VENUES = ("binanceusdm", "binancecoinm", "bybit")
DEPTH_PATH = {"binanceusdm": "/fapi/v1/depth", "binancecoinm": "/dapi/v1/depth"}
TRADE_KINDS = ("trade", "aggTrade", "publicTrade")
RESUME_WAIT_S = 5.0


class LoopbackExchange:
    """``async with LoopbackExchange("bybit", dirs) as ex:`` → ``ex.base_url``, ``ex.ws_url``.

    ``pace_s`` sleeps between frames (ccxt's ``watch_*`` return on the *next* update, so bursts
    make later awaits hang); ``speed`` replays at ×speed of the recorded receive times instead.
    ``start``/``max_frames`` take a slice of each capture; ``overlap`` re-sends that many recent
    trades to a new trade subscriber (as some venues do), to prove clients drop duplicates.
    """

    def __init__(
        self,
        venue: str,
        data_dirs: Sequence[Path],
        *,
        port: int = 0,
        pace_s: float = 0.0,
        speed: float | None = None,
        start: int = 0,
        max_frames: int | None = None,
        overlap: int = 0,
        faults: list[Fault] | None = None,
        symbols: Sequence[str] | None = None,
    ) -> None:
        if venue not in VENUES:
            raise InputError(f"the loopback serves {', '.join(VENUES)}; {venue!r} was asked")
        self.venue = venue
        self.data_dirs = [Path(d) for d in data_dirs]
        self.port = port
        self.pace_s = pace_s
        self.speed = speed
        self.start = start
        self.max_frames = max_frames
        self.overlap = overlap
        self.faults = Faults(faults)
        self.symbols = [s.upper() for s in symbols] if symbols else None
        self.markets: dict[str, Market] = {}
        self.conns: set[Conn] = set()
        self.frames_sent = 0
        self.connections_opened = 0
        self._quiet_until = 0.0
        self.rest: RecordedVenue | None = None
        self._runner: web.AppRunner | None = None
        self._changed = asyncio.Condition()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def __aenter__(self) -> LoopbackExchange:
        await self.start_server()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def start_server(self) -> None:
        """Load the captures and listen on 127.0.0.1 (``port`` 0 = a free port)."""
        captures = find_captures(self.venue, self.data_dirs)
        if self.symbols:
            captures = {k: v for k, v in captures.items() if k in self.symbols}
        if not captures:
            dirs = ", ".join(str(d) for d in self.data_dirs)
            raise DataError(f"no {self.venue} websocket captures found in {dirs}")
        for vid, path in captures.items():
            end = None if self.max_frames is None else self.start + self.max_frames
            frames = await asyncio.to_thread(load_frames, self.venue, path, end)
            market = Market(self.venue, vid, frames[: self.start], frames[self.start :])
            await asyncio.to_thread(market.rewind)
            self.markets[vid] = market
        app = web.Application(middlewares=[self._depth_middleware])
        self.rest = add_rest_routes(app, self.venue, self.data_dirs, faults=self.faults)
        paths = ("/stream", "/ws", "/ws/{tail}", "/{category}/ws", "/{category}/ws/{tail}")
        for path in (*paths, "/{category}/stream"):
            app.router.add_get(path, self._ws_handler)
        for category in ("linear", "inverse"):
            app.router.add_get(f"/v5/public/{category}", self._ws_handler)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        try:
            await site.start()
        except OSError as e:
            await self._runner.cleanup()
            self._runner = None
            raise InputError(
                f"cannot listen on 127.0.0.1:{self.port}: {e.strerror}; choose another port"
            ) from None
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def close(self) -> None:
        for market in self.markets.values():
            if market.task is not None:
                market.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await market.task
        for conn in list(self.conns):
            await conn.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # test and CLI helpers ------------------------------------------------------------------
    async def wait_done(self, vid: str) -> None:
        """Wait until ``vid``'s capture slice has been replayed to the end."""
        await self.markets[vid.upper()].done.wait()

    async def wait_connections(self, n: int) -> None:
        """Wait until ``n`` websocket connections were opened in total (reconnects count)."""
        async with self._changed:
            await self._changed.wait_for(lambda: self.connections_opened >= n)

    async def wait_subscribed(self, vid: str, kind: str) -> None:
        """Wait until some client subscribed to ``vid``'s ``kind`` stream."""
        key = (vid.upper(), kind)
        async with self._changed:
            await self._changed.wait_for(lambda: any(key in c.subs for c in self.conns))

    def push(self, vid: str, kind: str, data: dict[str, Any]) -> None:
        """Send ``data`` to the subscribers of ``vid``'s ``kind`` stream (synthetic test frames)."""
        market = self.markets.get(vid.upper())
        text = json.dumps(data, separators=(",", ":"))
        key = (vid.upper(), kind)
        subscribers = market.subscribers.get(kind, set()) if market else set()
        for conn in list(subscribers):
            conn.send_frame(key, text)

    # websocket side --------------------------------------------------------------------------
    async def _ws_handler(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=1 << 22)
        await ws.prepare(request)
        if request.path.startswith("/v5/"):
            mode = "bybit"
        elif request.path.endswith("/stream"):
            mode = "combined"
        else:
            mode = "raw"
        conn = Conn(ws, mode)
        self.conns.add(conn)
        self.connections_opened += 1
        writer = asyncio.create_task(conn.write_loop())
        streams = request.query.get("streams", "")
        tail = request.match_info.get("tail", "")
        for stream in [*streams.split("/"), tail]:
            if "@" in stream:
                self._subscribe(conn, stream)
        await self._notify()
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self._on_client_text(conn, msg.data)
                    await self._notify()
        finally:
            self.conns.discard(conn)
            for market in self.markets.values():
                for subs in market.subscribers.values():
                    subs.discard(conn)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
        return ws

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def _on_client_text(self, conn: Conn, text: str) -> None:
        try:
            msg = json.loads(text)
        except ValueError:
            return  # venues ignore or close on junk; ignoring keeps tests simple
        if not isinstance(msg, dict):
            return
        if conn.mode == "bybit":
            self._on_bybit_op(conn, msg)
            return
        method, params = msg.get("method"), msg.get("params") or []
        conn.send(json.dumps({"result": None, "id": msg.get("id")}))
        for stream in params if isinstance(params, list) else []:
            if method == "SUBSCRIBE":
                self._subscribe(conn, str(stream))
            elif method == "UNSUBSCRIBE":
                self._unsubscribe(conn, str(stream))

    def _on_bybit_op(self, conn: Conn, msg: dict[str, Any]) -> None:
        op = msg.get("op")
        reply: dict[str, Any] = {"success": True, "ret_msg": "", "conn_id": conn.id, "op": op}
        if "req_id" in msg:
            reply["req_id"] = msg["req_id"]
        if op == "ping":
            reply["ret_msg"] = "pong"
        conn.send(json.dumps(reply))
        for topic in msg.get("args") or []:
            if op == "subscribe":
                self._subscribe(conn, str(topic))
            elif op == "unsubscribe":
                self._unsubscribe(conn, str(topic))

    def _key(self, name: str) -> tuple[str, str]:
        """Subscription name → (venue id, stream kind)."""
        if self.venue == "bybit":
            parts = name.split(".")
            return parts[-1].upper(), parts[0]
        return name.split("@")[0].upper(), stream_kind(name)

    def _subscribe(self, conn: Conn, name: str) -> None:
        key = self._key(name)
        vid, kind = key
        conn.subs[key] = name
        market = self.markets.get(vid)
        if market is None:
            return  # acked, but nothing was recorded for it: the stream stays quiet
        if market.done.is_set() and not any(market.subscribers.values()):
            market.rewind()  # a new session after a finished replay starts it over
        if kind == "orderbook":
            depth = name.split(".")[1]
            snap = market.book.bybit_snapshot(name, int(depth) if depth.isdigit() else 500)
            if snap is not None:
                conn.send(snap)
        for text in market.recent.get(kind, ()):
            conn.send_frame(key, text)
        market.subscribers.setdefault(kind, set()).add(conn)
        if market.task is None:
            market.task = asyncio.create_task(self._replay(market))

    def _unsubscribe(self, conn: Conn, name: str) -> None:
        key = self._key(name)
        conn.subs.pop(key, None)
        market = self.markets.get(key[0])
        if market is not None:
            market.subscribers.get(key[1], set()).discard(conn)

    # replay ----------------------------------------------------------------------------------
    async def _replay(self, market: Market) -> None:
        loop = asyncio.get_running_loop()
        debt = 0.0
        prev_ns: int | None = None
        for frame in market.frames:
            market.position += 1
            skip = await self._fire_faults(market, frame)
            if (quiet := self._quiet_until - loop.time()) > 0:
                await asyncio.sleep(quiet)
            if not market.listening():
                await self._wait_listeners(market)
            market.book.apply(frame)
            if not skip and frame.kind != "snapshot":
                self._broadcast(market, frame)
            if frame.kind in TRADE_KINDS and self.overlap:
                market.recent.setdefault(frame.kind, deque(maxlen=self.overlap)).append(frame.data)
            if self.speed and prev_ns is not None:
                debt += max(0, frame.recv_ns - prev_ns) / 1e9 / self.speed
            prev_ns = frame.recv_ns
            debt += self.pace_s
            if debt >= 0.002:
                await asyncio.sleep(debt)
                debt = 0.0
            else:
                await asyncio.sleep(0)
        market.done.set()

    async def _wait_listeners(self, market: Market) -> None:
        """Pause the replay while nobody listens, so a reconnecting client misses nothing.

        After a drop, wait up to ``RESUME_WAIT_S`` for every stream that was subscribed; then
        go on as soon as anyone listens.
        """
        async with self._changed:
            try:
                async with asyncio.timeout(RESUME_WAIT_S):
                    await self._changed.wait_for(market.listening)
            except TimeoutError:
                market.resume_kinds.clear()
                await self._changed.wait_for(market.listening)
        market.resume_kinds.clear()

    async def _fire_faults(self, market: Market, frame: Frame) -> bool:
        """Apply the faults due before this frame; True when the frame must be withheld."""
        self.frames_sent += 1
        is_diff = frame.kind == "depth" or (
            frame.kind == "orderbook" and '"type":"delta"' in frame.data[:120]
        )
        skip = False
        for fault in self.faults.due(self.frames_sent, is_diff):
            log.info("loopback fault %s before frame %d", fault.kind, self.frames_sent)
            if fault.kind == "drop":
                self._drop_all()
            elif fault.kind == "garble":
                for conn in list(self.conns):
                    conn.send(GARBLED)
            elif fault.kind == "gap":
                skip = True
            else:
                loop = asyncio.get_running_loop()
                self._quiet_until = max(self._quiet_until, loop.time() + fault.seconds)
        return skip

    def _drop_all(self) -> None:
        """Cut every connection; each market remembers which streams to wait for."""
        for m in self.markets.values():
            m.resume_kinds = {k for k, subs in m.subscribers.items() if subs}
            for subs in m.subscribers.values():
                subs.clear()
        for conn in list(self.conns):
            conn.drop()

    def _broadcast(self, market: Market, frame: Frame) -> None:
        key = (market.vid, frame.kind)
        for conn in list(market.subscribers.get(frame.kind, ())):
            conn.send_frame(key, frame.data)

    # REST depth at the replay position -------------------------------------------------------
    @web.middleware
    async def _depth_middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path.rstrip("/") != DEPTH_PATH.get(self.venue):
            return await handler(request)
        market = self.markets.get(request.query.get("symbol", "").upper())
        limit_text = request.query.get("limit", "500")
        limit = int(limit_text) if limit_text.isdigit() else 500
        body = market.book.binance_snapshot(limit) if market else None
        if body is None:
            return await handler(request)  # the recorded snapshot (or the venue's error)
        return web.json_response(body)
