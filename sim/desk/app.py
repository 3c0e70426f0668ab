"""`microfut trade`: the full-screen desk (textual) over a :class:`DeskSession` and a price feed.

The screen only reads the session; every change goes through ``DeskSession.submit`` (the command
line) or ``DeskSession.feed`` (the feed task), which commit to the journal before the screen
shows anything. The row builders are plain functions so tests can check them against the engine.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any, ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.widgets import DataTable, Footer, Header, Input, RichLog, Static

from sim.desk.describe import money, px
from sim.desk.parse import HELP
from sim.desk.session import DeskSession
from sim.display import fmt
from sim.engine.orders import Order
from sim.engine.positions import PositionView
from sim.errors import JournalError, MicrofutError

PRICE_COLUMNS = ("symbol", "last", "mark", "bid", "ask", "funding", "next in")
POSITION_COLUMNS = ("symbol", "side", "contracts", "×mult", "notional", "entry", "mark", "uPnL",
                    "margin", "ratio", "liq", "liq dist", "lev", "stop", "tp")  # fmt: skip
ORDER_COLUMNS = ("id", "symbol", "side", "type", "contracts", "filled", "price", "trigger",
                 "flags")  # fmt: skip
HOUR_MS = 3_600_000


def countdown(ms: int) -> str:
    """Milliseconds as h:mm:ss."""
    s = max(0, ms) // 1000
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def next_funding_ms(desk: DeskSession, symbol: str) -> int | None:
    """The next funding instant: announced by the feed, else the venue's interval grid."""
    quote = desk.quotes.get(symbol)
    now = desk.now_ms
    if quote is not None and quote.funding_time_ms and quote.funding_time_ms > now:
        return quote.funding_time_ms
    spec = desk.account.specs.get(symbol)
    if spec is None or not spec.is_perpetual or not spec.funding_interval_h:
        return None
    step = int(spec.funding_interval_h * HOUR_MS)
    return (now // step + 1) * step


def price_rows(desk: DeskSession, symbols: list[str]) -> list[tuple[str, ...]]:
    """One row per followed symbol: last, mark, bid/ask, funding rate and countdown."""
    rows = []
    for s in symbols:
        q = desk.quotes.get(s)
        book = desk.account.books.get(s)
        last = book.last if book else None
        mark = desk.account.marks.get(s)
        nxt = next_funding_ms(desk, s)
        rate = q.funding_rate if q else None
        rows.append((
            s, px(last), px(mark), px(q.bid if q else None), px(q.ask if q else None),
            "-" if rate is None else f"{(rate * 100).normalize():f}%",
            "-" if nxt is None else countdown(nxt - desk.now_ms),
        ))  # fmt: skip
    return rows


def _brackets(orders: list[Order], symbol: str) -> tuple[Decimal | None, Decimal | None]:
    stop = tp = None
    for o in orders:
        if o.symbol != symbol or not (o.reduce_only or o.parent_id):
            continue
        if o.order_type.startswith("take_profit"):
            tp = o.trigger_price
        elif o.order_type in ("stop_market", "stop_limit", "trailing_stop_market"):
            stop = o.trigger_price
    return stop, tp


def liq_distance(p: PositionView) -> Decimal | None:
    """How far mark may move against the position before liquidation, in % of mark."""
    if p.liquidation_price is None or not p.mark_price:
        return None
    sign = 1 if p.side == "long" else -1
    return sign * (p.mark_price - p.liquidation_price) / p.mark_price * 100


def position_margin(p: PositionView) -> Decimal:
    """Isolated margin, or the cross initial margin (notional / leverage)."""
    return p.isolated_margin if p.margin_mode == "isolated" else p.notional / p.leverage


def position_rows(desk: DeskSession) -> list[tuple[str, ...]]:
    """Open positions with the multiplier and the engine's own liquidation price."""
    orders = desk.account.open_orders()
    rows = []
    for p in desk.account.positions():
        stop, tp = _brackets(orders, p.symbol)
        dist = liq_distance(p)
        rows.append((
            p.symbol, p.side, fmt(p.contracts), fmt(p.contract_size), money(p.notional),
            px(p.entry_price), px(p.mark_price), money(p.unrealized_pnl),
            money(position_margin(p)), f"{fmt(p.margin_ratio * 100, 2)}%",
            px(p.liquidation_price), "-" if dist is None else f"{fmt(dist, 2)}%",
            f"{fmt(p.leverage)}x {p.margin_mode}", px(stop), px(tp),
        ))  # fmt: skip
    return rows


def order_rows(desk: DeskSession) -> list[tuple[str, ...]]:
    """Working orders in the order they were placed."""
    rows = []
    for o in desk.account.open_orders():
        flags = " ".join(
            name for name, on in (
                ("reduce", o.reduce_only), (o.trigger_source, o.trigger_price is not None),
                (o.time_in_force, o.time_in_force != "GTC"), (o.tag or "", bool(o.tag)),
            ) if on
        )  # fmt: skip
        rows.append((
            o.order_id, o.symbol, o.side, o.order_type, fmt(o.contracts), fmt(o.filled),
            px(o.price), px(o.trigger_price), flags,
        ))  # fmt: skip
    return rows


def wallet_text(desk: DeskSession) -> str:
    """Wallets, equity, available margin and the guards' state."""
    cur = desk.options.currency
    lines = [f"{c} wallet {money(v, c)}" for c, v in desk.account.wallets().items()]
    lines.append(f"equity {money(desk.equity(), cur)}")
    lines.append(f"available {money(desk.account.available(cur), cur)}")
    g = desk.guards
    lines.append(f"today {money(g.day_result, cur)} (limit −{money(g.loss_limit, cur)})")
    lines.append(f"trades today {g.state.trades_today}/{g.limits.max_trades_per_day or '∞'}")
    if g.locked and g.state.locked_until_ms is not None:
        lines.append(f"LOCKED {countdown(g.state.locked_until_ms - desk.now_ms)} — exits only")
    return "\n".join(lines)


def _fill(table: DataTable, rows: list[tuple[str, ...]]) -> None:
    table.clear()
    for row in rows:
        table.add_row(*row)


class DeskApp(App[None]):
    """The desk screen: prices, positions, orders, wallet, log and a command line."""

    TITLE = "microfut trade"
    CSS = """
    #top { height: auto; max-height: 8; }
    #prices { width: 3fr; height: auto; }
    #wallet { width: 1fr; padding: 0 1; border: round $accent; }
    #positions { height: auto; max-height: 10; }
    #orders { height: auto; max-height: 10; }
    #log { height: 1fr; border: round $primary; }
    """
    BINDINGS: ClassVar[list[Binding]] = [Binding("ctrl+q", "quit", "quit")]

    def __init__(
        self, desk: DeskSession, symbols: list[str], feed: AsyncIterator[Any] | None = None,
        subtitle: str = "",
    ) -> None:  # fmt: skip
        super().__init__()
        self.desk = desk
        self.symbols = symbols
        self.feed_source = feed
        self.sub_title = subtitle
        self.shown = 0
        self.feed_error: str | None = None
        self.fatal: MicrofutError | None = None
        self._feed_task: asyncio.Task[None] | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="top"):
            yield DataTable(id="prices", show_cursor=False)
            yield Static(id="wallet")
        yield DataTable(id="positions", show_cursor=False)
        yield DataTable(id="orders", show_cursor=False)
        yield RichLog(id="log", wrap=True, markup=False, highlight=False, max_lines=2000)
        yield Input(placeholder=HELP, id="command")
        yield Footer()

    def on_mount(self) -> None:
        for table_id, columns in (("#prices", PRICE_COLUMNS), ("#positions", POSITION_COLUMNS),
                                  ("#orders", ORDER_COLUMNS)):  # fmt: skip
            self.query_one(table_id, DataTable).add_columns(*columns)
        if self.desk.resumed:
            self.desk.note(f"resumed account '{self.desk.options.account}' from the journal")
        self.refresh_view()
        self.query_one("#command", Input).focus()
        if self.feed_source is not None:
            self._feed_task = asyncio.create_task(self._pump())
        self.set_interval(0.25, self.refresh_view)

    async def _pump(self) -> None:
        """Feed the market into the desk; a feed failure is shown, the desk stays usable."""
        assert self.feed_source is not None
        try:
            async for inp in self.feed_source:
                self.desk.feed(inp)
        except JournalError as e:
            self._fail(e)
        except MicrofutError as e:
            self.feed_error = str(e)
            self.desk.note(f"feed stopped: {e}")
        else:
            self.desk.note("feed ended: the recording is over (the desk stays open)")

    def _fail(self, error: MicrofutError) -> None:
        """Leave the screen; the CLI reports the error in one line (a journal must not lag)."""
        self.fatal = error
        self.exit(return_code=error.exit_code)

    def refresh_view(self) -> None:
        """Redraw every panel from the session (a tick after the screen closed does nothing)."""
        try:
            prices = self.query_one("#prices", DataTable)
        except NoMatches:
            return
        _fill(prices, price_rows(self.desk, self.symbols))
        _fill(self.query_one("#positions", DataTable), position_rows(self.desk))
        _fill(self.query_one("#orders", DataTable), order_rows(self.desk))
        self.query_one("#wallet", Static).update(wallet_text(self.desk))
        log = self.query_one("#log", RichLog)
        for line in self.desk.lines_since(self.shown):
            log.write(line, expand=True)
        self.shown = self.desk.logged

    def on_input_submitted(self, event: Input.Submitted) -> None:
        line = event.value
        event.input.value = ""
        if not line.strip():
            return
        try:
            reply = self.desk.submit(line)
        except MicrofutError as e:
            self._fail(e)
            return
        self.refresh_view()
        if reply.quit:
            self.exit()

    async def on_unmount(self) -> None:
        if self._feed_task is not None:
            self._feed_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._feed_task
