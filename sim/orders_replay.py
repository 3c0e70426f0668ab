"""ORDERS.csv replayed against recorded data through the session kernel (the library behind
``microfut replay``; the command only parses flags and prints).

Everything is checked before the first input: each row's symbol against the venue's specs, each
order's time against the recorded data, missing maintenance tiers (``--mmr``). The orders, the
opening deposit and the recorded funding go into the runner merged by time; the journal (when
given) commits every batch through the kernel, and a Ctrl-C lands between two inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sim.display import fmt, ts_text
from sim.engine.account import Account
from sim.engine.commands import Deposit, PlaceOrder
from sim.engine.events import Event, TradeClosed
from sim.engine.spec import ContractSpec, MarginTier, with_fees
from sim.errors import InputError
from sim.guards import GuardLimits
from sim.interrupt import DeferredInterrupt
from sim.runner import CandleReplay, Runner, RunStats
from sim.session import JournalLink, Session

GUARDS_KEY = "replay_guards"  # where the guards' memory sits in the journal's snapshot

if TYPE_CHECKING:
    from adapters.pricepath import MarketData
    from adapters.specs import SpecBook
    from sim.engine.orders import Order
    from sim.engine.positions import PositionView
    from sim.journal.resume import RunPlan


@dataclass(frozen=True, slots=True)
class ReplayOptions:
    """Plain values a replay needs (the CLI reads them from settings and flags)."""

    exchange: str
    balance: Decimal
    slippage_bps: Decimal
    upnl_price: str
    account: str
    timeframe: str | None = None
    db: Path | None = None
    fast: bool = True
    tier: MarginTier | None = None
    maker_fee: Decimal | None = None
    taker_fee: Decimal | None = None
    limits: GuardLimits | None = None  # discipline guards (``--guards``); None: orders as written
    resume: bool = False  # ``--resume``: continuing an interrupted run is required, not optional
    progress: Callable[[int, int], None] | None = None  # (bars done, all bars) of a candle replay


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


class ReplayInterrupted(KeyboardInterrupt):
    """Ctrl-C during a replay; ``ts_ms`` is the account's clock where it stopped (0: none)."""

    def __init__(self, ts_ms: int, account: str) -> None:
        super().__init__(ts_ms, account)
        self.ts_ms = ts_ms
        self.account = account


def is_raw_recording(data: Path) -> bool:
    """True for raw exchange messages (a capture or a microfut recording), not candle files."""
    from adapters.replay import CANDLE_SUFFIXES

    if data.is_dir():
        return (data / "manifest.json").exists()
    return data.suffix.lower() not in CANDLE_SUFFIXES


def resolve(
    book: SpecBook, rows: list[tuple[int, PlaceOrder]], where: str
) -> tuple[dict[str, ContractSpec], list[tuple[int, PlaceOrder]]]:
    """Each row's symbol checked against the venue's specs first (did-you-mean on a typo);
    orders are rewritten to the unified symbol."""
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


def with_tiers(
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
            f"{sym}: maintenance margin from --mmr {fmt(tier.mmr)} (maint amount "
            f"{fmt(tier.cum)}), given by you: {exchange} has no recorded tiers for it"
        )
    if tier is not None and not notes:
        notes.append("--mmr not used: every symbol has recorded maintenance-margin tiers")
    return specs, notes


def candle_market(
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


def check_raw_times(
    data: Path, rows: list[tuple[int, PlaceOrder]], where: str, exchange: str | None = None
) -> None:
    """Orders outside a raw recording's receipt-time span stop the run, as with candles."""
    from adapters.pricepath import check_order_times
    from adapters.replay import recorded_span

    span = recorded_span(data, default_venue=exchange)  # -e when the folder names no venue
    spans = {o.symbol: span for _, o in rows}
    check_order_times(spans, ((f"{where} row {n}", o.symbol, o.ts_ms) for n, o in rows))


def play(
    runner: Runner,
    data: Path,
    market: MarketData | None,
    symbols: list[str],
    timed: list[tuple[int, int, object]],
    fast: bool,
    exchange: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[RunStats, list[str]]:
    """Play the recorded data with the orders merged in (``exchange``: a capture's venue
    when its folder names none)."""
    from adapters.pricepath import capture_notes, replay_notes
    from adapters.replay import open_replay

    if market is None:
        source = open_replay(data, symbols=symbols, default_venue=exchange)
        stats = runner.run_merged(source, timed)
        return stats, capture_notes(data.name) + source.notes()
    candles = list(market.candles.values())
    stats = CandleReplay(runner, candles, timed, fast=fast, progress=progress).run()
    return stats, replay_notes(market, symbols)


def run_orders(
    options: ReplayOptions,
    book: SpecBook,
    data: Path | None,
    orders_path: Path,
    warn: Callable[[str], None] = lambda _: None,
    data_dirs: Sequence[Path] = (),
) -> ReplayResult:
    """Parse and check everything first (bad rows stop the run), then replay and collect.

    Without ``data`` the first of ``data_dirs`` holding candles for the orders' symbols is used.
    """
    from adapters.candles import default_root
    from adapters.orders_csv import read_order_rows

    where = orders_path.name
    rows = read_order_rows(orders_path)
    if not rows:
        raise InputError(f"{where} has no order rows")
    specs, rows = resolve(book, rows, where)
    if data is None:
        data = default_root(data_dirs, sorted(specs), options.timeframe)
    if not data.exists():
        raise InputError(f"--data {data} does not exist; point it at a recorded file or folder")
    if is_raw_recording(data):
        market = None
        check_raw_times(data, rows, where, options.exchange)
    else:
        market = candle_market(data, options.exchange, rows, where, options.timeframe)
    specs, notes = with_tiers(options.exchange, specs, options.tier)  # data first: no --mmr
    if options.maker_fee is not None or options.taker_fee is not None:
        specs = {s: with_fees(v, options.maker_fee, options.taker_fee) for s, v in specs.items()}
        notes.append(_fee_note(options))
    journal = None
    name = options.account
    plan = None
    params = run_params(options, data, orders_path)
    if options.db is not None:
        from sim.journal.resume import plan_run
        from sim.journal.store import Journal

        journal = Journal.open(options.db)
        try:
            plan = plan_run(journal, "replay", name, params, resume=options.resume)
        except BaseException:
            journal.close()
            raise
        if plan.message:
            warn(plan.message)
        name = plan.account
    elif options.resume:
        raise InputError("--resume continues a run written to a journal; pass --db")
    try:
        account = Account(
            name,
            specs,
            slippage_bps=options.slippage_bps,
            upnl_price=options.upnl_price,
            mark_from_last=True,
        )
        result = _replay(
            options, account, journal, data, params, plan, market, [o for _, o in rows]
        )
    finally:
        if journal is not None:
            journal.close()
    result.notes[:0] = notes
    return result


def run_params(options: ReplayOptions, data: Path, orders_path: Path) -> dict[str, Any]:
    """What identifies a replay: rerunning with the same values continues an interrupted one
    (``sim.journal.resume``). The orders file's digest: an edited file is another run."""
    import hashlib

    digest = hashlib.sha256(orders_path.read_bytes()).hexdigest()
    fee = {"maker": options.maker_fee, "taker": options.taker_fee}
    return {
        "data": str(data.resolve()),
        "orders": str(orders_path.resolve()),
        "orders_sha256": digest,
        "balance": str(options.balance),
        "exchange": options.exchange,
        "timeframe": options.timeframe or "",
        "every_bar": not options.fast,
        "guards": options.limits is not None,
        "fees": {k: str(v) for k, v in fee.items() if v is not None},
        "tier": None if options.tier is None else str(options.tier),
        "slippage_bps": str(options.slippage_bps),
        "upnl_price": options.upnl_price,
    }


def _replay(
    options: ReplayOptions,
    account: Account,
    journal: Any,
    data: Path,
    params: dict[str, Any],
    plan: RunPlan | None,
    market: MarketData | None,
    orders: list[PlaceOrder],
) -> ReplayResult:
    amount = options.balance
    first_bar = min((c.first_ms for c in market.candles.values()), default=0) if market else 0
    start = min(first_bar, orders[0].ts_ms) if market else orders[0].ts_ms
    currencies = sorted({spec.settle for spec in account.specs.values()})
    timed: list[tuple[int, int, object]] = [
        (start, -1, Deposit(ts_ms=start, currency=c, amount=amount, reason="starting balance"))
        for c in currencies
    ]
    timed += market.funding if market else []
    timed += [(o.ts_ms, 1, o) for o in orders]
    link = None
    if journal is not None:
        journal.ensure_account(account.name, account.venue, next(iter(currencies), ""), amount)
        session_id = plan.session_id if plan is not None else None
        if session_id is None:  # a new run; a resumed one continues its session
            session_id = journal.start_session(account.name, "replay", params)
        link = JournalLink(journal, account.name, session_id)
        journal.group()  # several batches per commit (see sim/journal/group.py); close() commits
    session = Session(account, limits=options.limits, guards_key=GUARDS_KEY, journal=link)
    events: list[Event] = []
    session.subscribe(events.extend)
    try:
        with DeferredInterrupt() as interrupt:
            runner = Runner(session, interrupt=interrupt)
            stats, notes = play(
                runner, data, market, sorted(account.specs), timed, options.fast,
                options.exchange, options.progress,
            )  # fmt: skip
    except KeyboardInterrupt:
        if link is not None and link.session_id is not None:
            journal.set_session_status(link.session_id, "interrupted")
        raise ReplayInterrupted(account.now_ms, account.name) from None
    if link is not None and link.session_id is not None:
        journal.set_session_status(link.session_id, "completed")
    return _result(options, account, data, events, stats, notes)


def _result(
    options: ReplayOptions,
    account: Account,
    data: Path,
    events: Sequence[Event],
    stats: RunStats,
    notes: list[str],
) -> ReplayResult:
    return ReplayResult(
        exchange=options.exchange,
        data=str(data),
        account=account.name,
        balances=account.wallets(),
        equity={c: account.equity(c) for c in account.wallets()},
        positions=account.positions(),
        open_orders=[order_row(o) for o in account.open_orders()],
        closed_trades=sorted(
            (e for e in events if isinstance(e, TradeClosed)), key=lambda t: (t.ts_ms, t.seq)
        ),
        rejected=[
            {
                "order_id": e.order_id,  # type: ignore[attr-defined]
                "symbol": e.symbol,
                "time": ts_text(e.ts_ms),
                "reason": e.reason,  # type: ignore[attr-defined]
            }
            for e in events
            if e.kind in ("OrderRejected", "CommandRejected", "OrderDenied")
        ],
        notes=list(notes),
        stats=stats,
        journal=None if options.db is None else str(options.db),
        events=list(events),
        specs=dict(account.specs),
    )


def _fee_note(options: ReplayOptions) -> str:
    given = [
        f"{what} {fmt(rate)}"
        for what, rate in (("maker", options.maker_fee), ("taker", options.taker_fee))
        if rate is not None
    ]
    return f"fee rates given by you: {', '.join(given)} (the market's rates otherwise)"


def order_row(o: Order) -> dict[str, Any]:
    """A working order as one row of the result."""
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
