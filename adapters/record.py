"""Record raw feed frames with their receipt time as gzip JSON lines plus a manifest.

Format (``microfut-recording/1``): a folder holding ``manifest.json`` and one or more
``frames-NNNN.jsonl.gz`` files. Each line is ``{"recv_ns": int, "venue": str, "raw": str}``
(plus ``recv_ns_orig`` when the receipt time was raised to keep ``recv_ns`` non-decreasing),
``raw`` being the frame text exactly as received (or, for venues read through ccxt, the ccxt
structure as JSON, see ``adapters/ccxt_feed.py``).

Crash safety: lines are buffered in memory and a background thread writes them as one complete
gzip member per flush window (default 1 s), then flushes and fsyncs the file. Concatenated gzip
members are one valid gzip stream, so a killed recorder leaves files readable up to the last
flush; only the buffer of the running window can be lost.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from sim.engine.market import FeedStatus
from sim.errors import DataError

log = logging.getLogger("microfut.record")

FORMAT = "microfut-recording/1"
MANIFEST = "manifest.json"
FILE_PATTERN = "frames-{:04d}.jsonl.gz"


@dataclass
class RecordedFile:
    """One rotated data file and what went into it."""

    name: str
    frames: int = 0
    bytes: int = 0
    first_recv_ns: int | None = None
    last_recv_ns: int | None = None


@dataclass
class Manifest:
    """What a recording holds; rewritten atomically at each rotation and at close."""

    venue: str
    symbols: list[str]
    microfut_version: str
    start_ms: int
    end_ms: int | None = None
    closed: bool = False
    frames: int = 0
    files: list[RecordedFile] = field(default_factory=list)
    format: str = FORMAT

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["start"] = _iso(self.start_ms)
        doc["end"] = _iso(self.end_ms) if self.end_ms is not None else None
        return doc


def _iso(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).isoformat(timespec="milliseconds")


def status_line(status: FeedStatus) -> str:
    """The line `record` prints when a symbol goes stale or recovers (wall-clock UTC time)."""
    when = datetime.fromtimestamp(status.ts_ms / 1000, tz=UTC).strftime("%H:%M:%S")
    if status.stale:
        return f"{when} {status.symbol} stale: {status.reason} (still recording; gap in the data)"
    return f"{when} {status.symbol} recovered: {status.reason}"


def read_manifest(folder: Path) -> Manifest:
    """Load ``folder/manifest.json``; DataError when it is missing or not a microfut manifest."""
    path = folder / MANIFEST
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        files = [RecordedFile(**f) for f in doc["files"]]
        return Manifest(
            venue=doc["venue"],
            symbols=list(doc["symbols"]),
            microfut_version=doc["microfut_version"],
            start_ms=int(doc["start_ms"]),
            end_ms=doc.get("end_ms"),
            closed=bool(doc.get("closed", False)),
            frames=int(doc.get("frames", 0)),
            files=files,
            format=doc.get("format", FORMAT),
        )
    except OSError as e:
        raise DataError(f"cannot read recording manifest {path}: {e.strerror}") from None
    except (ValueError, KeyError, TypeError) as e:
        raise DataError(
            f"recording manifest {path} is corrupt ({e!r}); it must be a microfut manifest"
        ) from None


class Recorder:
    """Append raw frames to rotating gzip JSON-lines files; ``write`` never blocks on disk.

    ``write(recv_ns, venue, text)`` has the feeds' ``on_raw`` signature, so a recorder can be
    passed straight to ``open_feed(..., on_raw=recorder.write)``.
    """

    def __init__(
        self,
        out_dir: Path,
        venue: str,
        symbols: Sequence[str],
        version: str,
        *,
        flush_s: float = 1.0,
        rotate_bytes: int = 64 * 1024 * 1024,
        rotate_s: float = 3600.0,
    ) -> None:
        self.out_dir = Path(out_dir)
        self.flush_s = flush_s
        self.rotate_bytes = rotate_bytes
        self.rotate_s = rotate_s
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise DataError(f"cannot create recording folder {self.out_dir}: {e.strerror}") from e
        if (self.out_dir / MANIFEST).exists():
            raise DataError(
                f"{self.out_dir} already holds a recording; choose another --out folder"
            )
        self.manifest = Manifest(
            venue=venue,
            symbols=list(symbols),
            microfut_version=version,
            start_ms=time.time_ns() // 1_000_000,
        )
        self._pending: list[tuple[int, bytes]] = []
        self._last_ns = 0
        self._lock = threading.Lock()  # guards _pending
        self._io_lock = threading.Lock()  # guards the file, its stats and the manifest
        self._file: BinaryIO | None = None
        self._file_opened = 0.0
        self._closed = False
        self._stop = threading.Event()
        self._open_next_file()
        self._thread = threading.Thread(target=self._flush_loop, name="recorder", daemon=True)
        self._thread.start()

    # -- producer side (event loop) -------------------------------------------------------
    def write(self, recv_ns: int, venue: str, text: str) -> None:
        """Queue one frame; it reaches the disk within ``flush_s``.

        Lines keep the order the feed processed the frames in (what the engine saw), so the
        stored ``recv_ns`` never decreases: a frame handled after one received later (a REST
        depth snapshot teed before the websocket frames buffered while it was fetched) gets
        the previous frame's time, its own kept in ``recv_ns_orig``.
        """
        if self._closed:
            return
        with self._lock:
            doc: dict[str, Any] = {"recv_ns": max(recv_ns, self._last_ns)}
            if recv_ns < self._last_ns:  # processed after a frame received later: keep the order
                doc["recv_ns_orig"] = recv_ns
            self._last_ns = doc["recv_ns"]
            doc.update(venue=venue, raw=text)
            line = json.dumps(doc, ensure_ascii=False)
            self._pending.append((doc["recv_ns"], line.encode("utf-8") + b"\n"))

    @property
    def frames(self) -> int:
        """Frames written to disk so far."""
        return self.manifest.frames

    # -- consumer side (flush thread) -----------------------------------------------------
    def _flush_loop(self) -> None:
        while not self._stop.wait(self.flush_s):
            try:
                self.flush()
            except OSError:
                log.exception("recorder: flush to %s failed", self.out_dir)

    def flush(self) -> None:
        """Write the buffered frames as one gzip member and fsync (to a new file when due)."""
        with self._lock:
            batch, self._pending = self._pending, []
        with self._io_lock:
            if batch and self._file is not None:
                if self._rotation_due():
                    self._open_next_file()
                self._write_member(batch)

    def _write_member(self, batch: list[tuple[int, bytes]]) -> None:
        assert self._file is not None
        data = gzip.compress(b"".join(line for _, line in batch), compresslevel=6, mtime=0)
        self._file.write(data)
        self._file.flush()
        os.fsync(self._file.fileno())
        current = self.manifest.files[-1]
        current.frames += len(batch)
        current.bytes += len(data)
        if current.first_recv_ns is None:
            current.first_recv_ns = batch[0][0]
        current.last_recv_ns = batch[-1][0]
        self.manifest.frames += len(batch)

    def _rotation_due(self) -> bool:
        current = self.manifest.files[-1]
        if current.frames == 0:
            return False
        too_big = current.bytes >= self.rotate_bytes
        too_old = time.monotonic() - self._file_opened >= self.rotate_s
        return too_big or too_old

    def _open_next_file(self) -> None:
        if self._file is not None:
            self._file.close()
        name = FILE_PATTERN.format(len(self.manifest.files) + 1)
        try:
            self._file = (self.out_dir / name).open("ab")
        except OSError as e:
            raise DataError(f"cannot write recording file {self.out_dir / name}: {e}") from e
        self._file_opened = time.monotonic()
        self.manifest.files.append(RecordedFile(name=name))
        self._save_manifest()

    def _save_manifest(self) -> None:
        path = self.out_dir / MANIFEST
        tmp = path.with_suffix(".json.tmp")
        with tmp.open("w", encoding="utf-8") as f:
            json.dump(self.manifest.to_json(), f, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    # -- lifecycle ------------------------------------------------------------------------
    def close(self) -> Manifest:
        """Flush everything, close the file and write the final manifest (idempotent)."""
        if self._closed:
            return self.manifest
        self._closed = True
        self._stop.set()
        self._thread.join(timeout=10)
        self.flush()
        with self._io_lock:
            if self._file is not None:
                self._file.close()
                self._file = None
            self.manifest.end_ms = time.time_ns() // 1_000_000
            self.manifest.closed = True
            self._save_manifest()
        return self.manifest

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
