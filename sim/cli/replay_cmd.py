"""`microfut replay`: run ORDERS.csv against recorded real candles and print the final account."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer

from adapters.orders_csv import read_orders
from adapters.pricepath import MarketData, discover
from adapters.replay import CANDLE_SUFFIXES, open_replay
from adapters.specs import load_spec_book
from sim.bus import Bus
from sim.cli import context, render
from sim.engine.account import Account
from sim.engine.commands import Deposit, PlaceOrder
from sim.engine.events import Event, TradeClosed
from sim.engine.money import dec
from sim.engine.orders import Order
from sim.engine.positions import PositionView
from sim.errors import InputError
from sim.runner import CandleReplay, Runner, RunStats


@dataclass
class ReplayResult:
    """The final account of a replay, ready to print or dump as JSON."""

    exchange: str
    data: str
    account: str
    balances: dict[str, Decimal]
    equity: dict[str, Decimal]
    positions: list[PositionView]
    open_orders: list[dict[str, Any]]
    closed_trades: list[TradeClosed]
    rejected: list[dict[str, Any]]
    notes: list[str]
    stats: RunStats
    journal: str | None = None
    events: list[Event] = field(default_factory=list, repr=False)


def _collector(result_events: list[Event]) -> Any:
    def collect(events: Sequence[Event]) -> None:
        result_events.extend(events)

    return collect


def is_raw_recording(data: Path) -> bool:
    """True for raw exchange messages (a capture or a microfut recording), not candle files."""
    if data.is_dir():
        return (data / "manifest.json").exists()
    return data.suffix.lower() not in CANDLE_SUFFIXES


def _notes(market: MarketData, symbols: Sequence[str]) -> list[str]:
    notes = list(market.notes)
    for s in symbols:
        if market.mark_series.get(s):
            notes.append(
                f"{s}: mark price = last price of the candle path between the recorded 8h "
                "mark prices (those are used at funding instants)"
            )
        else:
            notes.append(f"{s}: no mark-price series; the last price stands in for mark")
    notes.append(
        "intra-bar path: open, then the extreme against the trader (low first when long or "
        "with sell entries working, high first when short or with buy entries), then the "
        "other extreme, then close"
    )
    return notes


def _attach_journal(db: Path, bus: Bus, account: Account, params: dict[str, Any]) -> str:
    from sim.journal.store import Journal

    journal = Journal.open(db)
    currency = next(iter(account.balances), "")
    journal.ensure_account(account.name, account.venue, currency, sum(account.balances.values()))
    session = journal.start_session(account.name, "replay", params)

    def write(events: Sequence[Event]) -> None:
        journal.append(account.name, events, account.snapshot(), session_id=session)

    bus.subscribe(write)
    return str(db)


def run_replay(
    exchange: str,
    data: Path,
    orders_path: Path,
    balance: Decimal | None,
    timeframe: str | None = None,
    db: Path | None = None,
    fast: bool = True,
) -> ReplayResult:
    """Parse everything first (bad rows stop the run), then replay and collect the result."""
    settings = context.settings()
    orders = read_orders(orders_path)
    if not orders:
        raise InputError(f"{orders_path.name} has no order rows")
    symbols = sorted({o.symbol for o in orders})
    raw = is_raw_recording(data)
    market = None if raw else discover(data, exchange, symbols, timeframe)
    if market is not None:
        missing = [s for s in symbols if s not in market.candles]
        if missing:
            raise InputError(
                f"{orders_path.name}: no recorded candles for {', '.join(missing)} under {data}"
            )
    book = load_spec_book(exchange, settings)
    specs = {s: book.get(s) for s in symbols}
    account = Account(
        settings.account.name,
        specs,
        slippage_bps=settings.fills.slippage_bps,
        upnl_price=settings.fills.upnl_price,
        mark_from_last=True,
    )
    amount = balance if balance is not None else settings.account.starting_balance
    first_bar = min((int(c.ts[0]) for c in market.candles.values()), default=0) if market else 0
    start = min(first_bar, orders[0].ts_ms) if market else orders[0].ts_ms
    timed: list[tuple[int, int, object]] = [
        (start, -1, Deposit(ts_ms=start, currency=cur, amount=amount, reason="starting balance"))
        for cur in sorted({spec.settle for spec in specs.values()})
    ]
    timed += market.funding if market else []
    timed += [(o.ts_ms, 1, o) for o in orders]
    bus = Bus()
    events: list[Event] = []
    bus.subscribe(_collector(events))
    journal = None
    if db is not None:
        params = {"data": str(data), "orders": str(orders_path), "balance": str(amount)}
        journal = _attach_journal(db, bus, account, params)
    runner = Runner(account, bus)
    if market is None:
        stats = runner.run_merged(open_replay(data, symbols=symbols), timed)
        notes = [
            f"{data.name}: recorded exchange messages (trades, book top and depth); "
            "the last price stands in for mark, no funding in the recording"
        ]
    else:
        stats = CandleReplay(runner, list(market.candles.values()), timed, fast=fast).run()
        notes = _notes(market, symbols)
    return ReplayResult(
        exchange=exchange,
        data=str(data),
        account=account.name,
        balances=account.wallets(),
        equity={c: account.equity(c) for c in account.wallets()},
        positions=account.positions(),
        open_orders=[_order_row(o) for o in account.open_orders()],
        closed_trades=[e for e in events if isinstance(e, TradeClosed)],
        rejected=[
            {
                "order_id": e.order_id,
                "symbol": e.symbol,
                "time": render.ts_text(e.ts_ms),
                "reason": e.reason,
            }  # type: ignore[attr-defined]
            for e in events
            if e.kind in ("OrderRejected", "CommandRejected")
        ],
        notes=notes,
        stats=stats,
        journal=journal,
        events=events,
    )


def _order_row(o: Order) -> dict[str, Any]:
    return {
        "order_id": o.order_id,
        "symbol": o.symbol,
        "side": o.side,
        "type": o.order_type,
        "contracts": o.contracts,
        "filled": o.filled,
        "price": o.price,
        "trigger_price": o.trigger_price,
        "status": o.status,
        "tag": o.tag,
    }


def _money(value: Decimal) -> str:
    """Display form of a balance: 8 decimals at most (BTC wallets need them), no trailing 0s."""
    return render.fmt(value.quantize(Decimal("0.00000001")).normalize())


def _print(result: ReplayResult) -> None:
    out = render.stdout
    out.print(
        render.kv_table(
            f"replay on {result.exchange} · account {result.account}",
            [
                *((f"balance {c}", _money(v)) for c, v in result.balances.items()),
                *((f"equity {c}", _money(v)) for c, v in result.equity.items()),
                (
                    "bars played / skipped",
                    f"{result.stats.bars_played} / {result.stats.bars_skipped}",
                ),
                ("events", str(result.stats.events)),
            ],
        )
    )
    if result.positions:
        out.print(
            render.grid_table(
                "open positions",
                [
                    "symbol",
                    "side",
                    "contracts",
                    "× size",
                    "entry",
                    "mark",
                    "leverage",
                    "mode",
                    "uPnL",
                    "liq. price",
                    "margin ratio",
                ],
                [
                    [
                        p.symbol,
                        p.side,
                        p.contracts,
                        p.contract_size,
                        p.entry_price,
                        p.mark_price,
                        p.leverage,
                        p.margin_mode,
                        render.fmt(p.unrealized_pnl, 2),
                        p.liquidation_price and render.fmt(p.liquidation_price, 2),
                        render.fmt(p.margin_ratio * 100, 2) + " %",
                    ]
                    for p in result.positions
                ],
            )
        )
    out.print(
        render.grid_table(
            "closed trades",
            [
                "symbol",
                "side",
                "entry time",
                "entry",
                "exit time",
                "exit",
                "contracts",
                "realized PnL",
                "fees",
                "funding",
                "exit reason",
            ],
            [
                [
                    t.symbol,
                    t.side,
                    render.ts_text(t.open_ts_ms),
                    t.entry_price,
                    render.ts_text(t.ts_ms),
                    render.fmt(t.exit_price, 2),
                    t.contracts,
                    render.fmt(t.realized_pnl, 4),
                    render.fmt(t.fees, 4),
                    render.fmt(t.funding, 4),
                    t.exit_reason,
                ]
                for t in result.closed_trades
            ],
        )
    )
    if result.open_orders:
        out.print(
            render.grid_table(
                "working orders",
                ["id", "symbol", "side", "type", "contracts", "price", "trigger"],
                [
                    [
                        o["order_id"],
                        o["symbol"],
                        o["side"],
                        o["type"],
                        o["contracts"],
                        o["price"],
                        o["trigger_price"],
                    ]
                    for o in result.open_orders
                ],
            )
        )
    for r in result.rejected:
        render.warn(f"{r['time']} {r['symbol']} order {r['order_id']} rejected: {r['reason']}")
    for note in result.notes:
        render.stderr.print(f"note: {note}")


def _json(result: ReplayResult) -> dict[str, Any]:
    return {
        "exchange": result.exchange,
        "data": result.data,
        "account": result.account,
        "balances": result.balances,
        "equity": result.equity,
        "positions": result.positions,
        "open_orders": result.open_orders,
        "closed_trades": result.closed_trades,
        "rejected": result.rejected,
        "notes": result.notes,
        "stats": result.stats,
        "journal": result.journal,
    }


def register(app: typer.Typer) -> None:
    """Attach `microfut replay` to the root app."""

    @app.command("replay")
    def replay(
        data: Annotated[
            Path,
            typer.Option("--data", help="recorded candles (file or folder) or a raw capture"),
        ],
        orders: Annotated[Path, typer.Option("--orders", help="ORDERS.csv to run")],
        exchange: Annotated[
            str | None, typer.Option("--exchange", "-e", help="ccxt id (default from config)")
        ] = None,
        balance: Annotated[
            str | None, typer.Option("--balance", help="opening balance (default from config)")
        ] = None,
        timeframe: Annotated[
            str | None, typer.Option("--timeframe", help="candle timeframe (default: finest)")
        ] = None,
        db: Annotated[
            Path | None, typer.Option("--db", help="write the events to this journal file")
        ] = None,
        every_bar: Annotated[
            bool, typer.Option("--every-bar", help="play every bar (no skipping; slower)")
        ] = False,
        as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
    ) -> None:
        """Replay ORDERS.csv against recorded real candles; print balances, positions, trades."""
        amount = None
        if balance is not None:
            try:
                amount = dec(balance)
            except InputError:
                raise InputError(f"--balance expects a number, was {balance!r}") from None
            if amount <= 0:
                raise InputError(f"--balance must be > 0, was {balance}")
        ex = exchange or context.settings().exchange.default
        result = run_replay(ex, data, orders, amount, timeframe, db, fast=not every_bar)
        if as_json:
            render.print_json(_json(result))
        else:
            _print(result)


__all__ = ["PlaceOrder", "ReplayResult", "register", "run_replay"]
