"""Download trade candles, mark-price candles and funding rates through ccxt, page by page.

Each series is one Parquet file under ``<downloads>/<exchange>/`` (``series_store``) that remembers
the ranges already fetched, so a rerun asks the venue only for what is missing and a run cut
short by the network resumes where it stopped: every page is merged and written atomically
before the next one is asked for. Pages are time windows holding at most one venue page of rows
(``limit`` bars, or ``limit`` hours of funding), which gives the same rows whether the venue
pages forward (Binance) or newest first (Bybit). ccxt's own rate limiter paces the requests
(``enableRateLimit``, set by ``adapters.exchanges.make_exchange``).

Mark candles and funding rates are fetched at the funding timeframe (8h, or 4h where the venue
has no 8h bars), as freqtrade does; the trade candles at the timeframe asked for.
"""

from __future__ import annotations

import contextlib
import difflib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ccxt
import pandas as pd

from adapters.candles import file_stem
from adapters.series_store import (
    StoredSeries,
    missing_ranges,
    read_series,
    write_json_atomic,
    write_series,
)
from sim.errors import DataError, FeedError, InputError

# (klines, funding) rows per request. ccxt's binance caps klines at 1000 (Binance allows 1500,
# but ccxt reports wider ranges as unreliable); Binance funding 1000; Bybit 1000 / 200.
PAGE_LIMITS = {"binanceusdm": (1000, 1000), "binancecoinm": (1000, 1000), "bybit": (1000, 200)}
DEFAULT_LIMITS = (500, 100)
FUNDING_STEP_MS = 3_600_000  # funding windows assume at most one rate per hour
KIND_LABEL = {"futures": "trade candles", "mark": "mark candles", "funding_rate": "funding rates"}


@dataclass(frozen=True, slots=True)
class SeriesJob:
    """One series to bring up to date over ``[start_ms, end_ms)``."""

    exchange: str
    symbol: str
    kind: str  # futures | mark | funding_rate
    timeframe: str
    step_ms: int
    start_ms: int
    end_ms: int
    limit: int
    path: Path

    @property
    def label(self) -> str:
        return f"{self.symbol} {self.timeframe} {KIND_LABEL[self.kind]}"

    def windows(self, covered: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """The missing part of the range cut into windows of at most one page."""
        width = self.limit * (FUNDING_STEP_MS if self.kind == "funding_rate" else self.step_ms)
        out = []
        for s, e in missing_ranges(covered, self.start_ms, self.end_ms):
            out.extend((w, min(w + width, e)) for w in range(s, e, width))
        return out


@dataclass
class SeriesResult:
    """What one series holds after the run (rows and first/last within the asked range)."""

    exchange: str
    symbol: str
    kind: str
    timeframe: str
    path: Path
    rows: int
    new_rows: int
    requests: int
    first: datetime | None
    last: datetime | None


def parse_when(text: str, flag: str) -> int:
    """``2025-03-10`` or an ISO time (UTC unless it says otherwise) → epoch ms."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(
            f"{flag} must be a date like 2025-03-10 or 2025-03-10T08:00, was {text!r}"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


@contextlib.contextmanager
def venue_errors(exchange: str, doing: str) -> Iterator[None]:
    """ccxt errors → microfut's: network failures exit 4, the venue's error payloads exit 2."""
    try:
        yield
    except ccxt.NetworkError as e:
        raise FeedError(f"{exchange}: network failure while {doing} ({_short(e)})") from None
    except ccxt.BaseError as e:
        raise DataError(f"{exchange} refused {doing}: {_short(e)}") from None


def _short(e: Exception) -> str:
    text = " ".join(str(e).split())
    return text if len(text) <= 200 else text[:197] + "..."


def load_markets(ex: Any, exchange: str) -> dict[str, Any]:
    with venue_errors(exchange, "loading its markets"):
        return ex.load_markets()


def check_symbols(ex: Any, exchange: str, symbols: list[str]) -> list[str]:
    """Every symbol must be one of the venue's markets; InputError naming close matches."""
    if not symbols:
        raise InputError("--symbols needs at least one symbol, e.g. BTC/USDT:USDT")
    for s in symbols:
        if s not in ex.markets:
            close = difflib.get_close_matches(s, list(ex.markets), n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise InputError(f"{exchange} has no market {s!r}{hint}")
    return symbols


def check_timeframe(ex: Any, exchange: str, timeframe: str) -> int:
    """The timeframe's length in ms; InputError when the venue has no such bars."""
    frames = ex.timeframes or {}
    if timeframe not in frames:
        raise InputError(f"{exchange} has no {timeframe!r} candles; it offers {', '.join(frames)}")
    return int(ex.parse_timeframe(timeframe) * 1000)


def plan(
    ex: Any,
    exchange: str,
    symbol: str,
    timeframe: str,
    start_ms: int,
    end_ms: int,
    root: Path,
    now_ms: int | None = None,
) -> list[SeriesJob]:
    """The series to fetch for one symbol: candles, then mark and funding for perpetuals.

    Candles end at the last closed bar (an unfinished bar is never stored as complete).
    """
    now = int(time.time() * 1000) if now_ms is None else now_ms
    klines, funding = PAGE_LIMITS.get(exchange, DEFAULT_LIMITS)
    market = ex.markets[symbol]
    funding_tf = "8h" if "8h" in (ex.timeframes or {}) else "4h"
    wanted = [("futures", timeframe)]
    if market.get("contract") and ex.has.get("fetchMarkOHLCV"):
        wanted.append(("mark", funding_tf if funding_tf in ex.timeframes else timeframe))
    if market.get("swap") and ex.has.get("fetchFundingRateHistory"):
        wanted.append(("funding_rate", "8h"))
    jobs = []
    for kind, tf in wanted:
        step = int(ex.parse_timeframe(tf) * 1000) if kind != "funding_rate" else FUNDING_STEP_MS
        if kind == "funding_rate":
            start, end = start_ms, min(end_ms, now)
        else:
            start = -(-start_ms // step) * step
            end = min(-(-end_ms // step) * step, now // step * step)
        end = max(start, end)
        path = root / exchange / f"{file_stem(symbol)}-{tf}-{kind}.parquet"
        limit = funding if kind == "funding_rate" else klines
        jobs.append(SeriesJob(exchange, symbol, kind, tf, step, start, end, limit, path))
    return jobs


def _fetch(ex: Any, job: SeriesJob, start: int, end: int) -> list[list[float]]:
    """One page: rows ``[ts_ms, values...]`` with ``start <= ts < end``."""
    params: dict[str, Any] = {"until": end - 1}
    if job.kind == "funding_rate":
        got = ex.fetch_funding_rate_history(job.symbol, start, job.limit, params)
        rows = [[int(r["timestamp"]), float(r["fundingRate"])] for r in got]
    else:
        if job.kind == "mark":
            params["price"] = "mark"
        got = ex.fetch_ohlcv(job.symbol, job.timeframe, start, job.limit, params)
        rows = [[int(r[0]), *(float(v) if v is not None else 0.0 for v in r[1:6])] for r in got]
    return [r for r in rows if start <= r[0] < end]


def run_job(
    ex: Any, job: SeriesJob, on_page: Callable[[SeriesJob, int], None] | None = None
) -> SeriesResult:
    """Fetch the missing windows of ``job``, writing the file after every page."""
    stored = read_series(job.path, job.kind)
    requests = 0
    new_rows = 0
    pending = job.windows(stored.covered)
    while pending:
        start, end = pending.pop(0)
        doing = f"downloading {job.label} from {_iso(start)}"
        with venue_errors(job.exchange, doing):
            rows = _fetch(ex, job, start, end)
        requests += 1
        done_to = end
        after_last = rows[-1][0] + (1 if job.kind == "funding_rate" else job.step_ms) if rows else 0
        if len(rows) >= job.limit and after_last < end:
            done_to = after_last  # a full page ended early: ask again from there
            pending.insert(0, (done_to, end))
        new_rows += _store(stored, job, rows, (start, done_to))
        if on_page is not None:
            on_page(job, len(rows))
    return _result(job, stored, new_rows, requests)


def _store(
    stored: StoredSeries, job: SeriesJob, rows: list[list[float]], span: tuple[int, int]
) -> int:
    cols = ["ts_ms", *stored.value_columns]
    frame = pd.DataFrame([r[: len(cols)] for r in rows], columns=cols)
    frame["ts_ms"] = frame["ts_ms"].astype("int64")
    added = stored.add(frame, span)
    if len(stored.frame):  # never write a file without rows (it could not be replayed)
        write_series(job.path, stored)
    return added


def _result(job: SeriesJob, stored: StoredSeries, new_rows: int, requests: int) -> SeriesResult:
    inside = stored.rows_in(job.start_ms, job.end_ms)
    ts = inside["ts_ms"]
    return SeriesResult(
        exchange=job.exchange,
        symbol=job.symbol,
        kind=job.kind,
        timeframe=job.timeframe,
        path=job.path,
        rows=len(inside),
        new_rows=new_rows,
        requests=requests,
        first=_dt(int(ts.iloc[0])) if len(ts) else None,
        last=_dt(int(ts.iloc[-1])) if len(ts) else None,
    )


def save_risk_limits(ex: Any, exchange: str, symbol: str, root: Path) -> tuple[Path | None, int]:
    """Bybit's public risk-limit tiers for the symbol as JSON ``{symbol: [tiers]}`` (ccxt form)."""
    with venue_errors(exchange, f"fetching {symbol} risk-limit tiers"):
        tiers = ex.fetch_market_leverage_tiers(symbol)
    if not tiers:
        return None, 0
    path = root / exchange / f"{file_stem(symbol)}-risk_limit.json"
    write_json_atomic(path, {symbol: tiers})
    return path, len(tiers)


def _dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _iso(ms: int) -> str:
    return _dt(ms).strftime("%Y-%m-%d %H:%M")
