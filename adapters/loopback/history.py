"""Candle, mark-price and funding-rate history served from the recorded series files.

What ``microfut data download`` asks a venue for, answered in the venue's own wire format and
paging from ``<data dir>/ohlcv/<venue folder>/*-<tf>-<kind>.feather``: only the timeframes that
were recorded (1m/1h trade candles, 8h mark, 8h funding); any other valid interval answers an
empty list, as a venue does for a range it has no bars for. Nothing is aggregated or invented.

Binance (``/fapi/v1`` and ``/dapi/v1``): ``klines`` and ``markPriceKlines`` are arrays
``[openTime, "o", "h", "l", "c", "v", closeTime, ...]`` oldest first; with ``startTime`` the first
``limit`` bars at or after it (up to ``endTime``), without it the last ``limit`` up to ``endTime``.
``fundingRate`` objects ``{symbol, fundingTime, fundingRate, markPrice}`` page the same way.
Bybit v5 (``/v5/market/kline``, ``mark-price-kline``, ``funding/history``): newest first, the
``limit`` newest rows within ``start``..``end``, in the ``retCode`` envelope.

Fields the recorded files do not hold (quote volume, trade count, taker volumes, the mark price
at funding time) are sent as ``"0"``/``0``/``""``: clients must not rely on them.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from adapters.candles import list_series, load_series

Answer = tuple[int, Any]

SERIES_FOLDERS = {"binanceusdm": "ohlcv/binance_usdm", "binancecoinm": "ohlcv/binance_coinm"}
BINANCE_INTERVALS = ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d",
                     "3d", "1w", "1M")  # fmt: skip
BYBIT_INTERVALS = {"1": "1m", "3": "3m", "5": "5m", "15": "15m", "30": "30m", "60": "1h",
                   "120": "2h", "240": "4h", "360": "6h", "720": "12h", "D": "1d", "W": "1w",
                   "M": "1M"}  # fmt: skip
INTERVAL_MS = {"1m": 60_000, "3m": 180_000, "5m": 300_000, "15m": 900_000, "30m": 1_800_000,
               "1h": 3_600_000, "2h": 7_200_000, "4h": 14_400_000, "6h": 21_600_000,
               "8h": 28_800_000, "12h": 43_200_000, "1d": 86_400_000, "3d": 259_200_000,
               "1w": 604_800_000, "1M": 2_592_000_000}  # fmt: skip
BINANCE_INVALID_SYMBOL = {"code": -1121, "msg": "Invalid symbol."}
BINANCE_INVALID_INTERVAL = {"code": -1120, "msg": "Invalid interval."}
# (default, max) page sizes as the venues document them
BINANCE_KLINE_LIMIT = (500, 1500)
BINANCE_FUNDING_LIMIT = (100, 1000)
BYBIT_KLINE_LIMIT = (200, 1000)
BYBIT_FUNDING_LIMIT = (200, 200)
PRICES = ("open", "high", "low", "close")


@dataclass(frozen=True, slots=True)
class Series:
    """One recorded series as plain arrays: open times (ms) and the value columns."""

    ts: np.ndarray
    values: dict[str, np.ndarray]


def num(value: float) -> str:
    """A float as the shortest decimal string that reads back to it (no exponent)."""
    return np.format_float_positional(float(value), trim="-")


def market_id(venue: str, symbol: str) -> str:
    """Recorded ccxt symbol → the venue id it is served under (``ETH/USDT:USDT`` → ``ETHUSDT``)."""
    base, _, rest = symbol.partition("/")
    quote = rest.split(":")[0]
    return f"{base}{quote}_PERP" if venue == "binancecoinm" else f"{base}{quote}"


@cache
def _load(path: Path, kind: str) -> Series:
    if kind == "funding_rate":  # keep the recorded ms jitter of fundingTime (load_series floors it)
        readers = {".feather": pd.read_feather, ".parquet": pd.read_parquet}
        raw = readers.get(path.suffix, pd.read_csv)(path)
        if "timestamp_ms" in raw.columns:
            ts = raw["timestamp_ms"].to_numpy(dtype="int64")
        else:
            ts = pd.to_datetime(raw["date"], utc=True).dt.as_unit("ms").astype("int64").to_numpy()
        col = "funding_rate" if "funding_rate" in raw.columns else "open"
        return Series(np.asarray(ts, dtype="int64"), {"rate": raw[col].to_numpy(dtype="float64")})
    df = load_series(path)
    cols = ("open", "high", "low", "close", "volume")
    return Series(df["ts_ms"].to_numpy(), {c: df[c].to_numpy() for c in cols})


class RecordedHistory:
    """The recorded series of one venue's folder, keyed by (venue id, kind, timeframe)."""

    def __init__(self, source_venue: str, served_venue: str, data_dirs: Sequence[Path]) -> None:
        self.files: dict[tuple[str, str, str], Path] = {}
        folder = SERIES_FOLDERS.get(source_venue)
        for d in data_dirs if folder else ():
            root = Path(d) / folder  # type: ignore[operator]
            if not root.is_dir():
                continue
            for sf in list_series(root):
                key = (market_id(served_venue, sf.symbol), sf.kind, sf.timeframe)
                self.files.setdefault(key, sf.path)
        self.symbols = {k[0] for k in self.files}

    def series(self, vid: str, kind: str, timeframe: str) -> Series | None:
        path = self.files.get((vid, kind, timeframe))
        return None if path is None else _load(path, kind)


def _int(query: dict[str, str], key: str) -> int | None:
    text = query.get(key, "")
    return int(text) if text.lstrip("-").isdigit() else None


def _limit(query: dict[str, str], bounds: tuple[int, int]) -> int:
    default, top = bounds
    value = _int(query, "limit")
    return default if value is None or value <= 0 else min(value, top)


def select(ts: np.ndarray, start: int | None, end: int | None, limit: int, newest: bool) -> slice:
    """Rows within [start, end], ``limit`` of them from the start (or the newest when asked)."""
    lo = 0 if start is None else int(np.searchsorted(ts, start, "left"))
    hi = len(ts) if end is None else int(np.searchsorted(ts, end, "right"))
    if hi <= lo:
        return slice(0, 0)
    if newest or start is None:
        return slice(max(lo, hi - limit), hi)
    return slice(lo, min(hi, lo + limit))


# binance -----------------------------------------------------------------------------------
def binance_klines(history: RecordedHistory, query: dict[str, str], kind: str) -> Answer:
    vid = query.get("symbol", "").upper()
    if vid not in history.symbols:
        return 400, BINANCE_INVALID_SYMBOL
    interval = query.get("interval", "")
    if interval not in BINANCE_INTERVALS:
        return 400, BINANCE_INVALID_INTERVAL
    s = history.series(vid, kind, interval)
    if s is None:
        return 200, []
    rows = select(s.ts, _int(query, "startTime"), _int(query, "endTime"),
                  _limit(query, BINANCE_KLINE_LIMIT), newest=False)  # fmt: skip
    step = INTERVAL_MS[interval]
    v = s.values
    out = []
    for i in range(rows.start, rows.stop):
        t = int(s.ts[i])
        vol = num(v["volume"][i]) if kind == "futures" else "0"
        ohlc = [num(v[c][i]) for c in PRICES]
        out.append([t, *ohlc, vol, t + step - 1, "0", 0, "0", "0", "0"])
    return 200, out


def binance_funding(history: RecordedHistory, query: dict[str, str]) -> Answer:
    vid = query.get("symbol", "").upper()
    if vid not in history.symbols:
        return 400, BINANCE_INVALID_SYMBOL
    s = history.series(vid, "funding_rate", "8h")
    if s is None:
        return 200, []
    rows = select(s.ts, _int(query, "startTime"), _int(query, "endTime"),
                  _limit(query, BINANCE_FUNDING_LIMIT), newest=False)  # fmt: skip
    rates = s.values["rate"]
    return 200, [
        {
            "symbol": vid,
            "fundingTime": int(s.ts[i]),
            "fundingRate": num(rates[i]),
            "markPrice": "",  # not recorded
        }
        for i in range(rows.start, rows.stop)
    ]


# bybit --------------------------------------------------------------------------------------
def bybit_envelope(code: int, msg: str, result: Any) -> dict[str, Any]:
    return {
        "retCode": code,
        "retMsg": msg,
        "result": result,
        "retExtInfo": {},
        "time": int(time.time() * 1000),
    }


def _bybit_check(history: RecordedHistory, query: dict[str, str]) -> dict[str, Any] | None:
    if query.get("category") not in ("linear", "inverse"):
        return bybit_envelope(10001, "params error: Category is invalid", {})
    if query.get("symbol", "").upper() not in history.symbols:
        return bybit_envelope(10001, "params error: Symbol Is Invalid", {})
    return None


def bybit_klines(history: RecordedHistory, query: dict[str, str], kind: str) -> Answer:
    if (error := _bybit_check(history, query)) is not None:
        return 200, error
    interval = BYBIT_INTERVALS.get(query.get("interval", ""))
    if interval is None:
        return 200, bybit_envelope(10001, "params error: Invalid period!", {})
    vid = query["symbol"].upper()
    result: dict[str, Any] = {"symbol": vid, "category": query["category"], "list": []}
    s = history.series(vid, kind, interval)
    if s is not None:
        rows = select(s.ts, _int(query, "start"), _int(query, "end"),
                      _limit(query, BYBIT_KLINE_LIMIT), newest=True)  # fmt: skip
        cols = ("open", "high", "low", "close", "volume") if kind == "futures" else PRICES
        for i in reversed(range(rows.start, rows.stop)):
            row = [str(int(s.ts[i])), *(num(s.values[c][i]) for c in cols)]
            result["list"].append(row + (["0"] if kind == "futures" else []))  # turnover
    return 200, bybit_envelope(0, "OK", result)


def bybit_funding(history: RecordedHistory, query: dict[str, str]) -> Answer:
    if (error := _bybit_check(history, query)) is not None:
        return 200, error
    start, end = _int(query, "startTime"), _int(query, "endTime")
    if start is not None and end is None:
        return 200, bybit_envelope(10001, "params error: endTime is required", {})
    vid = query["symbol"].upper()
    result: dict[str, Any] = {"category": query["category"], "list": []}
    s = history.series(vid, "funding_rate", "8h")
    if s is not None:
        rows = select(s.ts, start, end, _limit(query, BYBIT_FUNDING_LIMIT), newest=True)
        rates = s.values["rate"]
        result["list"] = [
            {"symbol": vid, "fundingRate": num(rates[i]), "fundingRateTimestamp": str(int(s.ts[i]))}
            for i in reversed(range(rows.start, rows.stop))
        ]
    return 200, bybit_envelope(0, "OK", result)
