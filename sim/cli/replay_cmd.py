"""`microfut replay`: run ORDERS.csv against recorded real candles and print the final account."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

from sim.cli import context, render
from sim.cli.flags import user_tier
from sim.cli.replay_render import interrupt_message, print_result, result_json
from sim.errors import InputError

if TYPE_CHECKING:
    from adapters.pricepath import MarketData
    from sim.bus import Bus
    from sim.engine.account import Account
    from sim.engine.commands import PlaceOrder
    from sim.engine.events import Event, TradeClosed
    from sim.engine.orders import Order
    from sim.engine.positions import PositionView
    from sim.engine.spec import ContractSpec, MarginTier
    from sim.journal.store import Journal
    from sim.runner import Runner, RunStats


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
    specs: dict[str, ContractSpec] = field(default_factory=dict, repr=False)


def _collector(result_events: list[Event]) -> Any:
    def collect(events: Sequence[Event]) -> None:
        result_events.extend(events)

    return collect


class _DeferredInterrupt:
    """Ctrl-C waits for the input being applied (and its journal commit) to finish.

    Outside ``busy`` a SIGINT raises KeyboardInterrupt at once (reading data, setting up);
    inside, it is remembered and raised by :func:`_interruptible` right after the input, so
    the account and the journal stop on the same input.
    """

    def __init__(self) -> None:
        self.busy = False
        self.pending = False
        self._previous: Any = None

    def __enter__(self) -> _DeferredInterrupt:
        with contextlib.suppress(ValueError):  # not the main thread: keep the default
            self._previous = signal.signal(signal.SIGINT, self._on_sigint)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)

    def _on_sigint(self, signum: int, frame: object) -> None:
        if not self.busy:
            raise KeyboardInterrupt
        self.pending = True


def _interruptible(runner: Any, guard: _DeferredInterrupt) -> None:
    """Wrap ``runner.feed`` so a Ctrl-C lands between two inputs, never inside one."""
    feed = runner.feed

    def guarded(inp: object) -> list[Event]:
        guard.busy = True
        try:
            return feed(inp)
        finally:
            guard.busy = False
            if guard.pending:
                guard.pending = False
                raise KeyboardInterrupt

    runner.feed = guarded


def is_raw_recording(data: Path) -> bool:
    """True for raw exchange messages (a capture or a microfut recording), not candle files."""
    from adapters.replay import CANDLE_SUFFIXES

    if data.is_dir():
        return (data / "manifest.json").exists()
    return data.suffix.lower() not in CANDLE_SUFFIXES


def _attach_journal(
    journal: Journal, bus: Bus, account: Account, opening: Decimal, params: dict[str, Any]
) -> int:
    currency = next(iter(sorted({s.settle for s in account.specs.values()})), "")
    journal.ensure_account(account.name, account.venue, currency, opening)
    session = journal.start_session(account.name, "replay", params)

    def write(events: Sequence[Event]) -> None:
        journal.append(account.name, events, account.snapshot(), session_id=session)

    bus.subscribe(write)
    return session


def _resolve(
    exchange: str, rows: list[tuple[int, PlaceOrder]], where: str
) -> tuple[dict[str, ContractSpec], list[tuple[int, PlaceOrder]]]:
    """Each row's symbol checked against the venue's specs first (did-you-mean on a typo);
    orders are rewritten to the unified symbol."""
    from adapters.specs import load_spec_book

    book = load_spec_book(exchange, context.settings())
    specs: dict[str, ContractSpec] = {}
    out: list[tuple[int, PlaceOrder]] = []
    for n, order in rows:
        try:
            spec = book.get(order.symbol)
        except InputError as e:
            raise InputError(f"{where} row {n}: {e}") from None
        specs[spec.symbol] = spec
        out.append((n, replace(order, symbol=spec.symbol)))
    return specs, out


def _with_tiers(
    exchange: str, specs: dict[str, ContractSpec], tier: MarginTier | None
) -> tuple[dict[str, ContractSpec], list[str]]:
    """Symbols without recorded maintenance tiers take the single tier from ``--mmr`` or stop
    the run with a message saying to pass it (asked only once the data is known to cover them).
    """
    specs = dict(specs)
    notes: list[str] = []
    for sym, spec in sorted(specs.items()):
        if spec.tiers:
            continue
        if tier is None:
            raise InputError(
                f"{sym} on {exchange} has no recorded maintenance-margin tiers; pass --mmr RATE "
                "[--maint-amount C] with the rate of your position's tier from the exchange's "
                "margin page (e.g. --mmr 0.004)"
            )
        cap = cast(Decimal, spec.max_leverage)  # None: no recorded cap, leverage not limited
        specs[sym] = replace(spec, tiers=(replace(tier, max_leverage=cap),), tiers_source="--mmr")
        notes.append(
            f"{sym}: maintenance margin from --mmr {render.fmt(tier.mmr)} (maint amount "
            f"{render.fmt(tier.cum)}), given by you: {exchange} has no recorded tiers for it"
        )
    if tier is not None and not notes:
        notes.append("--mmr not used: every symbol has recorded maintenance-margin tiers")
    return specs, notes


def _market(
    data: Path, exchange: str, rows: list[tuple[int, PlaceOrder]], where: str, tf: str | None
) -> MarketData:
    """The candles of every order's symbol; each order's time must lie inside its series."""
    from adapters.candles import list_series
    from adapters.pricepath import available, check_order_times, discover

    symbols = sorted({o.symbol for _, o in rows})
    market = discover(data, exchange, symbols, tf)
    missing = [s for s in symbols if s not in market.candles]
    if missing:
        tf_text = f" {tf}" if tf else ""
        raise InputError(
            f"{where}: no recorded{tf_text} trade candles for {', '.join(missing)} under {data}; "
            f"{available(list_series(data))}"
        )
    check_order_times(market.candles, ((f"{where} row {n}", o.symbol, o.ts_ms) for n, o in rows))
    return market


def _check_raw_times(data: Path, rows: list[tuple[int, PlaceOrder]], where: str) -> None:
    """Orders outside a raw recording's receipt-time span stop the run, as with candles."""
    from adapters.pricepath import check_order_times
    from adapters.replay import recorded_span

    span = recorded_span(data)
    spans = {o.symbol: span for _, o in rows}
    check_order_times(spans, ((f"{where} row {n}", o.symbol, o.ts_ms) for n, o in rows))


def _play(
    runner: Runner,
    data: Path,
    market: MarketData | None,
    symbols: list[str],
    timed: list[tuple[int, int, object]],
    fast: bool,
) -> tuple[RunStats, list[str]]:
    """Play the recorded data with the orders merged in; Ctrl-C lands between two inputs."""
    from adapters.pricepath import capture_notes, replay_notes
    from adapters.replay import open_replay
    from sim.runner import CandleReplay

    with _DeferredInterrupt() as guard:
        _interruptible(runner, guard)
        if market is None:
            source = open_replay(data, symbols=symbols)
            stats = runner.run_merged(source, timed)
            return stats, capture_notes(data.name) + source.notes()
        stats = CandleReplay(runner, list(market.candles.values()), timed, fast=fast).run()
        return stats, replay_notes(market, symbols)


def run_replay(
    exchange: str,
    data: Path | None,
    orders_path: Path,
    balance: Decimal | None,
    timeframe: str | None = None,
    db: Path | None = None,
    fast: bool = True,
    account_name: str | None = None,
    tier: MarginTier | None = None,
) -> ReplayResult:
    """Parse and check everything first (bad rows stop the run), then replay and collect."""
    from adapters.orders_csv import read_order_rows
    from sim.bus import Bus
    from sim.engine.account import Account
    from sim.engine.commands import Deposit
    from sim.engine.events import TradeClosed
    from sim.runner import Runner

    settings = context.settings()
    where = orders_path.name
    rows = read_order_rows(orders_path)
    if not rows:
        raise InputError(f"{where} has no order rows")
    specs, rows = _resolve(exchange, rows, where)
    if data is None:
        from adapters.candles import default_root

        data = default_root(settings.data.data_dirs, sorted(specs), timeframe)
    if not data.exists():
        raise InputError(f"--data {data} does not exist; point it at a recorded file or folder")
    orders = [o for _, o in rows]
    symbols = sorted(specs)
    if is_raw_recording(data):
        market = None
        _check_raw_times(data, rows, where)
    else:
        market = _market(data, exchange, rows, where, timeframe)
    specs, tier_notes = _with_tiers(exchange, specs, tier)  # data first: no --mmr for nothing
    journal = None
    name = account_name or settings.account.name
    if db is not None:
        from sim.journal.store import Journal

        journal = Journal.open(db)
        free = journal.free_account_name(name)
        if free != name:
            render.warn(f"account '{name}' already exists in {db}; this replay is '{free}'")
        name = free
    try:
        account = Account(
            name,
            specs,
            slippage_bps=settings.fills.slippage_bps,
            upnl_price=settings.fills.upnl_price,
            mark_from_last=True,
        )
        amount = balance if balance is not None else settings.account.starting_balance
        first_bar = min((c.first_ms for c in market.candles.values()), default=0) if market else 0
        start = min(first_bar, orders[0].ts_ms) if market else orders[0].ts_ms
        timed: list[tuple[int, int, object]] = [
            (start, -1, Deposit(ts_ms=start, currency=c, amount=amount, reason="starting balance"))
            for c in sorted({spec.settle for spec in specs.values()})
        ]
        timed += market.funding if market else []
        timed += [(o.ts_ms, 1, o) for o in orders]
        bus = Bus()
        events: list[Event] = []
        bus.subscribe(_collector(events))
        session = None
        if journal is not None:
            params = {"data": str(data), "orders": str(orders_path), "balance": str(amount)}
            session = _attach_journal(journal, bus, account, amount, params)
        runner = Runner(account, bus)
        try:
            stats, notes = _play(runner, data, market, symbols, timed, fast)
        except KeyboardInterrupt:
            if journal is not None and session is not None:
                journal.set_session_status(session, "interrupted")
            line = interrupt_message(account.now_ms or None, account.name, db)
            raise KeyboardInterrupt(line) from None
        if journal is not None and session is not None:
            journal.set_session_status(session, "completed")
    finally:
        if journal is not None:
            journal.close()
    return ReplayResult(
        exchange=exchange,
        data=str(data),
        account=account.name,
        balances=account.wallets(),
        equity={c: account.equity(c) for c in account.wallets()},
        positions=account.positions(),
        open_orders=[_order_row(o) for o in account.open_orders()],
        closed_trades=sorted(
            (e for e in events if isinstance(e, TradeClosed)), key=lambda t: (t.ts_ms, t.seq)
        ),
        rejected=[
            {
                "order_id": e.order_id,  # type: ignore[attr-defined]
                "symbol": e.symbol,
                "time": render.ts_text(e.ts_ms),
                "reason": e.reason,  # type: ignore[attr-defined]
            }
            for e in events
            if e.kind in ("OrderRejected", "CommandRejected")
        ],
        notes=tier_notes + notes,
        stats=stats,
        journal=None if db is None else str(db),
        events=events,
        specs=specs,
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


def _number(flag: str, text: str | None) -> Decimal | None:
    from sim.engine.money import dec

    if text is None:
        return None
    try:
        return dec(text)
    except InputError:
        raise InputError(f"{flag} expects a number, was {text!r}") from None


def _tier(mmr: str | None, maint: str | None) -> MarginTier | None:
    """One user-given maintenance tier (--mmr, --maint-amount) for symbols without recorded ones."""
    return user_tier(_number("--mmr", mmr), _number("--maint-amount", maint), 1)


def register(app: typer.Typer) -> None:
    """Attach `microfut replay` to the root app."""

    @app.command("replay")
    def replay(
        orders: Annotated[Path, typer.Option("--orders", help="ORDERS.csv to run")],
        data: Annotated[
            Path | None,
            typer.Option(
                "--data",
                help="recorded candles (file or folder) or a raw capture "
                "(default: the first data folder with candles for the orders' symbols)",
            ),
        ] = None,
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
        account: Annotated[
            str | None,
            typer.Option(
                "--account", help="account name in the journal (taken: NAME-2, NAME-3 ...)"
            ),
        ] = None,
        mmr: Annotated[
            str | None,
            typer.Option("--mmr", help="maintenance-margin rate for symbols without tiers"),
        ] = None,
        maint_amount: Annotated[
            str | None, typer.Option("--maint-amount", help="maintenance amount (cum) with --mmr")
        ] = None,
        every_bar: Annotated[
            bool, typer.Option("--every-bar", help="play every bar (no skipping; slower)")
        ] = False,
        as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
    ) -> None:
        """Replay ORDERS.csv against recorded real candles; print balances, positions, trades."""
        amount = _number("--balance", balance)
        if amount is not None and amount <= 0:
            raise InputError(f"--balance must be > 0, was {balance}")
        if account is not None and not account.strip():
            raise InputError("--account needs a name")
        tier = _tier(mmr, maint_amount)
        ex = exchange or context.settings().exchange.default
        try:
            result = run_replay(
                ex,
                data,
                orders,
                amount,
                timeframe,
                db,
                not every_bar,
                account and account.strip(),
                tier,
            )
        except KeyboardInterrupt as e:  # typer would exit 130 without a word
            render.stderr.print(str(e) or "interrupted", markup=False, soft_wrap=True)
            raise typer.Exit(130) from None
        if as_json:
            render.print_json(result_json(result))
        else:
            print_result(result)


__all__ = ["ReplayResult", "register", "run_replay"]
