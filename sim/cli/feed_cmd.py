"""`microfut record` and `microfut exchange serve`: keep what a feed sees; a venue to practise on.

``record`` tees every raw frame of the live feed (``adapters/live.py``) into a recording folder
(``adapters/record.py``) until ``--duration`` passes or Ctrl-C. ``exchange serve`` runs the
loopback exchange (``adapters/loopback/server.py``) so ``--endpoint`` can point at it offline.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from sim.cli import context, render
from sim.cli.flags import JsonOpt
from sim.errors import InputError

if TYPE_CHECKING:
    from adapters.record import Recorder

exchange_app = typer.Typer(help="A loopback exchange serving recorded data on 127.0.0.1.")

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd]?)$")
_UNIT_S = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """``90``, ``2s``, ``30m``, ``1h``, ``1d`` → seconds; InputError otherwise."""
    m = _DURATION.match(text.strip().lower())
    if not m or float(m.group(1)) <= 0:
        raise InputError(f"--duration must look like '90s', '30m' or '1h', was {text!r}")
    return float(m.group(1)) * _UNIT_S[m.group(2)]


@contextlib.contextmanager
def _stop_on_signals(stop: asyncio.Event) -> Iterator[None]:
    """Ctrl-C / SIGTERM set ``stop`` instead of tearing the event loop down mid-write.

    A plain ``signal.signal`` handler (main thread only) that wakes the loop thread-safely.
    """
    loop = asyncio.get_running_loop()

    def on_signal(signum: int, frame: object) -> None:
        loop.call_soon_threadsafe(stop.set)

    previous: dict[int, Any] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError):  # not the main thread: keep the defaults
            previous[sig] = signal.signal(sig, on_signal)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


# -- record -----------------------------------------------------------------------------------
@dataclass
class RecordResult:
    """What one `microfut record` run wrote."""

    folder: Path
    exchange: str
    symbols: list[str]
    frames: int
    files: list[str]
    seconds: float
    stopped_by: str
    inputs: dict[str, int] = field(default_factory=dict)
    feed_status: list[str] = field(default_factory=list)  # stale / recovered lines, in order


class _Tee:
    """Forwards raw frames to the recorder once it exists (the feed is built first)."""

    def __init__(self) -> None:
        self.target: Recorder | None = None

    def write(self, recv_ns: int, venue: str, text: str) -> None:
        if self.target is not None:
            self.target.write(recv_ns, venue, text)


def _default_out(exchange: str) -> Path:
    stamp = datetime.now(tz=UTC).strftime("%Y%m%dT%H%M%SZ")
    return context.settings().data.write_path / "recordings" / f"{exchange}-{stamp}"


async def _record(
    exchange: str, symbols: list[str], duration_s: float | None, out: Path, endpoint: str | None
) -> RecordResult:
    from adapters.ccxt_feed import CcxtFeed
    from adapters.live import cancel_and_wait, check_reachable, open_feed
    from adapters.record import Recorder, status_line
    from sim import __version__
    from sim.engine.market import FeedStatus

    settings = context.settings()
    status_lines: list[str] = []
    tee = _Tee()
    feed: Any = open_feed(exchange, symbols, settings, endpoint=endpoint, on_raw=tee.write)
    recorder: Recorder | None = None
    counts: Counter[str] = Counter()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    started = loop.time()
    stopped_by = "duration"
    try:
        if isinstance(feed, CcxtFeed):
            await feed.start()  # loads markets: FeedError now if the venue cannot be reached
        else:
            await check_reachable(exchange, settings, endpoint)
        recorder = tee.target = Recorder(out, exchange, symbols, __version__)
        started = loop.time()

        async def consume() -> None:
            n = 0
            async for item in feed:
                counts[type(item).__name__] += 1
                n += 1
                if isinstance(item, FeedStatus):
                    status_lines.append(status_line(item))
                    render.stderr.print(status_lines[-1], markup=False, highlight=False)
                if n % 200 == 0:
                    status.update(f"recording {out.name}: {n} inputs (Ctrl-C stops)")

        with _stop_on_signals(stop), render.stderr.status(f"recording {out.name}") as status:
            consumer = asyncio.create_task(consume())
            stopper = asyncio.create_task(stop.wait())
            done, _ = await asyncio.wait(
                {consumer, stopper}, timeout=duration_s, return_when=asyncio.FIRST_COMPLETED
            )
            stopper.cancel()
            if stopper in done:
                stopped_by = "interrupt"
            elif consumer in done:
                stopped_by = "feed ended"
            await cancel_and_wait([consumer])
            if not consumer.cancelled() and consumer.exception() is not None:
                raise consumer.exception()  # type: ignore[misc]  # the error that ended the feed
    finally:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(10):
                await feed.aclose()
        manifest = recorder.close() if recorder is not None else None
    assert manifest is not None
    return RecordResult(
        folder=out,
        exchange=exchange,
        symbols=symbols,
        frames=manifest.frames,
        files=[f.name for f in manifest.files],
        seconds=round(loop.time() - started, 3),
        stopped_by=stopped_by,
        inputs=dict(sorted(counts.items())),
        feed_status=status_lines,
    )


def record(
    exchange: Annotated[
        str | None,
        typer.Option("--exchange", "-e", help="ccxt id (default: the exchange.default setting)"),
    ] = None,
    symbols: Annotated[
        str,
        typer.Option("--symbols", "-s", help="comma-separated ccxt symbols: BTC/USDT:USDT"),
    ] = "",
    duration: Annotated[
        str | None, typer.Option("--duration", "-d", help="stop after e.g. 90s, 30m, 1h")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="recording folder (default data/recordings/<exchange>-<UTC>)"),
    ] = None,
    endpoint: Annotated[
        str | None, typer.Option("--endpoint", help="compatible host, e.g. the loopback's URL")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Record the raw live feed (gzip JSON lines + manifest) until --duration or Ctrl-C."""
    from adapters.live import check_symbols

    settings = context.settings()
    venue = exchange or settings.exchange.default
    wanted = check_symbols(venue, [s.strip() for s in symbols.split(",") if s.strip()])
    duration_s = parse_duration(duration) if duration is not None else None
    folder = out if out is not None else _default_out(venue)
    result = asyncio.run(_record(venue, wanted, duration_s, folder, endpoint))
    if as_json:
        render.print_json(result)
        return
    rows = [
        ("folder", str(result.folder)),
        ("exchange", result.exchange),
        ("symbols", ", ".join(result.symbols)),
        ("frames", result.frames),
        ("files", ", ".join(result.files)),
        ("seconds", f"{result.seconds:g}"),
        ("stopped by", result.stopped_by),
        *((f"inputs: {k}", v) for k, v in result.inputs.items()),
    ]
    render.stdout.print(render.kv_table("recording", rows))
    if not result.inputs:
        render.warn("no market data was received; check the symbols and the endpoint")


# -- exchange serve ---------------------------------------------------------------------------
@dataclass
class ServeResult:
    venue: str
    base_url: str
    ws_url: str
    frames_sent: int = 0
    connections: int = 0


async def _serve(
    venue: str, data_dirs: list[Path], port: int, faults: str, speed: float, as_json: bool
) -> ServeResult:
    from adapters.loopback.faults import parse_fault_spec
    from adapters.loopback.server import LoopbackExchange

    fault_list = parse_fault_spec(faults) if faults else []
    lb = LoopbackExchange(venue, data_dirs, port=port, speed=speed or None, faults=fault_list)
    stop = asyncio.Event()
    await lb.start_server()  # InputError when the port is taken, DataError without captures
    result = ServeResult(venue, lb.base_url, lb.ws_url)
    try:
        _announce(result, as_json)
        with _stop_on_signals(stop):
            await _wait_showing_progress(lb, stop, as_json)
    finally:
        result.frames_sent, result.connections = lb.frames_sent, lb.connections_opened
        await lb.close()
    return result


async def _wait_showing_progress(lb: Any, stop: asyncio.Event, as_json: bool) -> None:
    """Until stopped; on a terminal a status line says what was served so far (every second)."""
    if as_json:
        await stop.wait()
        return
    with render.stderr.status("serving: waiting for a client") as status:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)
            status.update(
                f"serving: {lb.connections_opened} websocket connection(s), "
                f"{lb.frames_sent:,} frames sent"
            )


def _announce(result: ServeResult, as_json: bool) -> None:
    if as_json:
        render.print_json(
            {"venue": result.venue, "base_url": result.base_url, "ws_url": result.ws_url}
        )
    else:
        render.stdout.print(f"loopback {result.venue} exchange serving recorded data")
        render.stdout.print(f"base URL: {result.base_url}")
        render.stdout.print(f"websocket: {result.ws_url}")
        render.stderr.print(f"use --endpoint {result.base_url} with record/trade; Ctrl-C stops it")
    sys.stdout.flush()


@exchange_app.command("serve")
def serve(
    venue: Annotated[
        str, typer.Option("--venue", help="binanceusdm, binancecoinm or bybit")
    ] = "binanceusdm",
    data: Annotated[
        Path | None,
        typer.Option(
            "--data", help="folder with the recorded captures (default: the data.dirs setting)"
        ),
    ] = None,
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="0 = a free port")] = 0,
    fault: Annotated[
        str, typer.Option("--fault", help="faults to inject, e.g. drop@200,silence@400:3")
    ] = "",
    speed: Annotated[
        float, typer.Option("--speed", min=0, help="×N the recorded pace; 0 = flat out")
    ] = 1.0,
    as_json: JsonOpt = False,
) -> None:
    """Serve recorded REST and websocket data on 127.0.0.1 until Ctrl-C."""
    if data is None:
        dirs = context.settings().data.data_dirs
    else:  # the data root, or the venue's own folder inside it
        dirs = [data.parent if data.name == venue else data]
    asyncio.run(_serve(venue, dirs, port, fault, speed, as_json))
    render.stderr.print("loopback exchange stopped")


def register(app: typer.Typer) -> None:
    """Attach this module's commands to the root app."""
    app.command("record")(record)
    app.add_typer(exchange_app, name="exchange")
