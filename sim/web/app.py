"""The web desk's ASGI app (Starlette): pages, static files, the JSON API and the /ws push.

The pages are plain HTML + JS served from ``sim/web/static`` (the chart library is a copy inside
the package, so the desk works offline). With a token, every request must carry it: the
``Authorization: Bearer`` header, ``?token=`` (a page loaded that way gets it as a cookie, so its
own requests carry it), or that cookie.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import HTTPConnection, Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from sim.errors import MicrofutError
from sim.web import api, views
from sim.web.kernel import WebDesk

STATIC = Path(__file__).parent / "static"
COOKIE = "microfut_token"
PUSH_EVERY_S = 0.25  # at most four state pushes a second per page


class TokenGate:
    """Refuse (401) any HTTP or websocket request without the token, when one is set."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token

    def _given(self, conn: HTTPConnection) -> str | None:
        auth = conn.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip()
        return conn.query_params.get("token") or conn.cookies.get(COOKIE)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.token is None or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = self._given(HTTPConnection(scope))
        if given is not None and hmac.compare_digest(given.encode(), self.token.encode()):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 4401})
            return
        body = {"error": "this desk needs its token: ?token=T or Authorization: Bearer T"}
        await JSONResponse(body, status_code=401)(scope, receive, send)


def _page(name: str) -> Any:
    async def page(request: Request) -> Response:
        response = FileResponse(STATIC / f"{name}.html", media_type="text/html")
        token = request.query_params.get("token")
        if token and request.app.state.token:
            response.set_cookie(COOKIE, token, httponly=True, samesite="strict")
        return response

    return page


async def push(websocket: WebSocket) -> None:
    """Send the desk's state on connect and after every change (at most every 0.25 s)."""
    desk: WebDesk = websocket.app.state.desk
    await websocket.accept()
    logged = max(0, desk.logged - 200)
    seen = -1
    closed = asyncio.create_task(_until_closed(websocket))
    try:
        while not closed.done():
            if desk.version != seen:
                seen = desk.version
                state = views.state_view(desk, logged)
                logged = state["logged"]
                await websocket.send_json(state)
            await asyncio.sleep(PUSH_EVERY_S)
            waiter = asyncio.create_task(desk.changed(seen))
            await asyncio.wait({waiter, closed}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        closed.cancel()


async def _until_closed(websocket: WebSocket) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return


def build_app(desk: WebDesk, *, token: str | None = None, risk_pct: Decimal | None = None) -> Any:
    """The ASGI app over ``desk`` (started and stopped with the server's lifespan)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        desk.start()
        try:
            yield
        finally:
            await desk.stop()
            desk.finish()

    routes = [
        Route("/", _page("desk")),
        Route("/trades", _page("trades")),
        Route("/trades/{trade_id}", _page("trade")),
        Route("/report", _page("report")),
        *api.ROUTES,
        WebSocketRoute("/ws", push),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(
        routes=routes, lifespan=lifespan, exception_handlers={MicrofutError: api.on_error}
    )
    app.state.desk = desk
    app.state.token = token
    app.state.risk_pct = risk_pct if risk_pct is not None else Decimal("1")
    return TokenGate(app, token)
