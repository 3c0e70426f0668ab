"""Open the web desk (session, feed, candles) and serve it with uvicorn on a chosen socket.

Set up like ``microfut trade``: the same spec book, account, journal and resume rules, a replay of
recorded candles paced by the desk's clock (``sim/desk/replaying.py``) or the live feed
(``adapters/live.py``). Port 0 binds a free port; the URL is printed once the socket is bound.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

from sim.errors import InputError
from sim.web.candles import CandleBook
from sim.web.kernel import WebDesk

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
LIVE_BAR_MS = 60_000


def check_bind(host: str, token: str | None) -> None:
    """Another address than this machine's loopback needs a token (else anyone could trade)."""
    if host not in LOCAL_HOSTS and not token:
        raise InputError(
            f"binding {host} lets other machines reach the desk: pass --token SECRET too "
            "(requests then need ?token=SECRET or Authorization: Bearer SECRET)"
        )


def open_desk(
    settings: Any, *, replay: Path | None, symbols: list[str] | None, account: str | None,
    exchange: str | None, speed: float, endpoint: str | None, journal: Path,
) -> WebDesk:  # fmt: skip
    """The session over its journal, with its feed (not started) and its candle book."""
    from adapters.specs import load_spec_book
    from sim.desk.replaying import desk_symbols, first_input, replay_path
    from sim.desk.session import DeskOptions, DeskSession
    from sim.display import fmt, ts_text

    venue = exchange or settings.exchange.default
    book = load_spec_book(venue, settings, endpoint=endpoint if replay is None else None)
    wanted = desk_symbols(book, symbols)
    replay = replay_path(replay, settings.data.data_dirs, wanted)
    recorded: Any = None
    if replay is not None:
        recorded, start_ms = first_input(replay, venue, wanted)
        where = f"replay {replay} {'paused' if speed == 0 else f'×{fmt(speed)}'}"
    else:
        start_ms, where = int(time.time() * 1000), f"live {endpoint or venue}"
    options = DeskOptions.from_settings(
        settings, account=account, exchange=venue, mark_from_last=replay is not None
    )
    session = DeskSession.open(options, book, journal, start_ms=start_ms, kind="web",
                               params={"source": where, "symbols": wanted})  # fmt: skip
    try:
        if recorded is None:
            from adapters.live import open_feed

            feed = open_feed(venue, wanted, settings, endpoint=endpoint)
            return WebDesk(session, wanted, CandleBook(LIVE_BAR_MS), where, feed)
        from adapters.pricepath import MarketData
        from sim.desk.replaying import replay_clock, replay_feed, replay_notes, resume_ms

        start_ms = resume_ms(session, recorded, wanted, start_ms)
        for line in replay_notes(recorded, wanted):
            session.note(line)
        session.clock = replay_clock(recorded, speed)
        if speed == 0:
            session.note(f"replay paused at {ts_text(start_ms)} UTC: step, resume or speed")
        feed = replay_feed(session, recorded, wanted, start_ms, session.clock)
        market = recorded if isinstance(recorded, MarketData) else None
        return WebDesk(session, wanted, CandleBook(session.clock.bar_ms, market), where, feed)
    except BaseException:
        session.close()
        raise


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0: a free one); InputError when it is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise InputError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket, host: str, token: str | None) -> str:
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/" + (f"?token={token}" if token else "")


def serve(
    app: Any, sock: socket.socket, url: str, desk: WebDesk, log_level: str = "warning"
) -> None:
    """Run uvicorn on the bound socket until Ctrl-C (or the journal fails); URL to stdout first."""
    import uvicorn

    config = uvicorn.Config(app, log_level=log_level, lifespan="on", ws="auto")
    server = uvicorn.Server(config)
    desk.on_fatal = lambda: setattr(server, "should_exit", True)
    print(f"microfut web: {url}", flush=True)
    print("Ctrl-C stops the desk (the journal keeps everything)", file=sys.stderr, flush=True)
    # uvicorn shuts down cleanly on SIGINT/SIGTERM, then raises the signal again once its own
    # handlers are gone: SIGTERM then stops like Ctrl-C (the caller closes the journal) instead
    # of killing the process with the default action
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        asyncio.run(server.serve(sockets=[sock]))
    finally:
        signal.signal(signal.SIGTERM, previous)


def _terminated(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
