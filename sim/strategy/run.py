"""Run one strategy over recorded candles (replay) or a live paper feed, into the journal.

Replay plays every bar of every symbol in (time, symbol) order as four last-price points along
the path that never flatters the trader (``adapters/pricepath.py``: open, the extreme against
the position, the other extreme, close); funding marks and rates come in at their instants.
When a bar closes, ``on_bar`` runs and its orders are sent at the bar's last millisecond, so a
market order fills at the close moved by the slippage. The mark price follows the last price
between the recorded 8 h marks, as in ``microfut replay``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from adapters.pricepath import CandleSeries, bar_path, discover, point_times, price
from adapters.specs import SpecBook
from config.settings import Settings
from sim.engine.account import Account
from sim.engine.commands import Deposit
from sim.engine.events import Event
from sim.engine.market import LastTrade
from sim.engine.money import ZERO
from sim.engine.spec import with_fees
from sim.engine.triggers import bar_ranges
from sim.errors import InputError
from sim.guards import GuardLimits, Guards
from sim.journal import Journal
from sim.session import JournalLink, Session
from sim.strategy import params as P
from sim.strategy.api import Bar
from sim.strategy.context import Limits
from sim.strategy.loader import LoadedStrategy, StrategyError
from sim.strategy.session import Driver
from sim.strategy.summary import Collector, RunSummary

Progress = Callable[[int, int], None]
GUARDS_KEY = "strategy_guards"  # where the guards' memory sits in the journal's snapshot
MARK_NOTE = (
    "mark price = the candle path's last price between the recorded 8 h marks (used at funding "
    "instants); intra-bar path: open, the extreme against the position, the other, close"
)


@dataclass(frozen=True, slots=True)
class RunOptions:
    """Plain values a run needs (read from the settings by the CLI, or given by a test)."""

    exchange: str
    balance: Decimal
    slippage_bps: Decimal
    upnl_price: str
    risk_pct: Decimal
    guards: GuardLimits
    db: Path | None
    maker_fee: Decimal | None = None  # --maker-fee / --taker-fee: None keeps the market's rate
    taker_fee: Decimal | None = None
    every_bar: bool = False  # --every-bar: play every bar's path (no skipping; for checks)
    resume: bool = False  # --resume: continuing an interrupted replay run is required

    @classmethod
    def from_settings(
        cls, settings: Settings, exchange: str, balance: Decimal | None, db: Path | None
    ) -> RunOptions:
        """Options from the layered settings; ``balance`` and ``db`` from flags when given."""
        return cls(
            exchange=exchange,
            balance=balance if balance is not None else settings.account.starting_balance,
            slippage_bps=settings.fills.slippage_bps,
            upnl_price=settings.fills.upnl_price,
            risk_pct=settings.risk.risk_pct,
            guards=GuardLimits.from_risk(settings.risk, settings.account.currency),
            db=db,
        )


@dataclass
class RunResult:
    """What a run did, ready to print, dump as JSON or rank in a sweep."""

    strategy: str
    params: dict[str, str]
    exchange: str
    source: str
    account: str
    journal: str | None
    summary: RunSummary
    bars: int
    messages: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    events: list[Event] = field(default_factory=list, repr=False)
    session_id: int | None = None  # the journal session of the run (None without a journal)
    paths_skipped: int = 0  # replay: quiet bars whose intra-bar path was not played


class StrategyRun:
    """The pieces of one run wired together (account, guards, bus, journal, driver)."""

    def __init__(
        self,
        loaded: LoadedStrategy,
        overrides: dict[str, Any],
        options: RunOptions,
        book: SpecBook,
        source: dict[str, Any],
    ) -> None:
        self.strategy = loaded.cls(**overrides)
        self.name = self.strategy.strategy_name()
        symbols = [book.get(s).symbol for s in self.strategy.markets()]
        fees = (options.maker_fee, options.taker_fee)
        self.specs = {s: with_fees(book.get(s), *fees) for s in symbols}
        self.primary = symbols[0]
        self.currency = self.specs[self.primary].settle
        self.options = options
        self.timeframe = str(source.get("timeframe") or "")  # the one used ("" = finest)
        self.journal = Journal.open(options.db) if options.db is not None else None
        self.session_id: int | None = None
        self.stats_quiet = 0  # bars whose path was skipped (replay_bars)
        self.resume_message = ""  # one line when this run continues an interrupted one
        try:
            self._wire(loaded, options, source)
        except BaseException:
            self.close()
            raise

    def _free_name(self) -> str:
        """The strategy's name, numbered past accounts that already hold events in the journal."""
        if self.journal is None:
            return self.name
        return self.journal.free_account_name(self.name, empty_is_free=True)

    def _plan(self, params: dict[str, Any]) -> str:
        """The account to write: a replay rerun continues its interrupted run
        (``sim.journal.resume``); otherwise the strategy's free name."""
        if self.journal is None or params.get("source") != "replay":
            if self.options.resume:
                raise InputError("--resume continues a replay run written to a journal (--db)")
            return self._free_name()
        from sim.journal.resume import plan_run

        plan = plan_run(
            self.journal, "strategy", self.name, params, resume=self.options.resume,
            empty_is_free=True,
        )  # fmt: skip
        self.session_id = plan.session_id
        self.resume_message = plan.message if plan.resumed is not None else ""
        return plan.account

    def _wire(self, loaded: LoadedStrategy, options: RunOptions, source: dict[str, Any]) -> None:
        self.params_text = P.as_text(self.strategy.params)
        digest = hashlib.sha256(loaded.path.read_bytes()).hexdigest() if loaded.path else ""
        params = {
            "strategy": self.name, "file": loaded.ref, "file_sha256": digest,
            "params": self.params_text, **source,
        }  # fmt: skip
        self.account = Account(
            self._plan(params),
            self.specs,
            slippage_bps=options.slippage_bps,
            upnl_price=options.upnl_price,
            mark_from_last=True,
        )
        limits = replace(options.guards, currency=self.currency)
        link = None
        if self.journal is not None:
            link = self._attach_journal(params)
        self.kernel = Session(self.account, limits=limits, guards_key=GUARDS_KEY, journal=link)
        self.collector = Collector(self.currency, options.balance)
        self.kernel.subscribe(self.collector)
        ctx_limits = Limits(options.risk_pct, options.guards.leverage_warning)
        self.driver = Driver(self.strategy, loaded.path, self.kernel, ctx_limits, self.primary)

    @property
    def guards(self) -> Guards | None:
        return self.kernel.guards

    def _attach_journal(self, params: dict[str, Any]) -> JournalLink:
        journal = self.journal
        assert journal is not None
        name = self.account.name
        journal.ensure_account(name, self.account.venue, self.currency, self.options.balance)
        if self.session_id is None:  # a resumed run continues its session
            self.session_id = journal.start_session(name, "strategy", params)
        if params.get("source") != "live":  # recorded data: several batches per commit
            journal.group()
        return JournalLink(journal, name, self.session_id)

    def start(self, ts_ms: int) -> None:
        for cur in sorted({s.settle for s in self.specs.values()}):
            self.driver.feed(
                Deposit(
                    ts_ms=ts_ms,
                    venue=self.account.venue,
                    currency=cur,
                    amount=self.options.balance,
                    reason="opening balance",
                )
            )
        self.driver.call("on_start")
        self.driver.drain()

    def stop(self) -> None:
        self.driver.call("on_stop")
        self.driver.drain()

    def result(self, source: str, bars: int, notes: list[str]) -> RunResult:
        params = dict(self.params_text)
        if not params.get("timeframe") and self.timeframe:
            params["timeframe"] = self.timeframe  # show the timeframe used, not the "" default
        return RunResult(
            strategy=self.name,
            params=params,
            exchange=self.options.exchange,
            source=source,
            account=self.account.name,
            journal=str(self.journal.path) if self.journal is not None else None,
            summary=self.collector.summary(self.account),
            bars=bars,
            messages=list(self.driver.ctx.messages),
            notes=notes,
            events=self.collector.events,
            session_id=self.session_id,
            paths_skipped=self.stats_quiet,
        )

    def finish(self, status: str, error: str = "") -> None:
        """Mark the journal session "completed", "interrupted" (Ctrl-C) or "failed" (the
        strategy raised: ``error``)."""
        if self.journal is not None and self.session_id is not None:
            self.journal.set_session_status(self.session_id, status, error)

    def failed(self, e: StrategyError) -> None:
        """The strategy raised: its run is over (not to be continued as an interrupted one)."""
        self.finish("failed", e.headline)

    def close(self) -> None:
        if self.journal is not None:
            self.journal.close()


def _bar_order(series: list[CandleSeries]) -> tuple[np.ndarray, np.ndarray]:
    sym = np.concatenate([np.full(len(c.ts), i) for i, c in enumerate(series)])
    row = np.concatenate([np.arange(len(c.ts)) for c in series])
    t0 = np.concatenate([c.ts for c in series])
    order = np.lexsort((sym, t0))
    return sym[order], row[order]


def replay_bars(
    run: StrategyRun,
    series: list[CandleSeries],
    timed: list[tuple[int, int, object]],
    progress: Progress | None,
) -> int:
    """Play every bar through the driver; returns the number of bars played.

    ``on_bar`` sees every bar. Its four-point path is played in Decimal only when the bar's
    range (from the previous close) can touch one of the account's quiet levels (working
    order, trailing extreme, liquidation price or cross band: ``Account.quiet_levels``), or a
    timed input, funding, expiry or guard instant falls inside it; a quiet bar's close is only
    recorded (``Session.observe_quiet``), which leaves the account exactly as the path would
    (``every_bar`` plays all).
    """
    sym, row = _bar_order(series)
    driver, acct, kernel = run.driver, run.account, run.kernel
    fast = not run.options.every_bar and not driver.wants_price  # on_price sees every point
    quiet = _Quiet(acct, kernel, series, timed)
    venue, bar_closed = acct.venue, driver.bar_closed
    starts = [c.ts.tolist() for c in series]
    ohlc = [(c.open.tolist(), c.high.tolist(), c.low.tolist(), c.close.tolist()) for c in series]
    dec = _Decimals()
    for c in series:  # the closed bars a strategy reads are the recorded arrays themselves
        driver.history[c.symbol].preload((c.ts, c.open, c.high, c.low, c.close))
    k, total = 0, len(sym)
    for n, (i, r) in enumerate(zip(sym.tolist(), row.tolist(), strict=True)):
        c = series[i]
        opens, highs, lows, closes = ohlc[i]
        o, h, low, close = dec[opens[r]], dec[highs[r]], dec[lows[r]], dec[closes[r]]
        t0 = starts[i][r]
        close_ms = t0 + c.period_ms - 1
        if fast and quiet.holds(i, r, close_ms, k):
            run.stats_quiet += 1
            kernel.observe_quiet(LastTrade(venue, c.symbol, close_ms, close, ZERO))
            quiet.stamp += 1  # a quiet close changes no level: the cached ones still hold
        else:
            path: tuple[Decimal, ...] = (o,)
            for j, ts in enumerate(point_times(t0, c.period_ms)):
                while k < len(timed) and timed[k][0] <= ts:
                    driver.feed(timed[k][2])
                    k += 1
                if j == 1:  # the path is chosen after the open: a fill at the open sets the bias
                    path = bar_path(o, h, low, close, acct.path_bias(c.symbol))
                driver.feed(LastTrade(venue, c.symbol, ts, path[j], ZERO))
        bar_closed(Bar(c.symbol, c.timeframe, t0, close_ms, o, h, low, close))
        if progress is not None and (n % 500 == 0 or n == total - 1):
            progress(n + 1, total)
    return total


def _ranges(c: CandleSeries) -> tuple[list[float], list[float]]:
    """Each bar's widened [lo, hi] from the previous close (the first bar: its open)."""
    lo, hi = bar_ranges(np.zeros(len(c.ts), dtype="int64"), c.open, c.high, c.low, c.close)
    return lo.tolist(), hi.tolist()


class _Decimals(dict[float, Decimal]):
    """Recorded float prices as Decimals (``pricepath.price``), each made once: bars repeat
    their neighbours' prices, so most are a dictionary hit."""

    def __missing__(self, x: float) -> Decimal:
        d = self[x] = price(x)
        return d


_UNKNOWN: Any = object()


class _Quiet:
    """Says whether a bar's path can be skipped; the account's levels (as floats) and its next
    due instant are read once and kept while no input but quiet closes reached the kernel
    (``Session.stats.inputs`` unchanged): orders, fills, funding and played paths all go
    through it, a quiet close moves no level (the range of a bar that moves a trailing extreme
    holds that extreme; a cross band stays sound while every mark stays inside it)."""

    def __init__(
        self,
        acct: Account,
        kernel: Session,
        series: list[CandleSeries],
        timed: list[tuple[int, int, object]],
    ) -> None:
        self.acct, self.kernel, self.timed = acct, kernel, timed
        self.symbols = [c.symbol for c in series]
        self.ranges = [_ranges(c) for c in series]
        self.stamp = -1  # kernel.stats.inputs when the cache was filled
        self.due: int | None = None
        self.levels: list[Any] = []

    def _refresh(self) -> None:
        kernel = self.kernel
        self.stamp = kernel.stats.inputs
        self.due = kernel.next_due_ms()
        guards = kernel.guards
        if guards is not None and guards.state.day < 0:
            self.due = -1  # the guards' first tick opens their day: play it
        self.levels = [_UNKNOWN] * len(self.symbols)

    def holds(self, i: int, r: int, close_ms: int, k: int) -> bool:
        """True when nothing can happen inside bar ``r`` of series ``i`` (skip its path)."""
        timed = self.timed
        if k < len(timed) and timed[k][0] <= close_ms:
            return False
        if self.stamp != self.kernel.stats.inputs:
            self._refresh()
        if self.due is not None and self.due <= close_ms:
            return False
        levels = self.levels[i]
        if levels is _UNKNOWN:
            found = self.acct.quiet_levels(self.symbols[i])
            levels = self.levels[i] = None if found is None else [float(x) for x in found]
        if levels is None:
            return False
        if levels:
            lo, hi = self.ranges[i][0][r], self.ranges[i][1][r]
            for x in levels:
                if lo <= x <= hi:
                    return False
        return True


def run_replay(
    loaded: LoadedStrategy,
    overrides: dict[str, Any],
    options: RunOptions,
    book: SpecBook,
    data: Path,
    *,
    since_ms: int | None = None,
    until_ms: int | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Run the strategy over the recorded candles under ``data`` (a file or a folder).

    ``since_ms``/``until_ms`` cut the bars to [since, until) (tests use short slices).
    """
    probe = loaded.cls(**overrides)
    symbols = [book.get(s).symbol for s in probe.markets()]
    market = discover(data, options.exchange, symbols, probe.timeframe or None)
    missing = [s for s in symbols if s not in market.candles]
    if missing:
        raise InputError(f"no recorded candles for {', '.join(missing)} under {data}")
    series = [_cut(market.candles[s], since_ms, until_ms) for s in sorted(symbols)]
    series = [c for c in series if len(c.ts)]
    if not series:
        raise InputError(f"no recorded bars of {', '.join(symbols)} in the chosen time range")
    start = int(min(c.ts[0] for c in series))
    end = int(max(c.ts[-1] + c.period_ms for c in series))
    timed = [x for x in market.funding if start <= x[0] < end]
    source = {
        "source": "replay",
        "data": str(data),
        "timeframe": series[0].timeframe,
        "from_ms": start,
        "until_ms": end,
        "balance": str(options.balance),
    }
    run = StrategyRun(loaded, overrides, options, book, source)
    try:
        run.start(start)
        bars = replay_bars(run, series, timed, progress)
        run.stop()
        run.finish("completed")
        notes = [*market.notes, MARK_NOTE]
        if run.resume_message:
            notes.insert(0, run.resume_message)
        return run.result("replay", bars, notes)
    except StrategyError as e:
        run.failed(e)
        raise
    except KeyboardInterrupt:
        run.finish("interrupted")
        raise
    finally:
        run.close()


def _cut(c: CandleSeries, since_ms: int | None, until_ms: int | None) -> CandleSeries:
    if since_ms is None and until_ms is None:
        return c
    lo = 0 if since_ms is None else int(np.searchsorted(c.ts, since_ms, side="left"))
    hi = len(c.ts) if until_ms is None else int(np.searchsorted(c.ts, until_ms, side="left"))
    return CandleSeries(
        c.symbol,
        c.timeframe,
        c.period_ms,
        c.ts[lo:hi],
        c.open[lo:hi],
        c.high[lo:hi],
        c.low[lo:hi],
        c.close[lo:hi],
        c.path,
    )
