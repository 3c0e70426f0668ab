"""The desk's core without a screen: typed lines and market inputs over the session kernel.

Everything a trader does goes through :meth:`DeskSession.submit` (a typed line) or
:meth:`DeskSession.feed` (a market input). Each order is echoed (notional, margin, liquidation
price) before it is sent; then the kernel (``sim/session.py``) judges it with the guards,
applies it and commits the batch with the account snapshot before the desk logs it, so a
restart resumes exactly. The desk keeps only what a screen needs: quotes, the log, the echo.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from adapters.specs import SpecBook
from config.settings import Settings
from sim.desk.describe import describe, refused
from sim.desk.parse import (
    HELP,
    ClosePosition,
    HedgeRequest,
    Intent,
    Invalid,
    Orders,
    Pace,
    SetMode,
    Simple,
    SizeRequest,
    parse,
)
from sim.desk.preview import Echo, hedge_text, preview, size_as_echoed, size_text
from sim.engine.account import DEFAULT_LEVERAGE, Account
from sim.engine.commands import Deposit, PlaceOrder, SetLeverage
from sim.engine.events import CommandRejected, Event, OrderDenied
from sim.engine.hedge import beta_hedge
from sim.engine.market import BookDepth, BookTop, FundingRate, LastTrade, MarkPrice
from sim.engine.money import ZERO
from sim.engine.sizing import size_by_risk
from sim.errors import InputError, MicrofutError
from sim.guards import GuardLimits, Guards, GuardState
from sim.journal import Journal
from sim.journal.restore import resume_point
from sim.session import Estimate, JournalLink, NewPosition, Session

GUARDS_KEY = "desk_guards"


@dataclass(slots=True)
class Quote:
    """What the desk knows of one symbol's market."""

    last: Decimal | None = None
    mark: Decimal | None = None
    bid: Decimal | None = None
    ask: Decimal | None = None
    funding_rate: Decimal | None = None
    funding_time_ms: int | None = None


@dataclass(slots=True)
class Reply:
    """What one typed line did: echoes shown before sending, the events, and text lines."""

    echoes: list[Echo] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    proposal: Any = None
    quit: bool = False
    ok: bool = True


@dataclass(frozen=True, slots=True)
class DeskOptions:
    """Plain values the session needs from the settings (the session reads no settings)."""

    account: str
    exchange: str
    currency: str
    starting_balance: Decimal
    risk_pct: Decimal
    limits: GuardLimits
    slippage_bps: Decimal
    upnl_price: str
    mark_from_last: bool = False
    new_position: NewPosition | None = None  # a symbol's first order: config [account]

    @classmethod
    def from_settings(
        cls, settings: Settings, *, account: str | None = None, exchange: str | None = None,
        mark_from_last: bool = False,
    ) -> DeskOptions:  # fmt: skip
        """Options from the layered settings, with the command's flags on top."""
        cur = settings.account.currency
        return cls(
            account=account or settings.account.name,
            exchange=exchange or settings.exchange.default,
            currency=cur,
            starting_balance=settings.account.starting_balance,
            risk_pct=settings.risk.risk_pct,
            limits=GuardLimits.from_risk(settings.risk, cur),
            slippage_bps=settings.fills.slippage_bps,
            upnl_price=settings.fills.upnl_price,
            mark_from_last=mark_from_last,
            new_position=NewPosition(settings.account.leverage, settings.account.margin_mode),
        )


class DeskSession:
    """One trader at the desk: holds the account, the guards and the journal."""

    def __init__(
        self, options: DeskOptions, book: SpecBook, journal: Journal, account: Account,
        guards_state: GuardState | None, session_id: int, last_seq: int = 0,
    ) -> None:  # fmt: skip
        self.options = options
        self.book = book
        self.journal = journal
        self.session_id = session_id
        self.kernel = Session(
            account, limits=options.limits, guard_state=guards_state, guards_key=GUARDS_KEY,
            journal=JournalLink(journal, options.account, session_id), last_seq=last_seq,
            new_position=options.new_position,
        )  # fmt: skip
        self.quotes: dict[str, Quote] = {}
        self.log: deque[str] = deque(maxlen=500)
        self.logged = 0  # lines ever logged (the deque keeps the last 500)
        self.resumed = False
        self.clock: Any = None  # the replay's clock (pacing.ReplayClock) when replaying
        self.cmd_ms = 0  # time of the last typed command: each gets a distinct, later instant

    @classmethod
    def open(
        cls, options: DeskOptions, book: SpecBook, journal_path: Path, *, start_ms: int,
        kind: str = "trade", params: dict[str, Any] | None = None,
    ) -> DeskSession:  # fmt: skip
        """Open the journal and resume the account from it, or start it with its deposit."""
        journal = Journal.open(journal_path)
        try:
            return cls._resume(options, book, journal, start_ms, kind, params or {})
        except BaseException:
            journal.close()
            raise

    @classmethod
    def _resume(
        cls, options: DeskOptions, book: SpecBook, journal: Journal, start_ms: int, kind: str,
        params: dict[str, Any],
    ) -> DeskSession:  # fmt: skip
        specs = {s.symbol: s for s in book.specs}
        point = resume_point(journal, options.account)
        guards_state = None
        if point.snapshot is not None:
            venue = point.snapshot.get("venue")
            if venue and venue != book.exchange:
                raise InputError(
                    f"account '{options.account}' trades on {venue}, not {book.exchange}; "
                    f"pass --exchange {venue} or another --account"
                )
            account = Account.restore(point.snapshot, specs)
            if GUARDS_KEY in point.snapshot:
                guards_state = GuardState.from_dict(point.snapshot[GUARDS_KEY])
        elif point.last_seq:
            raise InputError(
                f"account '{options.account}' in {journal.path} has events but no snapshot the "
                "desk can resume from; use another --account"
            )
        else:
            account = Account(
                options.account, specs, slippage_bps=options.slippage_bps,
                upnl_price=options.upnl_price, mark_from_last=options.mark_from_last,
            )  # fmt: skip
        journal.ensure_account(
            options.account, book.exchange, options.currency, options.starting_balance
        )
        session_id = journal.start_session(options.account, kind, params)
        desk = cls(options, book, journal, account, guards_state, session_id, point.last_seq)
        if point.snapshot is not None:
            desk.kernel.recall_chosen(point.snapshot)
        desk.resumed = point.snapshot is not None
        if not desk.resumed:
            deposit = Deposit(
                ts_ms=start_ms, currency=options.currency, amount=options.starting_balance,
                reason="opening balance",
            )  # fmt: skip
            desk._log(desk.kernel.submit(deposit))
        return desk

    def close(self) -> None:
        self.journal.close()

    # ---- plumbing -------------------------------------------------------------------------
    @property
    def account(self) -> Account:
        return self.kernel.account

    @property
    def guards(self) -> Guards:
        assert self.kernel.guards is not None
        return self.kernel.guards

    @property
    def now_ms(self) -> int:
        return max(self.account.now_ms, self.cmd_ms)

    def wallet(self) -> Decimal:
        return self.account.wallets().get(self.options.currency, ZERO)

    def equity(self) -> Decimal:
        return self.account.equity(self.options.currency)

    def snapshot(self) -> dict[str, Any]:
        """The account snapshot plus the guards' memory (``Account.restore`` ignores the extra)."""
        return self.kernel.snapshot()

    def note(self, line: str) -> None:
        """Add a line to the desk log."""
        self.log.append(line)
        self.logged += 1

    def lines_since(self, count: int) -> list[str]:
        """Log lines written after the first ``count`` ever logged (for scripts and tests)."""
        new = self.logged - count
        return list(self.log)[-new:] if new > 0 else []

    def _log(self, events: Sequence[Event], what: str | None = None) -> list[Event]:
        """Log a batch the kernel has committed.

        ``what`` names the trader's request in a refusal ("margin mode change refused: ...").
        """
        for e in events:
            line = (
                refused(e, what)
                if isinstance(e, CommandRejected)
                else describe(e, self.account.specs)
            )
            if line:
                self.note(line)
        return list(events)

    # ---- market ---------------------------------------------------------------------------
    def _quote(self, inp: Any) -> None:
        symbol = getattr(inp, "symbol", "")
        if not symbol:
            return
        q = self.quotes.setdefault(symbol, Quote())
        if isinstance(inp, LastTrade):
            q.last = inp.price
        elif isinstance(inp, MarkPrice):
            q.mark = inp.price
        elif isinstance(inp, BookTop):
            q.bid, q.ask = inp.bid, inp.ask
        elif isinstance(inp, BookDepth):
            q.bid = inp.bids[0][0] if inp.bids else None
            q.ask = inp.asks[0][0] if inp.asks else None
        elif isinstance(inp, FundingRate):
            q.funding_rate, q.funding_time_ms = inp.rate, inp.funding_time_ms

    def feed(self, inp: Any) -> list[Event]:
        """Apply one market input and commit what it caused."""
        self._quote(inp)
        return self._log(self.kernel.feed(inp))

    def reference_price(self, symbol: str, side: str | None = None) -> Decimal | None:
        """Where a market order would start: the touch, else last, else mark."""
        book = self.account.books.get(symbol)
        if book is not None:
            touch = book.touch(side) if side else None
            if touch or book.last:
                return touch or book.last
        return self.account.marks.get(symbol)

    def leverage_of(self, symbol: str) -> tuple[Decimal, str]:
        """The symbol's leverage and margin mode (the desk's new-position defaults until set)."""
        new = self.kernel.new_position_for(symbol)
        if new is not None:
            return new
        pos = self.account.positions_by_symbol.get(symbol)
        if pos is not None:
            return pos.leverage, pos.margin_mode
        spec = self.account.specs[symbol]
        cap = spec.max_leverage_for(ZERO) if (spec.tiers or spec.max_leverage) else None
        return (min(DEFAULT_LEVERAGE, cap) if cap else DEFAULT_LEVERAGE), "cross"

    def position_contracts(self, symbol: str) -> Decimal:
        pos = self.account.positions_by_symbol.get(symbol)
        return pos.contracts if pos is not None else ZERO

    # ---- commands -------------------------------------------------------------------------
    def submit(self, line: str) -> Reply:
        """Parse and execute one typed line; bad input is a one-line reply, never an exception."""
        self.note(f"> {line.strip()}")
        # a paused replay's clock stands still: commands get its time + 1 ms each, so two
        # trades typed at one bar still happen in order, at distinct instants
        self.cmd_ms = max(self.account.now_ms, self.cmd_ms + 1) if self.cmd_ms else self.now_ms
        intent = parse(line, self.book.get, self.now_ms)
        try:
            reply = self.execute(intent)
        except MicrofutError as e:
            if not isinstance(e, InputError):
                raise
            reply = Reply(lines=[f"error: {e}"], ok=False)
        for text in reply.lines:
            self.note(text)
        return reply

    def execute(self, intent: Intent) -> Reply:
        """Carry out a parsed intent."""
        if isinstance(intent, Invalid):
            return Reply(lines=[f"error: {intent.message}"], ok=False)
        if isinstance(intent, Simple):
            return Reply(quit=True) if intent.word == "quit" else Reply(lines=[HELP])
        if isinstance(intent, Orders):
            return self.place(intent.orders)
        if isinstance(intent, ClosePosition):
            return self._close(intent.symbol)
        if isinstance(intent, SetMode):
            lev, _ = self.leverage_of(intent.symbol)
            return self._command(SetLeverage(ts_ms=self.now_ms, venue=self.book.exchange,
                                             symbol=intent.symbol, leverage=lev,
                                             margin_mode=intent.margin_mode),
                                 "margin mode change")  # fmt: skip
        if isinstance(intent, SetLeverage):
            _, mode = self.leverage_of(intent.symbol)
            return self._command(replace(intent, margin_mode=mode))
        if isinstance(intent, SizeRequest):
            return self._size(intent)
        if isinstance(intent, HedgeRequest):
            return self._hedge(intent)
        if isinstance(intent, Pace):
            return self._pace(intent)
        return self._command(intent)

    def _pace(self, intent: Pace) -> Reply:
        if self.clock is None:
            return Reply(lines=[f"error: {intent.word} drives a replay; this desk is on live "
                                "prices (start it with --replay DATA)"], ok=False)  # fmt: skip
        return Reply(lines=[self.clock.command(intent.word, intent.value)])

    def _command(self, cmd: Any, what: str | None = None) -> Reply:
        events = self._log(self.kernel.submit(cmd), what)
        return Reply(events=events, ok=not any(isinstance(e, OrderDenied) for e in events))

    def place(self, orders: Sequence[PlaceOrder]) -> Reply:
        """Echo, guard and send each order (a scale ladder sends several)."""
        reply = Reply()
        for raw in orders:
            order = replace(raw, ts_ms=self.now_ms)
            echo = preview(self, order)
            reply.echoes.append(echo)
            self.note(echo.line())
            liq = echo.shown(echo.liquidation_price)  # warnings name it on the display step
            events = self.kernel.submit(order, Estimate(echo.leverage, liq))
            reply.events += self._log(events)
            if any(isinstance(e, OrderDenied) for e in events):
                reply.ok = False
        return reply

    def _close(self, symbol: str) -> Reply:
        contracts = self.position_contracts(symbol)
        if contracts == 0:
            return Reply(lines=[f"error: no open position in {symbol} to close"], ok=False)
        order = PlaceOrder(
            ts_ms=self.now_ms, venue=self.book.exchange, symbol=symbol,
            side="sell" if contracts > 0 else "buy", contracts=abs(contracts), reduce_only=True,
            tag="close",
        )  # fmt: skip
        return self.place([order])

    def _size(self, req: SizeRequest) -> Reply:
        spec = self.account.specs[req.symbol]
        entry = req.entry or self.reference_price(req.symbol)
        if entry is None:
            return Reply(lines=[f"error: no price yet for {req.symbol}; pass entry P"], ok=False)
        lev = req.leverage or self.leverage_of(req.symbol)[0]
        result = size_by_risk(
            spec, equity=self.account.equity(spec.settle), risk_pct=req.risk_pct or
            self.options.risk_pct, entry=entry, stop=req.stop, leverage=lev, include_fees=True,
            leverage_warning=self.options.limits.leverage_warning,
        )  # fmt: skip
        result, mode = size_as_echoed(self, result, req.entry)
        return Reply(lines=size_text(result, mode), proposal=result)

    def _hedge(self, req: HedgeRequest) -> Reply:
        symbol = req.symbol or self.book.get("BTC").symbol
        spec = self.account.specs[symbol]
        price = self.reference_price(symbol)
        if price is None:
            return Reply(lines=[f"error: no price yet for {symbol} to size a hedge"], ok=False)
        result = beta_hedge(
            spec, portfolio=abs(req.notional), price=price, beta=req.beta,
            leverage=self.leverage_of(symbol)[0],
        )  # fmt: skip
        side = "sell" if req.notional > 0 else "buy"
        return Reply(lines=hedge_text(result, side, self.position_contracts(symbol)),
                     proposal=result)  # fmt: skip
