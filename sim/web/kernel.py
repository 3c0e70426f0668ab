"""The web desk's one door to the trading session: submit, preview, feed, subscribe, views.

Everything the pages and the JSON API change goes through :class:`WebDesk`. It wraps the desk's
session (``sim/desk/session.py``: the same order language, echo and log as ``microfut trade``),
which drives THE session kernel (``sim/session.py``: command → guards → account → journal →
subscribers). The web desk subscribes to the kernel, so every committed batch (a typed order, a
market input, a guard's lock) wakes the pages after it is in the journal.

A desk may trade on several venues at once (``--exchange binanceusdm --exchange bybit``): each
:class:`Venue` is its own account and session kernel over the same journal, as a terminal desk
on that venue would be; one replay clock drives all their recordings, merged in time order.

All calls run on the server's event loop (the API's handlers are ``async``), so the session is
never touched from two threads.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
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


@dataclass(eq=False)
class Venue:
    """One exchange at the web desk: its own account and session kernel (as ``microfut trade``
    runs one), the symbols it follows, their candles and the state of its prices."""

    name: str
    session: DeskSession
    symbols: list[str]
    candles: CandleBook
    source: str
    feed_state: str = "no feed"
    seen: int = 0  # lines of its session's log already copied into the desk's log


@dataclass(slots=True)
class Tagged:
    """A market input on its way to venue number ``venue`` (one stream can feed several)."""

    venue: int
    inp: Any

    @property
    def ts_ms(self) -> int:
        return int(self.inp.ts_ms)


async def tagged(venue: int, feed: AsyncIterator[Any]) -> AsyncIterator[Tagged]:
    """A venue's own (live) feed as tagged inputs."""
    async for inp in feed:
        yield Tagged(venue, inp)


class WebDesk:
    """One trader's desk served over HTTP: one venue or several (each its own account), their
    feeds, candles and change signals. The first venue is the default everywhere."""

    def __init__(
        self, venues: list[Venue], feeds: Sequence[AsyncIterator[Tagged]] = (),
        clock: Any = None,
    ) -> None:  # fmt: skip
        self.venues = venues
        self.feeds = list(feeds)
        self.clock = clock  # the replay clock all venues share (``pacing.ReplayClock``), or None
        for v in venues:
            v.session.clock = clock
            v.feed_state = "waiting" if self.feeds else "no feed"
        self.fatal: MicrofutError | None = None
        self.on_fatal: Any = None  # called once the journal failed (the server then stops)
        self.version = 0
        self.fills = 0  # fills seen since start: the pages refetch their markers when it moves
        self.log: deque[str] = deque(maxlen=500)  # every venue's log lines, in order
        self.logged = 0
        self._changed = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        for v in venues:
            v.session.kernel.subscribe(self._committed)
            self._collect(v)

    # ---- the session's parts the views read -------------------------------------------------
    @property
    def session(self) -> DeskSession:
        """The first venue's session (the only one on a single-venue desk)."""
        return self.venues[0].session

    @property
    def account(self) -> Any:
        return self.session.account

    @property
    def symbols(self) -> list[str]:
        return self.venues[0].symbols

    @property
    def candles(self) -> CandleBook:
        return self.venues[0].candles

    @property
    def source(self) -> str:
        if len(self.venues) == 1:
            return self.venues[0].source
        return " · ".join(f"{v.name}: {v.source}" for v in self.venues)

    @property
    def feed_state(self) -> str:
        if len(self.venues) == 1:
            return self.venues[0].feed_state
        return " · ".join(f"{v.name}: {v.feed_state}" for v in self.venues)

    @property
    def multi(self) -> bool:
        return len(self.venues) > 1

    @property
    def now_ms(self) -> int:
        return max(v.session.now_ms for v in self.venues)

    def venue(self, name: str | None = None) -> Venue:
        """The venue named ``name`` (a ccxt id), the first one when None; InputError if absent."""
        if not name:
            return self.venues[0]
        for v in self.venues:
            if v.name == name.strip().lower():
                return v
        names = ", ".join(v.name for v in self.venues)
        raise InputError(f"no venue '{name}' at this desk; it trades on {names}")

    def route(self, text: str, venue: str | None = None) -> tuple[Venue, str]:
        """The venue a line goes to and the line without its prefix: a line that starts with a
        venue of this desk (``bybit: buy 0.01 ETH``, ``bybit buy 0.01 ETH``) goes there, as
        typed; else to ``venue``; else to the first."""
        word, _, rest = text.strip().partition(" ")
        name = word.rstrip(":").lower()
        if rest.strip() and any(v.name == name for v in self.venues):
            return self.venue(name), rest.strip()
        return self.venue(venue), text

    def resolve(self, name: str, venue: str | None = None) -> str:
        """A symbol as typed (ETH, ETH/USDT:USDT) → the venue's symbol; InputError when unknown."""
        return self.venue(venue).session.book.get(name).symbol

    # ---- commands ---------------------------------------------------------------------------
    def submit(self, text: str, venue: str | None = None) -> Outcome:
        """Run one line of the desk's order language on a venue, exactly as typed at the
        terminal desk."""
        v, text = self.route(text, venue)
        before = v.session.logged
        reply = v.session.submit(text)
        lines = [line for line in v.session.lines_since(before) if not line.startswith("> ")]
        self._collect(v)
        self.touch()
        return Outcome(reply.ok, lines, reply.echoes, reply)

    def preview(self, text: str, venue: str | None = None) -> list[Echo]:
        """The echo of the line's orders before sending (nothing is sent); InputError if bad."""
        v, text = self.route(text, venue)
        session = v.session
        intent = parse(text, session.book.get, session.now_ms)
        if isinstance(intent, Invalid):
            raise InputError(intent.message)
        if not isinstance(intent, Orders):
            return []
        return [preview(session, o) for o in intent.orders]

    def note(self, line: str) -> None:
        """A line for the desk's log (the first venue's session log keeps it too)."""
        self.session.note(line)
        self._collect(self.venues[0])

    def pace(self, word: str, value: Decimal | None = None) -> str:
        """Drive the replay clock (pause, resume, speed, step); InputError on live prices."""
        if self.clock is None:
            raise InputError(
                f"{word} drives a replay; this desk is on live prices (start it with --replay DATA)"
            )
        line = self.clock.command(word, value)
        self.note(line)
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
            if self._tasks and all(t.done() for t in self._tasks):
                return
            await asyncio.sleep(0.01)

    # ---- the feed ---------------------------------------------------------------------------
    def start(self) -> None:
        """Start pumping the feeds into the sessions (on the running loop)."""
        if not self._tasks:
            self._tasks = [asyncio.create_task(self._pump(f)) for f in self.feeds]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _pump(self, source: AsyncIterator[Tagged]) -> None:
        """Feed the market into the sessions; a feed failure is shown, the desk stays usable."""
        fed: set[int] = set()
        for v in self.venues:
            v.feed_state = "running"
        try:
            async for item in source:
                v = self.venues[item.venue]
                inp = item.inp
                fed.add(item.venue)
                if isinstance(inp, LastTrade):
                    v.candles.observe(inp.symbol, inp.ts_ms, inp.price, inp.qty)
                v.session.feed(inp)
                self._collect(v)
                self.touch()  # a new price moves marks and the chart even without events
        except JournalError as e:
            self.fatal = e
            self._stopped(fed, f"journal failed: {e}", f"journal failed: {e}")
            if self.on_fatal is not None:
                self.on_fatal()
        except MicrofutError as e:
            self._stopped(fed, f"stopped: {e}", f"feed stopped: {e}")
        else:
            self._stopped(fed, "ended", "feed ended: the recording is over (the desk stays open)")
        self.touch()

    def _stopped(self, fed: set[int], state: str, line: str) -> None:
        for i in sorted(fed) or [0]:
            v = self.venues[i]
            v.feed_state = state
            v.session.note(line)
            self._collect(v)

    def _committed(self, events: Sequence[Any]) -> None:
        """The kernel's subscriber: a batch is in the journal; wake the pages."""
        self.fills += sum(type(e).__name__ == "OrderFilled" for e in events)
        self.touch()

    def _collect(self, v: Venue) -> None:
        """Copy the venue's new log lines into the desk's log (named by venue when several)."""
        s = v.session
        tag = f"[{v.name}] " if self.multi else ""
        for line in s.lines_since(v.seen):
            self.log.append(tag + line)
            self.logged += 1
        v.seen = s.logged

    def lines_since(self, count: int) -> list[str]:
        """Desk log lines written after the first ``count`` ever logged."""
        new = self.logged - count
        return list(self.log)[-new:] if new > 0 else []

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
        """Mark each venue's session end in the journal once the server stops: "completed" on
        a clean stop (Ctrl-C, SIGTERM), "interrupted" when the journal failed; a killed server
        leaves them unmarked, and `journal` then tells they are interrupted (process gone)."""
        status = "interrupted" if self.fatal is not None else "completed"
        for v in self.venues:
            s = v.session
            with contextlib.suppress(JournalError):  # a failed journal cannot take the mark
                s.journal.set_session_status(s.session_id, status)

    def close(self) -> None:
        for v in self.venues:
            v.session.close()
