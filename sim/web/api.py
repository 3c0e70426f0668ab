"""The JSON API the pages use and scripts can call (Decimals as strings, times in epoch ms).

Orders go in as the desk's own order language (``{"text": "buy 0.01 ETH"}``) through the same
session as the terminal desk; a line the desk refuses is a 400 with the desk's one-line message.
Every handler is ``async`` so the session only ever runs on the server's event loop.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sim.display import to_jsonable
from sim.errors import InputError, MicrofutError
from sim.web import views
from sim.web.kernel import WebDesk


def _desk(request: Request) -> WebDesk:
    return request.app.state.desk


def error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise InputError('the request body must be JSON, like {"text": "buy 0.01 ETH"}') from None
    if not isinstance(data, dict):
        raise InputError('the request body must be a JSON object, like {"text": "buy 0.01 ETH"}')
    return data


def _text(data: dict[str, Any], key: str = "text") -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InputError(f'send {{"{key}": "..."}} with the line to run, e.g. "buy 0.01 ETH"')
    return value.strip()


def _number(value: Any, what: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise InputError(f"{what} must be a number, was {value!r}") from None
    if not number.is_finite():
        raise InputError(f"{what} must be a finite number, was {value!r}")
    return number


# ---- account --------------------------------------------------------------------------------
async def account(request: Request) -> JSONResponse:
    return JSONResponse(views.account_view(_desk(request)))


async def positions(request: Request) -> JSONResponse:
    return JSONResponse(views.positions_view(_desk(request)))


async def state(request: Request) -> JSONResponse:
    return JSONResponse(views.state_view(_desk(request)))


# ---- orders ---------------------------------------------------------------------------------
async def orders(request: Request) -> JSONResponse:
    return JSONResponse(views.orders_view(_desk(request)))


def _venue(data: dict[str, Any], request: Request) -> str | None:
    """The venue a request names (``"venue"`` in the body or ``?venue=``); None: the first."""
    value = data.get("venue", request.query_params.get("venue"))
    if value is not None and not isinstance(value, str):
        raise InputError(f"venue must be an exchange id like binanceusdm, was {value!r}")
    return value or None


def _run(desk: WebDesk, line: str, venue: str | None = None) -> JSONResponse:
    """Run one line: refused by the desk → 400, rejected by the exchange → 422, else 200."""
    routed, _ = desk.route(line, venue)
    outcome = desk.submit(line, venue)
    body = {
        "venue": routed.name,
        "ok": outcome.ok,
        "lines": outcome.lines,
        "echoes": [views.echo_view(e) for e in outcome.echoes],
        "events": [{"kind": type(e).__name__, **to_jsonable(e)} for e in outcome.reply.events],
    }
    if not outcome.ok:
        return JSONResponse({"error": outcome.message, **body}, status_code=400)
    if outcome.rejected:
        return JSONResponse({"error": outcome.message, **body}, status_code=422)
    return JSONResponse(body)


async def place(request: Request) -> JSONResponse:
    """``{"text": "buy 0.01 ETH"}``, on the first venue or ``"venue": "bybit"``."""
    data = await _body(request)
    return _run(_desk(request), _text(data), _venue(data, request))


async def echo(request: Request) -> JSONResponse:
    """The echo (notional, margin, liquidation price) of a line's orders, nothing sent.

    A line still being typed is not a failed request: it answers 200 with ``ok`` false and the
    desk's one-line message (a missing body is still a 400).
    """
    data = await _body(request)
    text, venue = _text(data), _venue(data, request)
    try:
        echoes = _desk(request).preview(text, venue)
    except InputError as e:
        return JSONResponse({"ok": False, "error": f"error: {e}", "echoes": []})
    return JSONResponse({"ok": True, "echoes": [views.echo_view(e) for e in echoes]})


async def cancel(request: Request) -> JSONResponse:
    venue = _venue({}, request)
    return _run(_desk(request), f"cancel {request.path_params['order_id']}", venue)


async def amend(request: Request) -> JSONResponse:
    """``{"price": P, "trigger": P, "contracts": N}`` (any of them) → the desk's amend line."""
    data = await _body(request)
    parts = [f"{k} {_number(data[k], k)}" for k in ("price", "trigger", "contracts") if k in data]
    if not parts:
        raise InputError('amend needs what to change: {"price": P, "trigger": P, "contracts": N}')
    line = f"amend {request.path_params['order_id']} {' '.join(parts)}"
    return _run(_desk(request), line, _venue(data, request))


# ---- the journal ----------------------------------------------------------------------------
async def trades(request: Request) -> JSONResponse:
    from sim.display import parse_date

    desk, q = _desk(request), request.query_params
    symbol = desk.resolve(q["symbol"], q.get("venue")) if q.get("symbol") else None
    outcome = q.get("outcome") or None
    if outcome not in (None, "win", "loss", "breakeven", "open"):
        raise InputError(f"outcome must be win, loss, breakeven or open, was {outcome!r}")
    rows = views.trades_view(
        desk, symbol, q.get("tag") or None, parse_date(q.get("since") or None, "since"),
        parse_date(q.get("until") or None, "until", end=True), outcome,
    )  # fmt: skip
    return JSONResponse(rows)


async def trade(request: Request) -> JSONResponse:
    ref = request.path_params["trade_id"]
    found = views.trade_view(_desk(request), ref)
    if found is None:
        return error(f"no trade {ref} in the journal", 404)
    return JSONResponse(found)


def _closed(ref: str) -> str:
    if ref.startswith(views.OPEN_PREFIX):
        raise InputError("notes and tags go on the trade once it is closed")
    return ref


async def note(request: Request) -> JSONResponse:
    desk, ref = _desk(request), _closed(request.path_params["trade_id"])
    note_id = desk.session.journal.add_note(ref, _text(await _body(request)))
    desk.touch()
    return JSONResponse({"id": note_id})


async def tag(request: Request) -> JSONResponse:
    desk, ref = _desk(request), _closed(request.path_params["trade_id"])
    word = _text(await _body(request), "tag")
    desk.session.journal.add_tag(ref, word)
    desk.touch()
    return JSONResponse({"tag": word})


async def report(request: Request) -> JSONResponse:
    venue = _venue({}, request)
    return JSONResponse(views.report_view(_desk(request), request.app.state.risk_pct, venue))


async def candles(request: Request) -> JSONResponse:
    desk, q = _desk(request), request.query_params
    venue = desk.venue(q.get("venue"))
    symbol = desk.resolve(q.get("symbol") or venue.symbols[0], venue.name)
    try:
        n = int(q.get("n", "500"))
        start = int(q["start"]) if q.get("start") else None
        end = int(q["end"]) if q.get("end") else None
    except ValueError:
        raise InputError("n, start and end must be whole numbers (start/end in epoch ms)") from None
    if not 1 <= n <= 20_000:
        raise InputError(f"n must be between 1 and 20000, was {n}")
    bars = venue.candles.bars(symbol, venue.session.now_ms, n, start, end)
    return JSONResponse({"symbol": symbol, "venue": venue.name,
                         "period_ms": venue.candles.period_ms, "bars": bars})  # fmt: skip


async def fills(request: Request) -> JSONResponse:
    desk, q = _desk(request), request.query_params
    venue = q.get("venue")
    symbol = desk.resolve(q["symbol"], venue) if q.get("symbol") else None
    return JSONResponse(views.fills_view(desk, symbol, 500, venue))


# ---- the replay clock -----------------------------------------------------------------------
async def step(request: Request) -> JSONResponse:
    """Step N bars (pausing first if running) and answer once they have been played."""
    desk = _desk(request)
    bars = _number((await _body(request)).get("bars", 1), "bars")
    lines = []
    if desk.clock is not None and not desk.clock.paused:
        lines.append(desk.pace("pause"))
    lines.append(desk.pace("step", bars))
    await desk.settle()
    return JSONResponse({"lines": lines, "clock": views.clock_view(desk), "now_ms": desk.now_ms})


def _pace(word: str) -> Any:
    async def handler(request: Request) -> JSONResponse:
        desk = _desk(request)
        value = None
        if word == "speed":
            value = _number((await _body(request)).get("speed"), "speed")
        line = desk.pace(word, value)
        return JSONResponse({"lines": [line], "clock": views.clock_view(desk)})

    return handler


async def on_error(request: Request, exc: Exception) -> JSONResponse:
    """Bad input → 400 with its one line; other microfut errors → 500 with theirs."""
    assert isinstance(exc, MicrofutError)
    return error(str(exc), 400 if isinstance(exc, InputError) else 500)


ROUTES = [
    Route("/api/state", state),
    Route("/api/account", account),
    Route("/api/positions", positions),
    Route("/api/orders", orders, methods=["GET"]),
    Route("/api/orders", place, methods=["POST"]),
    Route("/api/preview", echo, methods=["POST"]),
    Route("/api/orders/{order_id}", cancel, methods=["DELETE"]),
    Route("/api/orders/{order_id}", amend, methods=["PATCH", "POST"]),
    Route("/api/trades", trades),
    Route("/api/trades/{trade_id}", trade),
    Route("/api/trades/{trade_id}/note", note, methods=["POST"]),
    Route("/api/trades/{trade_id}/tags", tag, methods=["POST"]),
    Route("/api/report", report),
    Route("/api/candles", candles),
    Route("/api/fills", fills),
    Route("/api/replay/step", step, methods=["POST"]),
    Route("/api/replay/pause", _pace("pause"), methods=["POST"]),
    Route("/api/replay/resume", _pace("resume"), methods=["POST"]),
    Route("/api/replay/speed", _pace("speed"), methods=["POST"]),
]
