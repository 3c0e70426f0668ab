"""Recorded websocket captures as replayable frames, and the book the loopback keeps from them.

Binance captures (``ws_raw_<id>_<date>.gz``) hold ``<recv_ns> <combined-stream JSON>`` lines plus
one REST depth snapshot line; the Bybit capture is plain ``orderbook.500`` JSON lines.
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.binance import wire as binance_wire
from adapters.binance.book import BinanceBook
from adapters.bybit import wire as bybit_wire
from adapters.bybit.book import BybitBook
from sim.errors import DataError

CAPTURE_GLOBS = {
    "binanceusdm": "binanceusdm/ws_raw_*.gz",
    "binancecoinm": "binancecoinm/ws_raw_*.gz",
    "bybit": "bybit/ws_orderbook*_*.jsonl",
}
_BINANCE_NAME = re.compile(r"^ws_raw_(.+)_\d{8}\.gz$")
_BYBIT_NAME = re.compile(r"^ws_orderbook\d+_([A-Z0-9]+)_")


@dataclass(frozen=True, slots=True)
class Frame:
    """One recorded message: ``kind`` is the stream type (trade, depth, bookTicker, orderbook,
    snapshot for the REST line), ``data`` the payload text as the venue sends it."""

    recv_ns: int
    kind: str
    data: str


def stream_kind(stream: str) -> str:
    """``btcusdt@depth@100ms`` → ``depth``; ``btcusdt@markPrice@1s`` → ``markPrice``."""
    kind = stream.split("@")[1] if "@" in stream else stream
    return "depth" if kind.startswith("depth") else kind


def find_captures(venue: str, data_dirs: list[Path]) -> dict[str, Path]:
    """Venue id (``BTCUSDT``, ``BTCUSD_PERP``, ``XRPUSDT``) → capture file, first folder wins."""
    found: dict[str, Path] = {}
    for d in data_dirs:
        for path in sorted(d.glob(CAPTURE_GLOBS[venue])):
            pattern = _BYBIT_NAME if venue == "bybit" else _BINANCE_NAME
            if m := pattern.match(path.name):
                found.setdefault(m.group(1).upper(), path)
    return found


def load_frames(venue: str, path: Path, max_frames: int | None = None) -> list[Frame]:
    """Read up to ``max_frames`` frames of a capture; DataError naming the file if corrupt."""
    frames: list[Frame] = []
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt") as f:
            for line in f:
                if max_frames is not None and len(frames) >= max_frames:
                    break
                frames.append(_bybit_frame(line) if venue == "bybit" else _binance_frame(line))
    except (OSError, ValueError, EOFError) as e:
        raise DataError(f"cannot read capture {path}: {e}; check the file is complete") from None
    return frames


def _binance_frame(line: str) -> Frame:
    ns, _, raw = line.rstrip("\n").partition(" ")
    if raw.startswith('{"lastUpdateId"'):
        return Frame(int(ns), "snapshot", raw)
    head = '{"stream":"'
    if raw.startswith(head) and (cut := raw.find('","data":')) > 0:
        return Frame(int(ns), stream_kind(raw[len(head) : cut]), raw[cut + 9 : -1])
    msg = json.loads(raw)  # another key order: fall back to a full parse
    return Frame(int(ns), stream_kind(msg["stream"]), json.dumps(msg["data"]))


def _bybit_frame(line: str) -> Frame:
    msg = json.loads(line)
    return Frame(int(msg["ts"]) * 1_000_000, str(msg["topic"]).split(".")[0], line.strip())


class ServerBook:
    """The loopback's own view of a symbol's book, so a REST snapshot or a Bybit re-subscribe
    can be answered at the current replay position (rebuilt from the recorded diffs)."""

    def __init__(self, venue: str, vid: str) -> None:
        self.venue = venue
        self.vid = vid
        self.symbol = (
            bybit_wire.unified_symbol(vid)
            if venue == "bybit"
            else binance_wire.unified_symbol(venue, vid)
        )
        self.recorded_snapshot: dict[str, Any] | None = None
        self.binance = BinanceBook(venue, self.symbol)
        self.bybit = BybitBook(venue, self.symbol)

    def apply(self, frame: Frame) -> None:
        if frame.kind == "snapshot":
            body = json.loads(frame.data)
            self.recorded_snapshot = self.recorded_snapshot or body
            self.binance.on_snapshot(binance_wire.decode_snapshot(self.venue, body, self.symbol))
        elif frame.kind == "depth":
            for item in binance_wire.decode(self.venue, json.loads(frame.data)):
                if isinstance(item, binance_wire.DepthDiff):
                    self.binance.on_diff(item)
        elif frame.kind == "orderbook":
            for item in bybit_wire.decode(json.loads(frame.data)):
                if isinstance(item, bybit_wire.BookUpdate):
                    self.bybit.on_update(item)

    def apply_all(self, frames: list[Frame]) -> None:
        for frame in frames:
            self.apply(frame)

    def binance_snapshot(self, limit: int) -> dict[str, Any] | None:
        """The REST depth answer at the current position (the recorded one before it syncs)."""
        book = self.binance
        if not book.synced or book.last_id is None:
            if self.recorded_snapshot is None:
                return None
            snap = dict(self.recorded_snapshot)
            snap["bids"], snap["asks"] = snap["bids"][:limit], snap["asks"][:limit]
            return snap
        depth = book.levels.depth(book.ts_ms, limit)
        body: dict[str, Any] = {"lastUpdateId": book.last_id, "E": book.ts_ms, "T": book.ts_ms}
        if self.venue == "binancecoinm":
            body |= {"symbol": self.vid, "pair": self.vid.split("_")[0]}
        body["bids"] = [[str(p), str(q)] for p, q in depth.bids]
        body["asks"] = [[str(p), str(q)] for p, q in depth.asks]
        return body

    def bybit_snapshot(self, topic: str, limit: int) -> str | None:
        """A Bybit ``snapshot`` message at the current position, or None before the first one."""
        book = self.bybit
        if not book.synced:
            return None
        depth = book.levels.depth(book.ts_ms, limit)
        data = {
            "s": self.vid,
            "b": [[str(p), str(q)] for p, q in depth.bids],
            "a": [[str(p), str(q)] for p, q in depth.asks],
            "u": book.update_id,
            "seq": book.seq,
        }
        msg = {
            "topic": topic,
            "type": "snapshot",
            "ts": book.ts_ms,
            "data": data,
            "cts": book.ts_ms,
        }
        return json.dumps(msg, separators=(",", ":"))
