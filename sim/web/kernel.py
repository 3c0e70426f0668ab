"""The web desk's one door to the trading session: submit, preview, feed, subscribe, views.

Everything the pages and the JSON API change goes through :class:`WebDesk`. It wraps the desk's
session (``sim/desk/session.py``: the same order language, echo and log as ``microfut trade``),
which drives THE session kernel (``sim/session.py``: command → guards → account → journal →
subscribers). The web desk subscribes to the kernel, so every committed batch (a typed order, a
market input, a guard's lock) wakes the pages after it is in the journal.

All calls run on the server's event loop (the API's handlers are ``async``), so the session is
never touched from two threads.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sim.desk.parse import Invalid, Orders, parse
from sim.desk.preview import Echo, preview
from sim.desk.session import DeskSession, Reply
from sim.engine.market import LastTrade
from sim.errors import InputError, JournalError, MicrofutError
from sim.web.candles import CandleBook


@dataclass(slots=True)
class Outcome:
    """What one typed line did, for the API: ok, the desk's log lines, echoes, events."""

    ok: bool
    lines: list[str]
    echoes: list[Echo]
    reply: Reply

    @property
    def rejected(self) -> bool:
        """True when the exchange (the engine) rejected what the line sent."""
        return any(
            type(e).__name__ in ("OrderRejected", "CommandRejected") for e in self.reply.events
        )

    @property
    def message(self) -> str:
        """The desk's one line for a refused line (its first error, else its last line)."""
        errors = [line for line in self.lines if line.startswith(("error", "DENIED"))]
        refused = [line for line in self.lines if " refused" in line or " REJECTED " in line]
        return (errors or refused or self.lines or ["refused"])[0]


class WebDesk:
    """One trader's desk served over HTTP: the session, its feed, candles and change signals."""

    def __init__(
        self, session: DeskSession, symbols: list[str], candles: CandleBook, source: str,
        feed: AsyncIterator[Any] | None = None,
    ) -> None:  # fmt: skip
        self.session = session
        self.symbols = symbols
        self.candles = candles
        self.source = source
        self.feed_source = feed
        self.feed_state = "waiting" if feed is not None else "no feed"
        self.fatal: MicrofutError | None = None
        self.on_fatal: Any = None  # called once the journal failed (the server then stops)
        self.version = 0
        self.fills = 0  # fills seen since start: the pages refetch their markers when it moves
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        session.kernel.subscribe(self._committed)

    # ---- the session's parts the views read -------------------------------------------------
    @property
    def account(self) -> Any:
        return self.session.account

    @property
    def clock(self) -> Any:
        """The replay clock (``pacing.ReplayClock``), or None on live prices."""
        return self.session.clock

    @property
    def now_ms(self) -> int:
        return self.session.now_ms

    def resolve(self, name: str) -> str:
        """A symbol as typed (ETH, ETH/USDT:USDT) → the venue's symbol; InputError when unknown."""
        return self.session.book.get(name).symbol

    # ---- commands ---------------------------------------------------------------------------
    def submit(self, text: str) -> Outcome:
        """Run one line of the desk's order language, exactly as typed at the terminal desk."""
        before = self.session.logged
        reply = self.session.submit(text)
        lines = [line for line in self.session.lines_since(before) if not line.startswith("> ")]
        self.touch()
        return Outcome(reply.ok, lines, reply.echoes, reply)

    def preview(self, text: str) -> list[Echo]:
        """The echo of the line's orders before sending (nothing is sent); InputError if bad."""
        intent = parse(text, self.session.book.get, self.now_ms)
        if isinstance(intent, Invalid):
            raise InputError(intent.message)
        if not isinstance(intent, Orders):
            return []
        return [preview(self.session, o) for o in intent.orders]

    def pace(self, word: str, value: Decimal | None = None) -> str:
        """Drive the replay clock (pause, resume, speed, step); InputError on live prices."""
        if self.clock is None:
            raise InputError(
                f"{word} drives a replay; this desk is on live prices (start it with --replay DATA)"
            )
        line = self.clock.command(word, value)
        self.session.note(line)
        self.touch()
        return line

    async def settle(self, wait_s: float = 10.0) -> None:
        """Wait until a requested step has been played (or the feed ended / timeout).

        The step is done once the input waiting at the clock's gate lies past the step's end:
        the pump feeds each input it lets through before pulling the next one.
        """
        clock = self.clock
        loop = asyncio.get_running_loop()
        end = loop.time() + wait_s
        while clock is not None and loop.time() < end:
            if not clock.stepping:
                return
            if self._task is not None and self._task.done():
                return
            await asyncio.sleep(0.01)

    # ---- the feed ---------------------------------------------------------------------------
    def start(self) -> None:
        """Start pumping the feed into the session (on the running loop)."""
        if self.feed_source is not None and self._task is None:
            self._task = asyncio.create_task(self._pump())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _pump(self) -> None:
        """Feed the market into the session; a feed failure is shown, the desk stays usable."""
        assert self.feed_source is not None
        self.feed_state = "running"
        try:
            async for inp in self.feed_source:
                if isinstance(inp, LastTrade):
                    self.candles.observe(inp.symbol, inp.ts_ms, inp.price, inp.qty)
                self.session.feed(inp)
                self.touch()  # a new price moves marks and the chart even without events
        except JournalError as e:
            self.fatal, self.feed_state = e, f"journal failed: {e}"
            self.session.note(f"journal failed: {e}")
            if self.on_fatal is not None:
                self.on_fatal()
        except MicrofutError as e:
            self.feed_state = f"stopped: {e}"
            self.session.note(f"feed stopped: {e}")
        else:
            self.feed_state = "ended"
            self.session.note("feed ended: the recording is over (the desk stays open)")
        self.touch()

    def _committed(self, events: Sequence[Any]) -> None:
        """The kernel's subscriber: a batch is in the journal; wake the pages."""
        self.fills += sum(type(e).__name__ == "OrderFilled" for e in events)
        self.touch()

    # ---- subscribers ------------------------------------------------------------------------
    def touch(self) -> None:
        """Something changed: bump the version and wake every subscriber."""
        self.version += 1
        self._changed.set()
        self._changed = asyncio.Event()

    async def changed(self, since: int, wait_s: float = 5.0) -> int:
        """Wait until the version moves past ``since`` (or timeout); the current version."""
        if self.version == since:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), wait_s)
        return self.version

    def finish(self) -> None:
        """Mark the session's end in the journal once the server stops: "completed" on a clean
        stop (Ctrl-C, SIGTERM), "interrupted" when the journal failed; a killed server leaves it
        unmarked, and `journal` then tells it is interrupted (its process is gone)."""
        status = "interrupted" if self.fatal is not None else "completed"
        s = self.session
        with contextlib.suppress(JournalError):  # a failed journal cannot take the mark either
            s.journal.set_session_status(s.session_id, status)

    def close(self) -> None:
        self.session.close()
