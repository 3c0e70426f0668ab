"""Loopback server state: client connections and the markets they replay."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import deque

from aiohttp import web

from adapters.loopback.captures import Frame, ServerBook

_conn_ids = itertools.count(1)


class Conn:
    """One client websocket: its subscriptions (key → label it asked for) and outgoing queue."""

    def __init__(self, ws: web.WebSocketResponse, mode: str) -> None:
        self.ws = ws
        self.mode = mode  # "raw" | "combined" | "bybit"
        self.id = f"loopback-{next(_conn_ids)}"
        self.subs: dict[tuple[str, str], str] = {}
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()  # None = close after the rest

    def send(self, text: str) -> None:
        self.queue.put_nowait(text)

    def send_frame(self, key: tuple[str, str], frame_data: str) -> None:
        label = self.subs.get(key)
        if label is None:
            return
        if self.mode == "combined":
            self.send(f'{{"stream":"{label}","data":{frame_data}}}')
        elif self.mode == "bybit":
            self.send(_relabel_topic(frame_data, label))
        else:
            self.send(frame_data)

    async def write_loop(self) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            while (text := await self.queue.get()) is not None:
                await self.ws.send_str(text)
            # 1011 "internal error": what venues send when a server drops its clients.
            await self.ws.close(code=1011, message=b"loopback fault: drop")

    def drop(self) -> None:
        """Close the connection once what was already sent to it is written."""
        self.subs.clear()
        self.queue.put_nowait(None)


def _relabel_topic(text: str, topic: str) -> str:
    start = text.find('"topic":"')
    if start < 0:
        return text
    start += len('"topic":"')
    end = text.find('"', start)
    return text[:start] + topic + text[end:]


class Market:
    """One captured symbol: its frames, replay cursor, subscribers and server-side book."""

    def __init__(self, venue: str, vid: str, prefix: list[Frame], frames: list[Frame]) -> None:
        self.venue = venue
        self.vid = vid
        self.prefix = prefix  # frames before the served slice: they only build the book
        self.frames = frames
        self.book = ServerBook(venue, vid)
        self.subscribers: dict[str, set[Conn]] = {}
        self.recent: dict[str, deque[str]] = {}
        self.position = 0
        self.task: asyncio.Task[None] | None = None
        self.done = asyncio.Event()
        self.resume_kinds: set[str] = set()  # streams to wait for after a dropped connection

    def rewind(self) -> None:
        """Back to the start of the slice, with the book as it stood there."""
        self.book = ServerBook(self.venue, self.vid)
        self.book.apply_all(self.prefix)
        self.recent.clear()
        self.position = 0
        self.task = None
        self.done.clear()

    def listening(self) -> bool:
        """True when the replay may go on: someone listens (after a drop: all who listened)."""
        if self.resume_kinds:
            return all(self.subscribers.get(k) for k in self.resume_kinds)
        return any(self.subscribers.values())
