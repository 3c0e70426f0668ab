"""Open the web desk (sessions, feeds, candles) and serve it with uvicorn on a chosen socket.

Set up like ``microfut trade``: the same spec book, account, journal and resume rules, a replay of
recorded candles paced by the desk's clock (``sim/desk/replaying.py``) or the live feed
(``adapters/live.py``). Port 0 binds a free port; the URL is printed once the socket is bound.
"""

from __future__ import annotations

import asyncio
import heapq
import signal
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sim.errors import InputError
from sim.web.candles import CandleBook
from sim.web.kernel import Tagged, Venue, WebDesk, tagged

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
LIVE_BAR_MS = 60_000


def check_bind(host: str, token: str | None) -> None:
    """Another address than this machine's loopback needs a token (else anyone could trade)."""
    if host not in LOCAL_HOSTS and not token:
        raise InputError(
            f"binding {host} lets other machines reach the desk: pass --token SECRET too "
            "(requests then need ?token=SECRET or Authorization: Bearer SECRET)"
        )


def venue_names(exchange: list[str] | str | None, default: str) -> list[str]:
    """``--exchange`` as given (repeated and/or comma lists), in order, once each."""
    given = [exchange] if isinstance(exchange, str) else exchange or []
    names = [n.strip().lower() for e in given for n in e.split(",") if n.strip()]
    return list(dict.fromkeys(names)) or [default]


def account_name(account: str, venues: list[str], venue: str) -> str:
    """The first venue trades on the account as named; each other venue on ``NAME-VENUE``
    (an account lives on one venue: its journal rows, positions and wallet are that venue's)."""
    return account if venue == venues[0] else f"{account}-{venue}"


def _names_venue(path: Path, venue: str) -> Path | None:
    """The part of ``path`` (itself or a parent folder) named after ``venue``: binance_usdm
    and binanceusdm both name ``binanceusdm``."""
    for i, part in enumerate(path.parts):
        if part.lower().replace("_", "").replace("-", "") == venue:
            return Path(*path.parts[: i + 1])
    return None


def venue_root(root: Path, venue: str, symbols: list[str]) -> Path | None:
    """Where under ``root`` ``venue``'s recorded data lies: ``root`` itself when it is named
    after the venue, else the venue's folder holding candles for one of ``symbols``."""
    from adapters.candles import list_series

    root = root.resolve()
    if not root.exists():
        return None
    if _names_venue(root, venue) is not None:
        return root
    for sf in list_series(root):
        if sf.kind == "futures" and sf.symbol in symbols:
            found = _names_venue(sf.path.relative_to(root), venue)
            if found is not None:
                return root / found
    return None


def replay_roots(
    replay: Path | None, venues: list[str], wanted: dict[str, list[str]], data_dirs: list[Path]
) -> dict[str, Path | None]:
    """The recording each venue replays (None: live prices for all).

    One venue: ``--replay`` as ``microfut trade`` takes it. Several: a folder applies to the
    venues whose data it holds (folders named after them, like ohlcv/binance_usdm); a folder
    naming none applies to the first venue; ``auto``, and a venue the folder holds nothing for,
    look in the data folders for a folder named after the venue with its symbols' candles.
    """
    from sim.desk.replaying import AUTO, replay_path

    if replay is None:
        return dict.fromkeys(venues)
    if len(venues) == 1:
        return {venues[0]: replay_path(replay, data_dirs, wanted[venues[0]])}
    auto = replay == Path(AUTO) and not replay.exists()
    if not auto and not replay.exists():
        raise InputError(f"--replay {replay} does not exist; point it at recorded data or 'auto'")
    roots: dict[str, Path | None] = {}
    for v in venues:
        found = None if auto else venue_root(replay, v, wanted[v])
        for d in [] if found is not None else data_dirs:
            found = venue_root(d, v, wanted[v])
            if found is not None:
                break
        roots[v] = found
    if not auto and not any(roots[v] is not None and _within(roots[v], replay) for v in venues):
        roots[venues[0]] = replay  # a folder naming no venue: the first venue's, as on one
    missing = [v for v in venues if roots[v] is None]
    if missing:
        where = "the data folders" if auto else f"{replay} or the data folders"
        raise InputError(
            f"no recorded data for {', '.join(missing)} in {where} (a folder named after the "
            f"venue, like ohlcv/binance_usdm); fetch it with `microfut data download --exchange "
            f"{missing[0]}` or trade those venues live (without --replay)"
        )
    return roots


def venue_symbols(
    books: dict[str, Any], names: list[str], symbols: list[str] | None
) -> dict[str, list[str]]:
    """Each venue's symbols: all of ``--symbols`` on one venue; with several, each venue
    follows those it lists (BTC on both, XRP on Bybit alone), and a symbol none lists is the
    first venue's error."""
    from sim.desk.replaying import desk_symbols, symbol_names

    wanted = symbol_names(symbols)
    if len(names) == 1 or not wanted:
        return {v: desk_symbols(books[v], symbols) for v in names}
    out: dict[str, list[str]] = {v: [] for v in names}
    for name in wanted:
        errors = []
        for v in names:
            try:
                out[v] += desk_symbols(books[v], [name])
            except InputError as e:
                errors.append(e)
        if len(errors) == len(names):
            raise errors[0]
    empty = [v for v in names if not out[v]]
    if empty:
        raise InputError(f"none of --symbols {','.join(wanted)} is listed on {empty[0]}")
    return out


def venue_endpoints(given: list[str] | str | None, names: list[str]) -> dict[str, str]:
    """Each venue's --endpoint: a plain URL for the only venue, else VENUE=URL per venue (a
    venue without one trades on its public exchange)."""
    values = [given] if isinstance(given, str) else list(given or [])
    out: dict[str, str] = {}
    for value in values:
        head, sep, url = value.partition("=")
        if not sep or "://" in head:  # a plain URL (its query may hold "=")
            if len(names) > 1:
                raise InputError(
                    f"--endpoint {value}: with several venues name the venue, e.g. "
                    f"--endpoint {names[0]}=URL"
                )
            head, url = names[0], value
        venue = head.strip().lower()
        if venue not in names:
            raise InputError(
                f"--endpoint {value}: {venue} is not a venue of this desk ({', '.join(names)})"
            )
        if venue in out:
            raise InputError(f"--endpoint: {venue} is given twice")
        out[venue] = url.strip()
    return out


def _within(path: Path | None, root: Path) -> bool:
    return path is not None and path.resolve().is_relative_to(root.resolve())


def open_desk(
    settings: Any, *, replay: Path | None, symbols: list[str] | None, account: str | None,
    exchange: list[str] | str | None, speed: float, endpoint: list[str] | str | None,
    journal: Path,
) -> WebDesk:  # fmt: skip
    """The sessions (one per venue) over the journal, with their feeds (not started) and
    candle books; one replay clock drives every venue's recording."""
    from adapters.specs import load_spec_book

    names = venue_names(exchange, settings.exchange.default)
    where = venue_endpoints(endpoint, names)
    books = {v: load_spec_book(v, settings, endpoint=where.get(v) if replay is None else None)
             for v in names}  # fmt: skip
    wanted = venue_symbols(books, names, symbols)
    roots = replay_roots(replay, names, wanted, settings.data.data_dirs)
    opened: list[Venue] = []
    try:
        if replay is None:
            return _live(settings, names, books, wanted, account, where, journal, opened)
        return _replayed(settings, names, books, wanted, roots, account, speed, journal, opened)
    except BaseException:
        for v in opened:
            v.session.close()
        raise


def _open_session(
    settings: Any, venue: str, names: list[str], book: Any, account: str | None,
    journal: Path, start_ms: int, where: str, symbols: list[str], replaying: bool,
) -> Any:  # fmt: skip
    from sim.desk.session import DeskOptions, DeskSession

    name = account_name(account or settings.account.name, names, venue)
    options = DeskOptions.from_settings(
        settings, account=name, exchange=venue, mark_from_last=replaying
    )
    return DeskSession.open(options, book, journal, start_ms=start_ms, kind="web",
                            params={"source": where, "symbols": symbols})  # fmt: skip


def _live(
    settings: Any, names: list[str], books: dict[str, Any], wanted: dict[str, list[str]],
    account: str | None, endpoints: dict[str, str], journal: Path, opened: list[Venue],
) -> WebDesk:  # fmt: skip
    from adapters.live import open_feed

    now = int(time.time() * 1000)
    feeds = []
    for i, v in enumerate(names):
        endpoint = endpoints.get(v)
        where = f"live {endpoint or v}"
        session = _open_session(settings, v, names, books[v], account, journal, now, where,
                                wanted[v], replaying=False)  # fmt: skip
        opened.append(Venue(v, session, wanted[v], CandleBook(LIVE_BAR_MS), where))
        feeds.append(tagged(i, open_feed(v, wanted[v], settings, endpoint=endpoint)))
    return WebDesk(opened, feeds)


def _replayed(
    settings: Any, names: list[str], books: dict[str, Any], wanted: dict[str, list[str]],
    roots: dict[str, Path | None], account: str | None, speed: float, journal: Path,
    opened: list[Venue],
) -> WebDesk:  # fmt: skip
    from adapters.pricepath import MarketData
    from sim.desk.pacing import ReplayClock, as_async
    from sim.desk.replaying import first_input, replay_clock, replay_inputs, replay_notes, resume_ms
    from sim.display import fmt, ts_text

    pace = "paused" if speed == 0 else f"×{fmt(speed)}"
    bar_ms, streams, first = [], [], []
    for i, v in enumerate(names):
        root = roots[v]
        assert root is not None
        recorded, start_ms = first_input(root, v, wanted[v])
        where = f"replay {root} {pace}"
        session = _open_session(settings, v, names, books[v], account, journal, start_ms, where,
                                wanted[v], replaying=True)  # fmt: skip
        market = recorded if isinstance(recorded, MarketData) else None
        bar_ms.append(replay_clock(recorded, speed).bar_ms)
        opened.append(Venue(v, session, wanted[v], CandleBook(bar_ms[-1], market), where))
        start_ms = resume_ms(session, recorded, wanted[v], start_ms)
        first.append(start_ms)
        for line in replay_notes(recorded, wanted[v]):
            session.note(line)
        inputs = replay_inputs(session, recorded, wanted[v], start_ms)
        streams.append(_tag(i, inputs))
    clock = ReplayClock(speed, min(bar_ms), paused=speed == 0)
    if speed == 0:
        opened[0].session.note(f"replay paused at {ts_text(min(first))} UTC: step, resume or speed")
    merged = heapq.merge(*streams, key=lambda t: t.ts_ms)  # one clock: every venue in time order
    return WebDesk(opened, [clock.play(as_async(merged))], clock)


def _tag(venue: int, inputs: Iterator[Any]) -> Iterator[Tagged]:
    for inp in inputs:
        yield Tagged(venue, inp)


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
