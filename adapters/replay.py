"""Play recorded raw frames back as market inputs, flat out or paced at ×N real time.

Reads three raw formats, all through the live decoders (``adapters/wire.py`` with the books, or
``ccxt_feed.decode_ccxt`` for venues recorded through ccxt), so a replay yields exactly the
inputs the live feed produced:

* a microfut recording: a folder with ``manifest.json`` (``adapters/record.py``), or one of its
  ``frames-NNNN.jsonl.gz`` files: ``{"recv_ns", "venue", "raw"}`` lines;
* a raw capture: ``<recv_ns> <json>`` lines, gzip or text (``binanceusdm/ws_raw_*.gz``,
  ``binancecoinm/ws_raw_*.gz``); the venue is the folder name or ``venue=``;
* Bybit public-websocket JSON lines (``bybit/ws_orderbook500_*.jsonl``); time is the frame's ``ts``.

Candle files are not raw frames: they are read by ``adapters/pricepath.py``.
A lost depth message does not stop trading: the book resynchronises from what the recording
holds (``adapters/gap_resync.py``) and ``ReplaySource.notes()`` names every gap and stale span.
Corrupt input never ends a replay with a traceback: a garbled line, a bad value (NaN, negative
price), an out-of-order receipt time or a truncated gzip tail is skipped, counted in
``ReplaySource.stats`` and logged; a file that cannot be read at all is a one-line DataError.
A microfut recording is played in file order (the order its feed processed the frames): a line
stamped before the previous one is played, at the previous time, not skipped.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import re
import sys
import zlib
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

from adapters import record
from adapters.ccxt_wire import decode_ccxt
from adapters.gap_resync import GapResync
from adapters.wire import VENUES as NATIVE_VENUES
from adapters.wire import MarketDecoder
from adapters.wire_errors import WireError
from sim.engine.market import MarketInput
from sim.errors import DataError, InputError

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
_LOGGED_PER_KIND = 5
_DECODE_ERRORS = (
    WireError,
    KeyError,
    TypeError,
    AttributeError,
    ValueError,
    IndexError,
    ArithmeticError,
)


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
class _File:
    path: Path
    kind: str  # "recording" | "capture" | "bybit-jsonl"
    venue: str | None


class ReplaySource:
    """Inputs from one or more raw files; iterate (flat out) or ``async for`` (paced by ``speed``).

    ``speed``: None or 0 plays flat out; N > 0 plays at N times the recorded pace.
    ``progress``: a rich progress bar on stderr; None = only for long files on a terminal.
    ``symbols``: keep only inputs for these ccxt symbols.
    """

    def __init__(
        self,
        files: list[_File],
        *,
        speed: float | None = None,
        progress: bool | None = None,
        symbols: Iterable[str] | None = None,
        depth_levels: int = 20,
    ) -> None:
        if speed is not None and speed < 0:
            raise InputError(f"replay speed must be positive (×N real time), was {speed}")
        self.files = files
        self.speed = speed or None
        self.symbols = set(symbols) if symbols else None
        self.depth_levels = depth_levels
        self.stats = ReplayStats()
        total = sum(_size(f.path) for f in files)
        self._progress = (
            progress
            if progress is not None
            else (total >= PROGRESS_MIN_BYTES and sys.stderr.isatty())
        )
        self._total_bytes = total
        self._decoders: dict[str, MarketDecoder] = {}
        self._hint: dict[str, str] = {}
        self.gaps = GapResync()

    def notes(self) -> list[str]:
        """Summary lines: every book gap and how it was repaired, every stale span, and what was
        skipped (after a full pass)."""
        out = self.gaps.notes()
        st = self.stats
        if st.skipped or st.truncated_files:
            out.append(
                f"skipped {st.skipped} unreadable frame(s) (garbled {st.garbled}, bad values "
                f"{st.bad_values}, out of order {st.out_of_order}), "
                f"{st.truncated_files} truncated file(s)"
            )
        return out

    @property
    def kind(self) -> str:
        return self.files[0].kind

    # -- iteration ---------------------------------------------------------------------------
    def __iter__(self) -> Iterator[MarketInput]:
        for _, inputs in self.frames_with_inputs():
            yield from inputs

    async def __aiter__(self) -> AsyncIterator[MarketInput]:
        loop = asyncio.get_running_loop()
        started, first_ns = loop.time(), None
        for n, (recv_ns, inputs) in enumerate(self.frames_with_inputs()):
            if self.speed:
                first_ns = recv_ns if first_ns is None else first_ns
                due = (recv_ns - first_ns) / 1e9 / self.speed - (loop.time() - started)
                if due > 0:
                    await asyncio.sleep(due)
            elif n % 500 == 0:
                await asyncio.sleep(0)  # let the consumer's loop breathe when flat out
            for item in inputs:
                yield item

    def frames_with_inputs(self) -> Iterator[tuple[int, list[MarketInput]]]:
        """(receipt ns, inputs of that frame) for every frame, in receipt order (restarts clean)."""
        self.stats, self._decoders, self._hint = ReplayStats(), {}, {}
        self.gaps = GapResync()
        with _ProgressBar(self._progress, self._total_bytes) as advance:
            for f in self.files:
                self.stats.files += 1
                for recv_ns, venue, frame in self._frames(f, advance):
                    inputs = self._decode(recv_ns, venue, frame)
                    if inputs:
                        self.stats.inputs += len(inputs)
                        yield recv_ns, inputs
        if self.stats.skipped or self.stats.truncated_files:
            log.warning(
                "replay skipped %d frames (garbled %d, bad values %d, out of order %d), "
                "%d truncated files",
                self.stats.skipped,
                self.stats.garbled,
                self.stats.bad_values,
                self.stats.out_of_order,
                self.stats.truncated_files,
            )

    # -- reading -----------------------------------------------------------------------------
    def _frames(self, f: _File, advance: Any) -> Iterator[tuple[int, str, dict[str, Any]]]:
        parse = {
            "recording": _parse_recording,
            "capture": _parse_capture,
            "bybit-jsonl": _parse_bybit,
        }[f.kind]
        last_ns = self.stats.last_recv_ns or 0
        for lineno, line in _lines(f.path, self.stats, advance):
            try:
                recv_ns, venue, frame = parse(line, f.venue)
            except (ValueError, KeyError, TypeError) as e:
                self._skip("garbled", f"{f.path.name}:{lineno}: unreadable line ({e})")
                continue
            if recv_ns < last_ns and f.kind == "recording":
                # a microfut recording is in the order its feed processed the frames: play
                # that order (older recordings could tee a REST snapshot late), never drop one
                self.stats.late_frames += 1
                recv_ns = last_ns
            elif recv_ns < last_ns:
                self._skip(
                    "out_of_order",
                    f"{f.path.name}:{lineno}: receipt time {recv_ns} "
                    f"is before the previous {last_ns}",
                )
                continue
            last_ns = recv_ns
            self.stats.frames += 1
            if self.stats.first_recv_ns is None:
                self.stats.first_recv_ns = recv_ns
            self.stats.last_recv_ns = recv_ns
            yield recv_ns, venue, frame

    def _decode(self, recv_ns: int, venue: str, frame: dict[str, Any]) -> list[MarketInput]:
        try:
            if "ccxt" in frame:
                out = decode_ccxt(venue, frame, recv_ns // 1_000_000)
            else:
                decoder = self._decoder(venue)
                out = decoder.feed(frame, symbol_hint=self._symbol_hint(venue, frame))
                if out:
                    out = self.gaps.after_frame(decoder, frame, out)
        except _DECODE_ERRORS as e:
            self._skip("bad_values", f"{venue} frame at {recv_ns}: {e}")
            return []
        if self.symbols is not None:
            out = [x for x in out if x.symbol in self.symbols]
        return out

    def _decoder(self, venue: str) -> MarketDecoder:
        dec = self._decoders.get(venue)
        if dec is None:
            if venue not in NATIVE_VENUES:
                raise WireError(
                    f"{venue} frames are not ccxt envelopes and {venue} has no native decoder"
                )
            dec = self._decoders[venue] = MarketDecoder(venue, depth_levels=self.depth_levels)
        return dec

    def _symbol_hint(self, venue: str, frame: dict[str, Any]) -> str | None:
        """The market of a Binance REST depth snapshot: the stream seen last (it names none)."""
        if "lastUpdateId" in frame:
            return frame.get("symbol") or self._hint.get(venue)
        stream = frame.get("stream")
        if isinstance(stream, str):
            self._hint[venue] = stream.split("@", 1)[0].upper()
        else:
            data = frame.get("data", frame)
            if isinstance(data, dict) and isinstance(data.get("s"), str):
                self._hint[venue] = data["s"]
        return None

    def _skip(self, kind: str, message: str) -> None:
        setattr(self.stats, kind, getattr(self.stats, kind) + 1)
        if len(self.stats.messages) < 50:
            self.stats.messages.append(message)
        if getattr(self.stats, kind) <= _LOGGED_PER_KIND:
            log.warning("replay: skipped %s", message)


# -- line formats -----------------------------------------------------------------------------
def _parse_recording(line: bytes, venue: str | None) -> tuple[int, str, dict[str, Any]]:
    doc = json.loads(line)
    recv_ns, frame_venue, raw = doc["recv_ns"], doc["venue"], doc["raw"]
    if not isinstance(recv_ns, int) or not isinstance(frame_venue, str):
        raise TypeError("recv_ns must be an integer and venue a string")
    frame = json.loads(raw)
    if not isinstance(frame, dict):
        raise TypeError("raw frame is not a JSON object")
    return recv_ns, frame_venue, frame


def _parse_capture(line: bytes, venue: str | None) -> tuple[int, str, dict[str, Any]]:
    stamp, _, raw = line.partition(b" ")
    frame = json.loads(raw)
    if not isinstance(frame, dict):
        raise TypeError("frame is not a JSON object")
    assert venue is not None
    return int(stamp), venue, frame


def _parse_bybit(line: bytes, venue: str | None) -> tuple[int, str, dict[str, Any]]:
    frame = json.loads(line)
    ts = frame["ts"]
    if not isinstance(ts, int):
        raise TypeError("ts must be integer milliseconds")
    return ts * 1_000_000, "bybit", frame


def _lines(path: Path, stats: ReplayStats, advance: Any) -> Iterator[tuple[int, bytes]]:
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


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


class _ProgressBar:
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
def open_replay(
    path: Path | str,
    *,
    venue: str | None = None,
    speed: float | None = None,
    progress: bool | None = None,
    symbols: Iterable[str] | None = None,
    depth_levels: int = 20,
    default_venue: str | None = None,
) -> ReplaySource:
    """A replay source for a raw recording or capture; DataError naming the formats otherwise.

    A capture's venue: ``venue`` when given, else its folder's name (``binanceusdm/``), else
    ``default_venue`` (the command's ``--exchange``)."""
    p = Path(path)
    if not p.exists():
        raise DataError(f"replay file {p} was not found; replay takes {FORMATS}")
    if p.suffix.lower() in CANDLE_SUFFIXES:
        raise DataError(
            f"{p} looks like a candle file; candles are replayed through "
            f"adapters/pricepath.py, this reader takes {FORMATS}"
        )
    files = _recording_files(p) if p.is_dir() else [_sniff(p, venue, default_venue)]
    return ReplaySource(
        files, speed=speed, progress=progress, symbols=symbols, depth_levels=depth_levels
    )


def _recording_files(folder: Path) -> list[_File]:
    names: list[str] = []
    if (folder / record.MANIFEST).exists():
        names = [f.name for f in record.read_manifest(folder).files]
    on_disk = sorted(p.name for p in folder.glob("frames-*.jsonl.gz"))
    names += [n for n in on_disk if n not in names]
    files = [_File(folder / n, "recording", None) for n in names if (folder / n).exists()]
    if not files:
        raise DataError(f"{folder} holds no recording; replay takes {FORMATS}")
    return files


def _sniff(path: Path, venue: str | None, default_venue: str | None = None) -> _File:
    """Tell the format from the first line."""
    first = b""
    for _, line in _lines(path, ReplayStats(), lambda pos: None):
        first = line.strip()
        break
    if first.startswith(b"{"):
        try:
            doc = json.loads(first)
        except ValueError:
            doc = None
        if isinstance(doc, dict) and {"recv_ns", "raw"} <= doc.keys():
            return _File(path, "recording", None)
        if isinstance(doc, dict) and "topic" in doc and "ts" in doc:
            return _File(path, "bybit-jsonl", "bybit")
    stamp, _, rest = first.partition(b" ")
    if stamp.isdigit() and rest.startswith(b"{"):
        return _File(path, "capture", _capture_venue(path, venue, default_venue))
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
    src = open_replay(p, venue=venue, progress=False, default_venue=default_venue)
    lo = hi = None
    for f in src.files:
        for _, line in _lines(f.path, ReplayStats(), lambda pos: None):
            ms = _stamp_ms(line, f.kind)
            if ms is None:
                continue
            lo = ms if lo is None else min(lo, ms)
            hi = ms if hi is None else max(hi, ms)
    if lo is None or hi is None:
        raise DataError(f"{p} holds no readable frame; replay takes {FORMATS}")
    return RecordedSpan(lo, hi, f"data recorded in {p.name}")
