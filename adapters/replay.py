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
import logging
import sys
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adapters.ccxt_wire import decode_ccxt
from adapters.gap_resync import GapResync
from adapters.replay_files import (
    CANDLE_SUFFIXES,
    PROGRESS_MIN_BYTES,
    ProgressBar,
    RawFile,
    ReplayStats,
    file_size,
    parse_bybit,
    parse_capture,
    parse_recording,
    raw_files,
    read_lines,
    recorded_span,
)
from adapters.wire import VENUES as NATIVE_VENUES
from adapters.wire import MarketDecoder
from adapters.wire_errors import WireError
from sim.engine.market import MarketInput
from sim.errors import InputError

if TYPE_CHECKING:
    pass

log = logging.getLogger("microfut.replay")

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


class ReplaySource:
    """Inputs from one or more raw files; iterate (flat out) or ``async for`` (paced by ``speed``).

    ``speed``: None or 0 plays flat out; N > 0 plays at N times the recorded pace.
    ``progress``: a rich progress bar on stderr; None = only for long files on a terminal.
    ``symbols``: keep only inputs for these ccxt symbols.
    """

    def __init__(
        self,
        files: list[RawFile],
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
        total = sum(file_size(f.path) for f in files)
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
        with ProgressBar(self._progress, self._total_bytes) as advance:
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
    def _frames(self, f: RawFile, advance: Any) -> Iterator[tuple[int, str, dict[str, Any]]]:
        parse = {
            "recording": parse_recording,
            "capture": parse_capture,
            "bybit-jsonl": parse_bybit,
        }[f.kind]
        last_ns = self.stats.last_recv_ns or 0
        for lineno, line in read_lines(f.path, self.stats, advance):
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
    files = raw_files(Path(path), venue, default_venue)
    return ReplaySource(
        files, speed=speed, progress=progress, symbols=symbols, depth_levels=depth_levels
    )


__all__ = ["CANDLE_SUFFIXES", "ReplaySource", "ReplayStats", "open_replay", "recorded_span"]
