"""Raw replay files: formats, line reading (gzip or text, truncated tails), progress, time spans.

The reading half of ``adapters/replay.py``: which raw format a file holds (a microfut recording,
a ``<recv_ns> <json>`` capture, Bybit JSON lines), its lines with receipt times, and the span of
time it covers, without decoding a frame.
"""

from __future__ import annotations

import gzip
import json
import logging
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

from adapters import record
from adapters.wire import VENUES as NATIVE_VENUES
from sim.errors import DataError

if TYPE_CHECKING:
    from adapters.pricepath import RecordedSpan

log = logging.getLogger("microfut.replay")

FORMATS = (
    "a microfut recording (folder with manifest.json, or a frames-NNNN.jsonl.gz file), "
    "a raw capture of '<recv_ns> <json>' lines (.gz or text, like binanceusdm/ws_raw_*.gz), "
    "or Bybit websocket JSON lines (like bybit/ws_orderbook500_*.jsonl)"
)
CANDLE_SUFFIXES = (".csv", ".feather", ".parquet")
PROGRESS_MIN_BYTES = 1_000_000


@dataclass
class ReplayStats:
    """What a replay read, produced and skipped (and why)."""

    files: int = 0
    frames: int = 0
    inputs: int = 0
    garbled: int = 0
    bad_values: int = 0
    out_of_order: int = 0
    truncated_files: int = 0
    late_frames: int = 0  # recording lines stamped before the previous one, played in file order
    first_recv_ns: int | None = None
    last_recv_ns: int | None = None
    messages: list[str] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        return self.garbled + self.bad_values + self.out_of_order


@dataclass(frozen=True, slots=True)
class RawFile:
    path: Path
    kind: str  # "recording" | "capture" | "bybit-jsonl"
    venue: str | None


def parse_recording(line: bytes, venue: str | None) -> tuple[int, str, dict[str, Any]]:
    doc = json.loads(line)
    recv_ns, frame_venue, raw = doc["recv_ns"], doc["venue"], doc["raw"]
    if not isinstance(recv_ns, int) or not isinstance(frame_venue, str):
        raise TypeError("recv_ns must be an integer and venue a string")
    frame = json.loads(raw)
    if not isinstance(frame, dict):
        raise TypeError("raw frame is not a JSON object")
    return recv_ns, frame_venue, frame


def parse_capture(line: bytes, venue: str | None) -> tuple[int, str, dict[str, Any]]:
    stamp, _, raw = line.partition(b" ")
    frame = json.loads(raw)
    if not isinstance(frame, dict):
        raise TypeError("frame is not a JSON object")
    assert venue is not None
    return int(stamp), venue, frame


def parse_bybit(line: bytes, venue: str | None) -> tuple[int, str, dict[str, Any]]:
    frame = json.loads(line)
    ts = frame["ts"]
    if not isinstance(ts, int):
        raise TypeError("ts must be integer milliseconds")
    return ts * 1_000_000, "bybit", frame


def read_lines(path: Path, stats: ReplayStats, advance: Any) -> Iterator[tuple[int, bytes]]:
    """Non-empty lines of a gzip or text file; a truncated or corrupt gzip tail ends the file."""
    try:
        raw = path.open("rb")
    except OSError as e:
        raise DataError(f"cannot read {path}: {e.strerror}") from None
    with raw:
        stream: IO[bytes] = gzip.GzipFile(fileobj=raw) if _is_gzip(raw) else raw
        lineno, read_any = 0, False
        try:
            for lineno, line in enumerate(stream, start=1):
                read_any = True
                if lineno % 2000 == 0:
                    advance(raw.tell())
                if line.strip():
                    yield lineno, line
        except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as e:
            if not read_any:
                raise DataError(
                    f"cannot read {path}: {e}; it is not a readable recording"
                ) from None
            stats.truncated_files += 1
            log.warning(
                "replay: %s is truncated or corrupt after line %d (%s); the rest is skipped",
                path,
                lineno,
                e,
            )
        advance(raw.tell())


def _is_gzip(f: IO[bytes]) -> bool:
    head = f.read(2)
    f.seek(0)
    return head == b"\x1f\x8b"


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


class ProgressBar:
    """A rich progress bar over bytes read, or a no-op."""

    def __init__(self, enabled: bool, total: int) -> None:
        self.enabled, self.total = enabled, total
        self._progress: Progress | None = None
        self._base = 0

    def __enter__(self) -> Any:
        if not self.enabled:
            return lambda pos: None
        self._progress = progress = Progress(
            "replay",
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        progress.start()
        task = progress.add_task("replay", total=self.total)
        last = {"pos": 0}

        def advance(pos: int) -> None:
            if pos < last["pos"]:  # a new file started
                self._base += last["pos"]
            last["pos"] = pos
            progress.update(task, completed=self._base + pos)

        return advance

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()


# -- dispatch ---------------------------------------------------------------------------------
def raw_files(p: Path, venue: str | None, default_venue: str | None = None) -> list[RawFile]:
    """The raw files behind ``p`` (a recording folder or one file) with their formats;
    DataError naming the formats for anything else (a candle file, a missing path)."""
    if not p.exists():
        raise DataError(f"replay file {p} was not found; replay takes {FORMATS}")
    if p.suffix.lower() in CANDLE_SUFFIXES:
        raise DataError(
            f"{p} looks like a candle file; candles are replayed through "
            f"adapters/pricepath.py, this reader takes {FORMATS}"
        )
    return recording_files(p) if p.is_dir() else [sniff(p, venue, default_venue)]


def recording_files(folder: Path) -> list[RawFile]:
    names: list[str] = []
    if (folder / record.MANIFEST).exists():
        names = [f.name for f in record.read_manifest(folder).files]
    on_disk = sorted(p.name for p in folder.glob("frames-*.jsonl.gz"))
    names += [n for n in on_disk if n not in names]
    files = [RawFile(folder / n, "recording", None) for n in names if (folder / n).exists()]
    if not files:
        raise DataError(f"{folder} holds no recording; replay takes {FORMATS}")
    return files


def sniff(path: Path, venue: str | None, default_venue: str | None = None) -> RawFile:
    """Tell the format from the first line."""
    first = b""
    for _, line in read_lines(path, ReplayStats(), lambda pos: None):
        first = line.strip()
        break
    if first.startswith(b"{"):
        try:
            doc = json.loads(first)
        except ValueError:
            doc = None
        if isinstance(doc, dict) and {"recv_ns", "raw"} <= doc.keys():
            return RawFile(path, "recording", None)
        if isinstance(doc, dict) and "topic" in doc and "ts" in doc:
            return RawFile(path, "bybit-jsonl", "bybit")
    stamp, _, rest = first.partition(b" ")
    if stamp.isdigit() and rest.startswith(b"{"):
        return RawFile(path, "capture", _capture_venue(path, venue, default_venue))
    raise DataError(f"{path} is not a format replay reads; replay takes {FORMATS}")


def _capture_venue(path: Path, venue: str | None, default_venue: str | None = None) -> str:
    if venue is not None:
        return venue
    if path.parent.name in NATIVE_VENUES:
        return path.parent.name
    if default_venue in NATIVE_VENUES:
        return default_venue  # type: ignore[return-value]
    given = f" (-e {default_venue} has no capture decoder)" if default_venue else ""
    raise DataError(
        f"cannot tell which venue captured {path}{given}; pass -e with one of "
        f"{', '.join(NATIVE_VENUES)}, or keep the capture in a folder named after its venue"
    )


# -- the time a recording covers --------------------------------------------------------------
# The engine's clock is the exchange's event time (Binance "E", Bybit "ts", ccxt "timestamp"),
# which a loopback recording made today still carries from the capture it served; the receipt
# time stands in for frames without one. Escaped quotes: a recording line holds the frame as text.
_EVENT_MS = re.compile(rb'\\?"(?:E|ts|timestamp)\\?":\s*(\d{12,14})\b')
_RECV_NS = re.compile(rb'"recv_ns":\s*(\d+)')


def _stamp_ms(line: bytes, kind: str) -> int | None:
    """The event time of one line without decoding the frame (None when unreadable)."""
    event = _EVENT_MS.search(line)
    if event is not None:
        return int(event.group(1))
    try:
        if kind == "capture":
            return int(line.partition(b" ")[0]) // 1_000_000
        m = _RECV_NS.search(line)
        return int(m.group(1)) // 1_000_000 if m else None
    except ValueError:
        return None


def recorded_span(
    path: Path | str, *, venue: str | None = None, default_venue: str | None = None
) -> RecordedSpan:
    """First and last event time of a raw recording or capture, from one quick pass over its
    lines (no decoding); DataError when no line has a time."""
    from adapters.pricepath import RecordedSpan  # pandas: only when a span is asked for

    p = Path(path)
    lo = hi = None
    for f in raw_files(p, venue, default_venue):
        for _, line in read_lines(f.path, ReplayStats(), lambda pos: None):
            ms = _stamp_ms(line, f.kind)
            if ms is None:
                continue
            lo = ms if lo is None else min(lo, ms)
            hi = ms if hi is None else max(hi, ms)
    if lo is None or hi is None:
        raise DataError(f"{p} holds no readable frame; replay takes {FORMATS}")
    return RecordedSpan(lo, hi, f"data recorded in {p.name}")
