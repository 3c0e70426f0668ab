"""The desk's panels as plain rows and rich tables: read the session, never change it.

Rows are plain tuples of text (tests compare them with the engine's numbers); the tables lay
them out for the terminal's width. Below ``WIDE`` columns a position takes two lines (each column
holds two figures: ``entry`` over ``mark``, ``liq`` over its distance ...) so every risk number
stays on screen at 80×24 instead of being cut at the right edge.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

from rich.table import Table
from rich.text import Text

from sim.desk.describe import money, pricer
from sim.desk.session import DeskSession
from sim.display import fmt
from sim.engine.orders import Order
from sim.engine.positions import PositionView

WIDE = 150
HOUR_MS = 3_600_000
PRICE_COLUMNS = ("symbol", "last", "mark", "bid", "ask", "funding", "next in", "feed")
POSITION_COLUMNS = ("symbol", "side", "contracts", "×mult", "notional", "entry", "mark", "uPnL",
                    "margin", "ratio", "liq", "liq dist", "lev", "stop", "tp")  # fmt: skip
# two lines per position: (top column, bottom column) indexes into POSITION_COLUMNS
PAIRS = ((0, 1), (2, 3), (4, 8), (5, 6), (7, 9), (10, 11), (13, 14))
ORDER_COLUMNS = ("id", "symbol", "side", "type", "contracts", "filled", "price", "trigger",
                 "flags")  # fmt: skip
SHORT_TYPES = {"take_profit_market": "tp mkt", "stop_market": "stop mkt", "stop_limit": "stop lmt",
               "take_profit_limit": "tp lmt", "trailing_stop_market": "trail"}  # fmt: skip


def countdown(ms: int) -> str:
    """Milliseconds as h:mm:ss."""
    s = max(0, ms) // 1000
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def clock_text(ms: int) -> str:
    """A data time as the status line shows it: UTC date and time to the second."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def next_funding_ms(desk: DeskSession, symbol: str, now: int | None = None) -> int | None:
    """The next funding instant: announced by the feed, else the venue's interval grid."""
    quote = desk.quotes.get(symbol)
    now = desk.now_ms if now is None else now
    if quote is not None and quote.funding_time_ms and quote.funding_time_ms > now:
        return quote.funding_time_ms
    spec = desk.account.specs.get(symbol)
    if spec is None or not spec.is_perpetual or not spec.funding_interval_h:
        return None
    step = int(spec.funding_interval_h * HOUR_MS)
    return (now // step + 1) * step


def price_rows(
    desk: DeskSession, symbols: list[str], now: int | None = None
) -> list[tuple[str, ...]]:
    """One row per followed symbol: last, mark, bid/ask, funding rate, countdown, STALE."""
    rows = []
    now = desk.now_ms if now is None else now
    for s in symbols:
        q = desk.quotes.get(s)
        p = pricer(desk.account.specs.get(s))
        book = desk.account.books.get(s)
        nxt = next_funding_ms(desk, s, now)
        rate = q.funding_rate if q else None
        rows.append((
            s, p(book.last if book else None), p(desk.account.marks.get(s)),
            p(q.bid if q else None), p(q.ask if q else None),
            "-" if rate is None else f"{(rate * 100).normalize():f}%",
            "-" if nxt is None else countdown(nxt - now),
            "STALE" if s in desk.account.stale else "",
        ))  # fmt: skip
    return rows


def brackets(orders: list[Order], symbol: str) -> tuple[Decimal | None, Decimal | None]:
    """The working stop and take-profit trigger prices protecting ``symbol``'s position."""
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
        px = pricer(desk.account.specs.get(p.symbol))
        stop, tp = brackets(orders, p.symbol)
        dist = liq_distance(p)
        rows.append((
            p.symbol, p.side, fmt(p.contracts), fmt(p.contract_size), money(p.notional),
            px(p.entry_price), px(p.mark_price), money(p.unrealized_pnl),
            money(position_margin(p)), f"{fmt(p.margin_ratio * 100, 2)}%",
            px(p.liquidation_price), "-" if dist is None else f"{fmt(dist, 2)}%",
            f"{fmt(p.leverage)}x {'iso' if p.margin_mode == 'isolated' else 'cross'}",
            px(stop), px(tp),
        ))  # fmt: skip
    return rows


def order_rows(desk: DeskSession) -> list[tuple[str, ...]]:
    """Working orders in the order they were placed."""
    rows = []
    for o in desk.account.open_orders():
        px = pricer(desk.account.specs.get(o.symbol))
        flags = " ".join(
            name for name, on in (
                ("reduce", o.reduce_only),
                ("mark", o.trigger_source == "mark" and o.trigger_price is not None),
                (o.time_in_force, o.time_in_force != "GTC"), (o.tag or "", bool(o.tag)),
            ) if on
        )  # fmt: skip
        rows.append((
            o.order_id, o.symbol, o.side, SHORT_TYPES.get(o.order_type, o.order_type),
            fmt(o.contracts), fmt(o.filled), px(o.price), px(o.trigger_price), flags,
        ))  # fmt: skip
    return rows


def wallet_text(desk: DeskSession, now: int | None = None) -> str:
    """Wallets, equity, available margin and the guards' state in two lines."""
    cur = desk.options.currency
    now = desk.now_ms if now is None else now
    first = [f"{c} wallet {money(v, c)}" for c, v in desk.account.wallets().items()]
    first.append(f"equity {money(desk.equity())}")
    first.append(f"available {money(desk.account.available(cur))}")
    g = desk.guards
    second = [
        f"today {money(g.day_result)} (limit −{money(g.loss_limit)})",
        f"trades today {g.state.trades_today}/{g.limits.max_trades_per_day or '∞'}",
    ]
    if g.locked and g.state.locked_until_ms is not None:
        second.append(f"LOCKED {countdown(g.state.locked_until_ms - now)} — exits only")
    return " · ".join(first) + "\n" + " · ".join(second)


def _table(headers: Sequence[str]) -> Table:
    table = Table(box=None, padding=(0, 1), pad_edge=False, show_edge=False, expand=False,
                  header_style="bold")  # fmt: skip
    for h in headers:
        table.add_column(h, no_wrap=True, overflow="ellipsis")
    return table


def price_table(rows: list[tuple[str, ...]]) -> Table:
    table = _table(PRICE_COLUMNS)
    for row in rows:
        table.add_row(*row[:-1], Text(row[-1], style="bold red"))
    return table


def _pair(row: Sequence[str], top: int, bottom: int) -> str:
    return f"{row[top]}\n{row[bottom]}"


def position_table(rows: list[tuple[str, ...]], width: int) -> Table:
    """One line per position when wide, else two lines (the pairs of ``PAIRS``)."""
    if width >= WIDE:
        table = _table(POSITION_COLUMNS)
        for row in rows:
            table.add_row(*row)
        return table
    heads = [*POSITION_COLUMNS]
    heads[1] = "side lev"
    table = _table([_pair(heads, a, b) for a, b in PAIRS])
    for row in rows:
        joined = [*row]
        joined[1] = f"{row[1]} {row[12]}"  # side and leverage share the symbol's second line
        table.add_row(*(_pair(joined, a, b) for a, b in PAIRS))
    return table


def order_table(rows: list[tuple[str, ...]]) -> Table:
    table = _table(ORDER_COLUMNS)
    for row in rows:
        table.add_row(*row)
    return table
