"""Downloaded series as Parquet (zstd) files that also say which time ranges they cover.

A file holds freqtrade's layout (``date`` as UTC datetime64[ms] plus ``open high low close volume``
for candles, ``date, open`` = rate for funding) and, in its schema metadata, the half-open ranges
``[start_ms, end_ms)`` already fetched completely. Rows and coverage are written together to a
temporary file that then replaces the old one (``os.replace``), so a crash or a dropped
connection leaves either the previous complete file or the new one, never half of a page.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.errors import DataError

META_KEY = b"microfut.coverage"
CANDLE_COLUMNS = ("open", "high", "low", "close", "volume")

Range = tuple[int, int]


def merge_ranges(ranges: list[Range]) -> list[Range]:
    """Sorted, non-overlapping union of half-open ranges (touching ones are joined)."""
    out: list[Range] = []
    for s, e in sorted(r for r in ranges if r[1] > r[0]):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def missing_ranges(covered: list[Range], start: int, end: int) -> list[Range]:
    """The parts of ``[start, end)`` that ``covered`` does not hold, oldest first."""
    out: list[Range] = []
    at = start
    for s, e in merge_ranges(covered):
        if e <= at or s >= end:
            continue
        if s > at:
            out.append((at, min(s, end)))
        at = max(at, e)
    if at < end:
        out.append((at, end))
    return out


@dataclass
class StoredSeries:
    """A series in memory: ``ts_ms`` plus value columns, and the ranges fetched completely."""

    kind: str
    frame: pd.DataFrame
    covered: list[Range] = field(default_factory=list)

    @property
    def value_columns(self) -> tuple[str, ...]:
        return ("open",) if self.kind == "funding_rate" else CANDLE_COLUMNS

    def add(self, rows: pd.DataFrame, fetched: Range) -> int:
        """Merge rows (a later fetch wins on equal times) and cover ``fetched``; new row count."""
        before = len(self.frame)
        both = pd.concat([self.frame, rows], ignore_index=True) if before else rows
        both = both.drop_duplicates("ts_ms", keep="last").sort_values("ts_ms")
        self.frame = both.reset_index(drop=True)
        self.covered = merge_ranges([*self.covered, fetched])
        return len(self.frame) - before

    def rows_in(self, start: int, end: int) -> pd.DataFrame:
        ts = self.frame["ts_ms"]
        return self.frame[(ts >= start) & (ts < end)]


def empty_series(kind: str) -> StoredSeries:
    cols = ("open",) if kind == "funding_rate" else CANDLE_COLUMNS
    frame = pd.DataFrame(
        {"ts_ms": pd.Series(dtype="int64")} | {c: pd.Series(dtype="float64") for c in cols}
    )
    return StoredSeries(kind, frame)


def read_series(path: Path, kind: str) -> StoredSeries:
    """The stored series, or an empty one when the file does not exist yet."""
    if not path.exists():
        return empty_series(kind)
    try:
        table = pq.read_table(path)
    except Exception as e:  # pyarrow raises many types for a damaged file
        raise DataError(
            f"downloaded file {path} cannot be read ({type(e).__name__}: {e}); "
            "delete it and download again"
        ) from None
    df = table.to_pandas()
    ts = pd.to_datetime(df["date"], utc=True).dt.as_unit("ms").astype("int64")
    cols = ("open",) if kind == "funding_rate" else CANDLE_COLUMNS
    frame = pd.DataFrame(
        {"ts_ms": ts.to_numpy()} | {c: df[c].to_numpy(dtype="float64") for c in cols}
    )
    meta = (table.schema.metadata or {}).get(META_KEY)
    if meta is not None:
        covered = [(int(s), int(e)) for s, e in json.loads(meta)["covered"]]
    elif len(frame):  # a file from elsewhere: trust the span it holds
        covered = [(int(frame["ts_ms"].iloc[0]), int(frame["ts_ms"].iloc[-1]) + 1)]
    else:
        covered = []
    return StoredSeries(kind, frame, merge_ranges(covered))


def write_series(path: Path, series: StoredSeries) -> None:
    """Write rows and coverage atomically: a temp file beside ``path``, then ``os.replace``."""
    df = series.frame
    out = pd.DataFrame({"date": pd.to_datetime(df["ts_ms"].to_numpy(), unit="ms", utc=True)})
    out["date"] = out["date"].astype("datetime64[ms, UTC]")
    for c in series.value_columns:
        out[c] = df[c].to_numpy(dtype="float64")
    table = pa.Table.from_pandas(out, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[META_KEY] = json.dumps({"covered": [list(r) for r in series.covered]}).encode()
    table = table.replace_schema_metadata(meta)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json_atomic(path: Path, payload: object) -> None:
    """A JSON file written the same all-or-nothing way."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(payload, indent=1, sort_keys=True))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
