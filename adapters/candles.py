"""Recorded candle, mark and funding-rate series (freqtrade/ccxt OHLCV files) as checked frames.

Files are named like ``BTC_USDT_USDT-1m-futures.feather`` (or ``.parquet``, ``.csv``): the ccxt
symbol with ``/`` and ``:`` as ``_``, the timeframe, and the kind (``futures`` trade candles,
``mark`` candles, ``funding_rate``). Feather files are the recorded originals, Parquet the bundled
sample and downloads; CSV twins are derived and are read only when no binary file exists. Every
frame has an int64 ``ts_ms`` column, strictly
ascending, so the engine never sees NaN, a non-positive price or time going backwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from sim.errors import DataError

SeriesKind = Literal["futures", "mark", "funding_rate"]
PRICE_COLUMNS = ("open", "high", "low", "close")
# Preferred file format when one folder holds twins of the same series (lower wins).
SUFFIX_RANK = {".feather": 0, ".parquet": 1, ".csv": 2}
TIMEFRAME_MS = {"1m": 60_000, "5m": 300_000, "15m": 900_000, "1h": 3_600_000, "4h": 14_400_000,
                "8h": 28_800_000, "1d": 86_400_000}  # fmt: skip


@dataclass(frozen=True, slots=True)
class SeriesFile:
    """One recorded series file and what its name says it holds."""

    path: Path
    symbol: str
    timeframe: str
    kind: SeriesKind


def file_stem(symbol: str) -> str:
    """``BTC/USDT:USDT`` → ``BTC_USDT_USDT`` (the freqtrade file-name form)."""
    return symbol.replace("/", "_").replace(":", "_").replace("-", "_")


def parse_name(path: Path) -> SeriesFile | None:
    """Read symbol, timeframe and kind from a series file name; None when it is not one."""
    if path.suffix not in SUFFIX_RANK:
        return None
    parts = path.stem.split("-")
    if len(parts) != 3 or parts[2] not in ("futures", "mark", "funding_rate"):
        return None
    stem, timeframe, kind = parts
    pieces = stem.split("_")
    if len(pieces) < 3:
        return None
    symbol = f"{pieces[0]}/{pieces[1]}:{'_'.join(pieces[2:])}"
    return SeriesFile(path, symbol, timeframe, kind)  # type: ignore[arg-type]


def list_series(root: Path) -> list[SeriesFile]:
    """Every series file under ``root`` (file or folder); one per series, by SUFFIX_RANK."""
    paths = [root] if root.is_file() else sorted(root.rglob("*"))
    found: dict[tuple[Path, str], SeriesFile] = {}
    for p in paths:
        sf = parse_name(p)
        if sf is None:
            continue
        key = (p.parent, p.stem)
        if key not in found or SUFFIX_RANK[p.suffix] < SUFFIX_RANK[found[key].path.suffix]:
            found[key] = sf
    return list(found.values())


def find_series(
    symbol: str, kind: SeriesKind, timeframe: str | None, dirs: Sequence[Path]
) -> SeriesFile | None:
    """The recorded file for (symbol, kind[, timeframe]) in the data folders; finest first."""
    candidates = [
        sf
        for d in dirs
        if d.exists()
        for sf in list_series(d)
        if sf.symbol == symbol
        and sf.kind == kind
        and (timeframe is None or sf.timeframe == timeframe)
    ]
    if not candidates:
        return None
    return min(candidates, key=lambda sf: TIMEFRAME_MS.get(sf.timeframe, 1 << 62))


def _read_raw(path: Path) -> pd.DataFrame:
    try:
        if path.suffix == ".feather":
            return pd.read_feather(path)
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path)
    except FileNotFoundError:
        raise DataError(f"data file {path} was not found") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"data file {path} has no rows; it is empty") from None
    except Exception as e:  # pyarrow/pandas raise many types for a corrupt file
        raise DataError(f"data file {path} could not be read ({type(e).__name__}: {e})") from None


def _ts_ms(df: pd.DataFrame, path: Path) -> np.ndarray:
    if "timestamp_ms" in df.columns:
        values = _numbers(df, "timestamp_ms", path)
        if np.isnan(values).any():
            row = int(np.flatnonzero(np.isnan(values))[0])
            raise DataError(f"data file {path} row {row + 2}: timestamp_ms is missing")
        return values.astype("int64")
    if "date" in df.columns:
        dates = pd.to_datetime(df["date"], utc=True, errors="coerce")
        if dates.isna().any():
            row = int(np.flatnonzero(dates.isna().to_numpy())[0])
            raise DataError(
                f"data file {path} row {row + 2}: date {df['date'].iloc[row]!r} is not a date"
            )
        return dates.dt.as_unit("ms").astype("int64").to_numpy(dtype="int64")  # any resolution
    raise DataError(f"data file {path} has no 'timestamp_ms' or 'date' column")


def _numbers(raw: pd.DataFrame, column: str, path: Path) -> np.ndarray:
    """A column as float64; a cell that is not a number is a DataError naming its row."""
    values = pd.to_numeric(raw[column], errors="coerce").to_numpy(dtype="float64")
    bad = np.isnan(values) & raw[column].notna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"data file {path} row {row + 2}: {column} is not a number "
            f"({column}={raw[column].iloc[row]!r}); fix or remove that row"
        )
    return values


def _check_bounds(df: pd.DataFrame, path: Path) -> None:
    """high must be the bar's top and low its bottom; otherwise the row is damaged."""
    o, h, low, c = (df[k].to_numpy() for k in PRICE_COLUMNS)
    bad = (h < np.maximum(o, c)) | (low > np.minimum(o, c)) | (low > h)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"data file {path} row {row + 2}: high/low do not bound open/close "
            f"({', '.join(f'{k}={df[k].iloc[row]}' for k in PRICE_COLUMNS)}); "
            "the row is damaged or truncated"
        )


def _check_rows(df: pd.DataFrame, path: Path, columns: Sequence[str], positive: bool) -> None:
    values = df[list(columns)].to_numpy(dtype="float64")
    bad = ~np.isfinite(values).all(axis=1)
    if positive:
        bad |= (values <= 0).any(axis=1)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"data file {path} row {row + 2}: price is missing, NaN or not positive "
            f"({', '.join(f'{c}={df[c].iloc[row]}' for c in columns)})"
        )
    ts = df["ts_ms"].to_numpy()
    if len(ts) > 1 and (np.diff(ts) <= 0).any():
        row = int(np.flatnonzero(np.diff(ts) <= 0)[0]) + 1
        raise DataError(f"data file {path} row {row + 2}: timestamp does not increase")


def load_series(path: Path) -> pd.DataFrame:
    """Load and check a series file.

    Candle kinds give columns ``ts_ms, open, high, low, close, volume``; ``funding_rate`` gives
    ``ts_ms, rate`` with ``ts_ms`` floored to the second (real funding times carry ms jitter, e.g.
    08:00:00.001, while mark candles open on the second).
    """
    sf = parse_name(path)
    raw = _read_raw(path)
    if raw.empty:
        raise DataError(f"data file {path} has no rows; record or download data into it")
    df = pd.DataFrame({"ts_ms": _ts_ms(raw, path)})
    if sf is not None and sf.kind == "funding_rate":
        col = "funding_rate" if "funding_rate" in raw.columns else "open"
        if col not in raw.columns:
            raise DataError(f"data file {path} has no funding rate column")
        df["ts_ms"] = (df["ts_ms"] // 1000) * 1000
        df["rate"] = _numbers(raw, col, path)
        _check_rows(df, path, ["rate"], positive=False)
        return df
    missing = [c for c in PRICE_COLUMNS if c not in raw.columns]
    if missing:
        raise DataError(f"data file {path} lacks columns {', '.join(missing)}")
    for c in (*PRICE_COLUMNS, "volume"):
        df[c] = _numbers(raw, c, path) if c in raw.columns else 0.0
    _check_rows(df, path, PRICE_COLUMNS, positive=True)
    _check_bounds(df, path)
    return df


def last_close(symbol: str, dirs: Sequence[Path]) -> tuple[Decimal, int, Path] | None:
    """The most recent recorded trade price of ``symbol``: (price, ts_ms, file), or None."""
    best: tuple[Decimal, int, Path] | None = None
    for d in dirs:
        if not d.exists():
            continue
        for sf in list_series(d):
            if sf.symbol != symbol or sf.kind != "futures":
                continue
            df = load_series(sf.path)
            if df.empty:
                continue
            ts = int(df["ts_ms"].iloc[-1])
            if best is None or ts > best[1]:
                best = (Decimal(str(float(df["close"].iloc[-1]))), ts, sf.path)
    return best


def candle_root(
    dirs: Sequence[Path], symbols: Sequence[str] | None = None, timeframe: str | None = None
) -> Path | None:
    """The first data folder (or file) holding trade candles for every one of ``symbols`` (any
    symbol if None).

    This is where ``replay``, ``run`` and ``sweep`` look when no ``--data``/``--replay`` is
    given: configured folders first, then downloads, then the bundled sample.
    """
    for d in dirs:
        if not d.exists():
            continue
        have = {
            sf.symbol
            for sf in list_series(d)
            if sf.kind == "futures" and (timeframe is None or sf.timeframe == timeframe)
        }
        if have and (symbols is None or set(symbols) <= have):
            return d
    return None


def default_root(
    dirs: Sequence[Path], symbols: Sequence[str] | None = None, timeframe: str | None = None
) -> Path:
    """``candle_root`` or a DataError saying how to get data."""
    root = candle_root(dirs, symbols, timeframe)
    if root is not None:
        return root
    what = ", ".join(symbols) if symbols else "any symbol"
    raise DataError(
        f"no recorded trade candles for {what} in {', '.join(str(d) for d in dirs)}; "
        "fetch them with `microfut data download` or pass --data/--replay PATH"
    )
