"""`microfut data download` and `microfut data list`: get market data; see what is on disk.

``download`` brings candles, mark candles and funding rates of a venue's symbols up to date in
the data home's downloads folder (``adapters/download.py``); ``list`` shows every series microfut
can replay: downloaded, bundled and in the configured data folders, with rows and gaps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.table import Table

from sim.cli import context, render
from sim.cli.flags import JsonOpt
from sim.errors import DataError, InputError

if TYPE_CHECKING:
    from adapters.download import SeriesJob, SeriesResult

data_app = typer.Typer(help="Download market data and list what microfut can replay.")


def data_home() -> Path:
    return context.settings().data.home_path


def downloads_root() -> Path:
    return context.settings().data.downloads_path


# -- download ---------------------------------------------------------------------------------
@dataclass
class DownloadResult:
    exchange: str
    start: datetime
    until: datetime
    folder: Path
    series: list[SeriesResult] = field(default_factory=list)
    risk_limits: list[dict[str, Any]] = field(default_factory=list)


def _download(
    exchange: str,
    symbols: list[str],
    timeframe: str,
    start_ms: int,
    end_ms: int,
    endpoint: str | None,
    quiet: bool,
) -> DownloadResult:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from adapters import download as dl
    from adapters.exchanges import make_exchange

    ex = make_exchange(exchange, endpoint=endpoint)
    dl.load_markets(ex, exchange)
    dl.check_symbols(ex, exchange, symbols)
    dl.check_timeframe(ex, exchange, timeframe)
    root = downloads_root()
    result = DownloadResult(exchange, _dt(start_ms), _dt(end_ms), root / exchange)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("pages"), TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=render.stderr, disable=quiet, transient=True) as progress:
        for symbol in symbols:
            for job in dl.plan(ex, exchange, symbol, timeframe, start_ms, end_ms, root):
                result.series.append(_run_job(dl, ex, job, progress))
                if job.kind == "futures" and result.series[-1].rows == 0:
                    raise DataError(
                        f"{exchange} has no {job.label} between {_text(start_ms)} and "
                        f"{_text(end_ms)}; choose a range the venue traded in"
                    )
            if exchange == "bybit":  # an extra: a refusal is a warning, not a failed download
                try:
                    path, n = dl.save_risk_limits(ex, exchange, symbol, root)
                    note = ""
                except DataError as e:
                    path, n, note = None, 0, str(e)
                result.risk_limits.append(
                    {"symbol": symbol, "tiers": n, "path": path, "error": note}
                )
    return result


def _run_job(dl: Any, ex: Any, job: SeriesJob, progress: Any) -> SeriesResult:
    from adapters.series_store import read_series

    total = len(job.windows(read_series(job.path, job.kind).covered))
    task = progress.add_task(job.label, total=max(total, 1), completed=0 if total else 1)
    try:
        return dl.run_job(ex, job, lambda _job, _rows: progress.advance(task))
    except Exception as e:
        from sim.errors import FeedError

        if isinstance(e, FeedError):
            raise FeedError(
                f"{e}; the pages fetched so far are kept in {job.path.parent}: "
                "run the same command again to fetch the rest"
            ) from None
        raise


def _dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _text(ms: int) -> str:
    return _dt(ms).strftime("%Y-%m-%d %H:%M")


@data_app.command("download")
def download(
    symbols: Annotated[
        str, typer.Option("--symbols", "-s", help="comma-separated ccxt symbols: ETH/USDT:USDT")
    ],
    start: Annotated[str, typer.Option("--from", help="first day (UTC), e.g. 2025-03-10")],
    exchange: Annotated[
        str | None,
        typer.Option("--exchange", "-e", help="ccxt id (default: the exchange.default setting)"),
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="end, exclusive (UTC); default: now")
    ] = None,
    timeframe: Annotated[str, typer.Option("--timeframe", "-t", help="candle timeframe")] = "1h",
    endpoint: Annotated[
        str | None, typer.Option("--endpoint", help="compatible host, e.g. the loopback's URL")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Download trade candles, mark candles and funding rates (incremental, resumable)."""
    from adapters.download import parse_when

    start_ms = parse_when(start, "--from")
    now_ms = int(datetime.now(tz=UTC).timestamp() * 1000)
    end_ms = parse_when(until, "--until") if until is not None else now_ms
    if start_ms >= end_ms:
        raise InputError(
            f"--from {start} is not before --until {until or 'now'}; the range is empty"
        )
    if start_ms >= now_ms:
        raise InputError(f"--from {start} is in the future; there is nothing to download yet")
    wanted = [s.strip() for s in symbols.split(",") if s.strip()]
    exchange = exchange or context.settings().exchange.default
    result = _download(exchange, wanted, timeframe, start_ms, end_ms, endpoint, as_json)
    if as_json:
        render.print_json(result)
        return
    rows = [
        (s.symbol, s.kind, s.timeframe, s.rows, s.new_rows, s.requests, _when(s.first),
         _when(s.last), s.path.name)
        for s in result.series
    ]  # fmt: skip
    columns = ("symbol", "kind", "tf", "rows", "new", "requests", "first", "last", "file")
    render.stdout.print(render.grid_table(f"downloaded into {result.folder}", columns, rows))
    for s in result.series:
        if s.rows == 0:
            render.warn(f"{s.exchange} served no {s.kind} rows for {s.symbol} in this range")
    for r in result.risk_limits:
        if r["tiers"]:
            render.stdout.print(f"risk-limit tiers for {r['symbol']}: {r['tiers']} in {r['path']}")
        else:
            render.warn(r["error"] or f"{exchange} served no risk-limit tiers for {r['symbol']}")


def _when(value: datetime | None) -> str:
    return "-" if value is None else value.strftime("%Y-%m-%d %H:%M")


# -- list -------------------------------------------------------------------------------------
@dataclass
class ListedSeries:
    source: str  # downloaded | bundled | data dir
    venue: str
    symbol: str
    kind: str
    timeframe: str
    first: datetime | None
    last: datetime | None
    rows: int
    gaps: int
    path: Path
    error: str = ""  # the file could not be read: why (rows and gaps are then 0)


def count_gaps(ts_ms: Any, step_ms: int) -> int:
    """Missing bars between the first and last row: Σ (round(Δt / step) − 1) over the holes."""
    import numpy as np

    if len(ts_ms) < 2 or step_ms <= 0:
        return 0
    missing = np.rint(np.diff(np.asarray(ts_ms, dtype="int64")) / step_ms).astype("int64") - 1
    return int(missing[missing > 0].sum())


def _sources() -> list[tuple[str, Path]]:
    """(source, folder) in search order: downloaded venues, data folders, the bundled sample."""
    from config.settings import bundled_dir

    downloads, bundled = downloads_root(), bundled_dir()
    found: list[tuple[str, Path]] = []
    if downloads.is_dir():
        found += [("downloaded", d) for d in sorted(downloads.iterdir()) if d.is_dir()]
    for d in context.settings().data.data_dirs:
        if d.is_dir() and d != downloads:
            found.append(("bundled" if d == bundled else "data dir", d))
    seen: set[Path] = set()
    out = []
    for source, d in found:
        key = d.resolve()
        if key not in seen:
            seen.add(key)
            out.append((source, d))
    return out


def list_all() -> list[ListedSeries]:
    import ccxt

    from adapters.candles import list_series, load_series

    out = []
    for source, folder in _sources():
        for sf in list_series(folder):
            venue = folder.name if source == "downloaded" else sf.path.parent.name
            try:
                df = load_series(sf.path)
            except DataError as e:  # one damaged file must not hide the others
                out.append(ListedSeries(source, venue, sf.symbol, sf.kind, sf.timeframe,
                                        None, None, 0, 0, sf.path, str(e)))  # fmt: skip
                continue
            ts = df["ts_ms"]
            try:
                step = int(ccxt.Exchange.parse_timeframe(sf.timeframe) * 1000)
            except Exception:  # a name that is no timeframe: no gap count
                step = 0
            out.append(
                ListedSeries(
                    source, venue, sf.symbol, sf.kind, sf.timeframe,
                    _dt(int(ts.iloc[0])) if len(ts) else None,
                    _dt(int(ts.iloc[-1])) if len(ts) else None,
                    len(ts), count_gaps(ts.to_numpy(), step), sf.path,
                )
            )  # fmt: skip
    return out


KIND_WORD = {"futures": "trades", "mark": "mark", "funding_rate": "funding"}


def _series_table(title: str, items: list[ListedSeries]) -> Table:
    """One folder's series, narrow enough for 80 columns: nothing a user types is cut."""
    table = Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    for name in ("symbol", "series", "first UTC", "last UTC"):
        table.add_column(name, no_wrap=True)
    for name in ("rows", "gaps"):
        table.add_column(name, justify="right", no_wrap=True)
    for s in items:
        table.add_row(
            s.symbol, f"{KIND_WORD.get(s.kind, s.kind)} {s.timeframe}", _when(s.first),
            _when(s.last), f"{s.rows:,}", f"{s.gaps:,}",
        )  # fmt: skip
    return table


@data_app.command("list")
def list_cmd(as_json: JsonOpt = False) -> None:
    """Every candle, mark and funding series microfut can replay, and where the data home is."""
    home = data_home()
    series = list_all()
    if as_json:
        render.print_json({"data_home": home, "downloads": downloads_root(), "series": series})
        return
    render.stdout.print(f"data home: {home}", markup=False, highlight=False)
    groups: dict[tuple[str, str], list[ListedSeries]] = {}
    for s in series:
        groups.setdefault((s.source, s.venue), []).append(s)
    for (source, venue), items in groups.items():
        render.stdout.print(_series_table(f"{source} · {venue}", items))
    if not series:
        render.warn("no series found; run `microfut data download` to fetch some")
    for s in series:
        if s.error:
            render.warn(s.error)


def register(app: typer.Typer) -> None:
    """Attach this module's commands to the root app."""
    app.add_typer(data_app, name="data")
