"""`microfut trade`: the full-screen desk (textual) over a :class:`DeskSession` and a price feed.

The screen only reads the session; every change goes through ``DeskSession.submit`` (the command
line) or ``DeskSession.feed`` (the feed task), which commit to the journal before the screen
shows anything. The panels are built by plain functions (``sim/desk/panels.py``) so tests can
check them against the engine; the layout keeps every risk number visible at 80×24.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.widgets import RichLog, Static

from sim.desk import panels
from sim.desk.chart import chart_line
from sim.desk.cmdline import CommandLine, complete
from sim.desk.guide import HELP_TEXT, PROMPT
from sim.desk.panels import (  # re-exported: the CLI and tests use them from here
    ORDER_COLUMNS,
    POSITION_COLUMNS,
    PRICE_COLUMNS,
    countdown,
    liq_distance,
    next_funding_ms,
    order_rows,
    position_rows,
    price_rows,
    wallet_text,
)
from sim.desk.parse import Orders, parse
from sim.desk.preview import preview
from sim.desk.session import DeskSession
from sim.engine.market import LastTrade, MarkPrice
from sim.errors import InputError, JournalError, MicrofutError

__all__ = [
    "ORDER_COLUMNS", "POSITION_COLUMNS", "PRICE_COLUMNS", "Confirm", "DeskApp", "countdown",
    "liq_distance", "next_funding_ms", "order_rows", "position_rows", "price_rows", "wallet_text",
]  # fmt: skip
SPARK_POINTS = 240
SILENT_S = 10.0  # a live feed quiet this long is shown as NO DATA (it keeps reconnecting)
FEED_LOGGERS = ("adapters.stream", "adapters.binance.feed", "adapters.bybit.feed",
                "microfut.feed")  # fmt: skip


class DeskLogHandler(logging.Handler):
    """The feed's own warnings (reconnecting, book gap) as desk log lines, so a dropped
    connection is seen on the screen instead of only in a log file."""

    def __init__(self, desk: DeskSession) -> None:
        super().__init__(logging.WARNING)
        self.desk = desk

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.desk.note(f"feed: {record.getMessage()}")
        except Exception:
            self.handleError(record)


@dataclass(frozen=True, slots=True)
class Confirm:
    """When an order needs a typed ``y``: notional above ``notional_x_equity`` × equity or
    leverage above ``leverage`` (0 turns a check off)."""

    notional_x_equity: Decimal = Decimal(0)
    leverage: Decimal = Decimal(0)


class DeskApp(App[None]):
    """The desk screen: status, prices, charts, wallet, positions, orders, log, command line."""

    TITLE = "microfut trade"
    CSS = """
    Screen { layout: vertical; }
    #status { height: 1; background: $primary-background; text-style: bold; }
    #prices { height: auto; max-height: 6; }
    #charts { height: auto; max-height: 4; color: $text-muted; }
    #wallet { height: auto; max-height: 2; background: $boost; }
    #positions { height: auto; max-height: 9; }
    #orders { height: auto; max-height: 6; }
    #help { display: none; height: 1fr; min-height: 3; border-top: solid $accent; }
    #help.shown { display: block; }
    #log.hidden { display: none; }
    #log { height: 1fr; min-height: 3; border-top: solid $primary; }
    #command { height: 1; border: none; padding: 0 0; }
    """
    BINDINGS: ClassVar[list[Binding]] = [
        Binding("ctrl+c", "quit", "quit", priority=True),
        Binding("ctrl+q", "quit", "quit", priority=True),
        Binding("escape", "hide_help", "close help", show=False),
    ]

    def __init__(
        self, desk: DeskSession, symbols: list[str], feed: AsyncIterator[Any] | None = None,
        subtitle: str = "", confirm: Confirm | None = None,
    ) -> None:  # fmt: skip
        super().__init__()
        self.desk = desk
        self.symbols = symbols
        self.feed_source = feed
        self.sub_title = subtitle
        self.confirm = confirm or Confirm()
        self.shown = 0
        self.feed_error: str | None = None
        self.feed_state = "CONNECTING" if feed is not None else "NO FEED"
        self.fatal: MicrofutError | None = None
        self.internal_errors = 0
        self.pending: str | None = None  # a line waiting for its `y`
        self.history: dict[str, deque[Decimal]] = {s: deque(maxlen=SPARK_POINTS) for s in symbols}
        self._feed_task: asyncio.Task[None] | None = None
        self._seen = (0, 0.0)  # (desk.now_ms, monotonic time when it was reached)
        self._heard = time.monotonic()  # when the feed last delivered an input
        self._log_handler: DeskLogHandler | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="status")
        yield Static(id="prices")
        yield Static(id="charts")
        yield Static(id="wallet")
        yield Static(id="positions")
        yield Static(id="orders")
        yield Static(HELP_TEXT, id="help", markup=False)
        yield RichLog(id="log", wrap=True, markup=False, highlight=False, max_lines=2000)
        yield CommandLine(
            placeholder=PROMPT, id="command", completions=self._complete,
            on_choices=lambda c: self._say("  ".join(c)),
        )  # fmt: skip

    def on_mount(self) -> None:
        if self.desk.resumed:
            self.desk.note(f"resumed account '{self.desk.options.account}' from the journal")
        self.refresh_view()
        self.query_one("#command", CommandLine).focus()
        if self.feed_source is not None:
            if self.desk.clock is None:
                self._log_handler = DeskLogHandler(self.desk)
                for name in FEED_LOGGERS:
                    logging.getLogger(name).addHandler(self._log_handler)
            self._feed_task = asyncio.create_task(self._pump())
        self.set_interval(0.25, self.refresh_view)

    # ---- feed -------------------------------------------------------------------------------
    async def _pump(self) -> None:
        """Feed the market into the desk; a feed failure is shown, the desk stays usable."""
        assert self.feed_source is not None
        try:
            async for inp in self.feed_source:
                self.desk.feed(inp)
                self._remember(inp)
                self._heard = time.monotonic()
                if self.feed_state in ("CONNECTING", "NO DATA"):
                    if self.feed_state == "NO DATA":
                        self.desk.note("feed: data flowing again")
                    self.feed_state = "LIVE"
        except JournalError as e:
            self._fail(e)
        except MicrofutError as e:
            self.feed_error = str(e)
            self.feed_state = "OFFLINE"
            self.desk.note(f"feed stopped: {e}")
        except Exception as e:
            self._internal(e, "feed")
        else:
            self.feed_state = "ENDED"
            self.desk.note("feed ended: the recording is over (the desk stays open)")

    def _remember(self, inp: Any) -> None:
        """Recent prices for the sparklines: trades, or marks until a trade arrives."""
        seen = self.history.get(getattr(inp, "symbol", ""))
        if seen is None:
            return
        if isinstance(inp, LastTrade) or (isinstance(inp, MarkPrice) and not seen):
            seen.append(inp.price)

    def _fail(self, error: MicrofutError) -> None:
        """Leave the screen; the CLI reports the error in one line (a journal must not lag)."""
        self.fatal = error
        self.exit(return_code=error.exit_code)

    def _internal(self, error: BaseException, where: str) -> None:
        """A bug: one line in the log (no traceback on the screen) and a non-zero exit later."""
        self.internal_errors += 1
        self.desk.note(f"internal error in {where}: {type(error).__name__}: {error}")
        self.refresh_view()

    # ---- screen -----------------------------------------------------------------------------
    def now_ms(self) -> int:
        """The desk's 'now' for countdowns: the data time, which on a live feed keeps ticking
        between messages (so an offline desk's funding countdown does not freeze)."""
        now = self.desk.now_ms
        if self.desk.clock is not None or self.feed_source is None or not now:
            return now
        t = time.monotonic()
        if now != self._seen[0]:
            self._seen = (now, t)
        return now + int((t - self._seen[1]) * 1000)

    def _watch_live(self) -> None:
        """A live feed silent for ``SILENT_S``: say so once (the feed keeps reconnecting)."""
        if self.desk.clock is not None or self.feed_source is None:
            return
        if self.feed_state in ("CONNECTING", "LIVE"):
            quiet = time.monotonic() - self._heard
            if quiet >= SILENT_S:
                self.feed_state = "NO DATA"
                self.desk.note(f"feed: no market data for {quiet:.0f} s; still trying to connect "
                               "(prices on screen are old; Ctrl-C quits)")  # fmt: skip

    def status_text(self) -> str:
        """Replay clock (UTC), pace and state in capitals: PAUSED / RUNNING / LIVE / STALE."""
        desk = self.desk
        now = self.now_ms()
        clock = desk.clock
        stale = [s for s in self.symbols if s in desk.account.stale]
        if clock is not None:
            pace = f"replay ×{clock.speed:g}"
            state = "PAUSED" if clock.paused else "RUNNING"
            if self.feed_state == "ENDED":
                state = "ENDED"
        else:
            pace = "live"
            state = self.feed_state
        if stale and state not in ("OFFLINE",):
            state = f"{state} · STALE {len(stale)}/{len(self.symbols)}"
        clock_text = panels.clock_text(now) if desk.now_ms else "no data yet"
        return f" {clock_text} │ {pace} │ {state} │ {self.sub_title}"

    def chart_text(self) -> str:
        width = max(self.size.width - 2, 20)
        orders = self.desk.account.open_orders()
        lines = []
        for s in self.symbols:
            pos = self.desk.account.positions_by_symbol.get(s)
            view = next((p for p in self.desk.account.positions() if p.symbol == s), None)
            stop, tp = panels.brackets(orders, s) if pos is not None else (None, None)
            base = self.desk.account.specs[s].base if s in self.desk.account.specs else s
            lines.append(chart_line(
                base, list(self.history.get(s, ())), self.desk.account.marks.get(s),
                entry=view.entry_price if view else None, stop=stop, tp=tp,
                liq=view.liquidation_price if view else None, width=width,
            ))  # fmt: skip
        return "\n".join(lines)

    def refresh_view(self) -> None:
        """Redraw every panel from the session (a tick after the screen closed does nothing)."""
        try:
            status = self.query_one("#status", Static)
        except NoMatches:
            return
        desk = self.desk
        self._watch_live()
        now = self.now_ms()
        width = self.size.width
        status.update(self.status_text())
        self.query_one("#prices", Static).update(
            panels.price_table(price_rows(desk, self.symbols, now))
        )
        self.query_one("#charts", Static).update(self.chart_text())
        self.query_one("#wallet", Static).update(wallet_text(desk, now))
        rows = position_rows(desk)
        positions = self.query_one("#positions", Static)
        positions.display = bool(rows)
        positions.update(panels.position_table(rows, width))
        orders = order_rows(desk)
        orders_box = self.query_one("#orders", Static)
        orders_box.display = bool(orders)
        orders_box.update(panels.order_table(orders))
        log = self.query_one("#log", RichLog)
        for line in desk.lines_since(self.shown):
            log.write(line, expand=True)
        self.shown = desk.logged

    def _say(self, line: str) -> None:
        self.desk.note(line)
        self.refresh_view()

    def _complete(self, line: str) -> tuple[str, list[str]]:
        specs = self.desk.account.specs
        names = [specs[s].base for s in self.symbols if s in specs]
        if "/" in line.rpartition(" ")[2]:
            names = list(self.symbols)
        ids = [o.order_id for o in self.desk.account.open_orders()]
        return complete(line, names, ids)

    def action_hide_help(self) -> None:
        self.show_help(False)

    def show_help(self, on: bool) -> None:
        """The help panel takes the log's place (the command line stays on screen)."""
        self.query_one("#help", Static).set_class(on, "shown")
        self.query_one("#log", RichLog).set_class(on, "hidden")

    # ---- commands ---------------------------------------------------------------------------
    def needs_confirm(self, line: str) -> str | None:
        """Why ``line`` needs a `y` (notional or leverage above the `[risk]` thresholds)."""
        intent = parse(line, self.desk.book.get, self.desk.now_ms)
        if not isinstance(intent, Orders) or all(o.reduce_only for o in intent.orders):
            return None
        echoes = [preview(self.desk, o) for o in intent.orders]
        notional = sum((e.notional or Decimal(0) for e in echoes), Decimal(0))
        lev = max(e.leverage for e in echoes)
        equity = self.desk.equity()
        limit_x, limit_lev = self.confirm.notional_x_equity, self.confirm.leverage
        if limit_x and equity > 0 and notional > limit_x * equity:
            return f"notional {notional / equity:.1f}× equity (confirm above {limit_x:f}×)"
        if limit_lev and lev > limit_lev:
            return f"leverage {lev:f}x (confirm above {limit_lev:f}x)"
        return None

    def on_command_line_command(self, message: CommandLine.Command) -> None:
        try:
            self.run_line(message.line)
        except MicrofutError as e:
            self._fail(e)
        except Exception as e:
            self._internal(e, f"'{message.line.strip()}'")

    def run_line(self, line: str) -> None:
        """One typed line: help, a confirmation answer, or a command for the session."""
        word = line.strip().split()[0].lower()
        if self.pending is not None:
            pending, self.pending = self.pending, None
            if word in ("y", "yes"):
                self._send(pending)
            else:
                self._say(f"not sent: {pending.strip()}")
                if word not in ("n", "no"):
                    self.run_line(line)
            return
        if word in ("help", "?"):
            self.desk.note(f"> {line.strip()}")
            opened = not self.query_one("#help", Static).has_class("shown")
            self.show_help(opened)
            self._say("help panel open (Esc or help closes it)" if opened else "help closed")
            return
        words = line.lower().split()
        if words in (["close", "all"], ["cancel", "all"]):
            self._all(words[0])
            return
        try:
            why = self.needs_confirm(line)
        except InputError:
            why = None  # the session reports the problem in its own words
        if why is not None:
            self.pending = line
            self.desk.note(f"> {line.strip()}")
            for o in parse(line, self.desk.book.get, self.desk.now_ms).orders:  # type: ignore[union-attr]
                self.desk.note(preview(self.desk, o).line())
            self._say(f"CONFIRM: {why}; type y to send, anything else cancels")
            return
        self._send(line)

    def _all(self, verb: str) -> None:
        """``close all`` (every position at market) or ``cancel all`` (every working order)."""
        acct = self.desk.account
        if verb == "close":
            targets = [p.symbol for p in acct.positions()]
        else:  # entries first: a bracket child goes with its parent
            targets = [o.order_id for o in acct.open_orders() if not o.parent_id]
            targets += [o.order_id for o in acct.open_orders() if o.parent_id]
        self.desk.note(f"> {verb} all")
        if not targets:
            self._say(f"nothing to {verb}: no {'positions' if verb == 'close' else 'orders'}")
            return
        for target in targets:
            if verb == "cancel" and target not in {o.order_id for o in acct.open_orders()}:
                continue  # went with its parent
            self._send(f"{verb} {target}")
        self.refresh_view()

    def _send(self, line: str) -> None:
        reply = self.desk.submit(line)
        self.refresh_view()
        if reply.quit:
            self.exit()

    async def on_unmount(self) -> None:
        if self._log_handler is not None:
            for name in FEED_LOGGERS:
                logging.getLogger(name).removeHandler(self._log_handler)
        if self._feed_task is not None:
            self._feed_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._feed_task
