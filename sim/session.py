"""THE kernel: command -> guards -> account -> events -> journal -> subscribers.

Every screen and driver (the desk, the demo, strategies, ``replay``, a web desk) reaches the
account only through one :class:`Session`:

* :meth:`Session.submit` takes a trader's command. The discipline guards judge every command
  that can add exposure (a new order of any kind: market, limit, scale rung, bracketed entry,
  stop entry; and an amend of a working entry) before the account sees it; a denial is an
  ``OrderDenied`` event and the account is untouched.
* :meth:`Session.feed` takes a market input (or a command that needs no judging).
* Each input's events form one batch: the guards' clock tick, the account's events, the guards'
  verdict on them (a lock), and, while a lock holds, the cancellation of every working entry
  order (**locked entries are cancelled, not held**: an order that would add exposure cannot fill
  during a cooling-off period, and after it the trader places it again on purpose). The batch is
  committed to the journal with the account snapshot *before* any subscriber sees it.
* The kernel numbers events: the account numbers its own, and the guards take the next number
  from :meth:`Session.next_seq`; nothing else writes ``account.seq``.

Subscribers never call back into the session during a dispatch (the strategy driver queues its
orders and sends them after the batch).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sim.bus import Bus, Subscriber
from sim.engine.account import DEFAULT_LEVERAGE, Account
from sim.engine.commands import AmendOrder, CancelOrder, PlaceOrder, SetLeverage
from sim.engine.events import Event
from sim.engine.market import LastTrade
from sim.engine.money import ZERO
from sim.engine.sizing import quote_liquidation
from sim.engine.triggers import next_due_ms
from sim.errors import InputError
from sim.guards import DAY_MS, GuardLimits, Guards, GuardState, is_exit

if TYPE_CHECKING:
    from sim.engine.orders import Order
    from sim.engine.positions import PositionView
    from sim.journal import Journal

REFUSALS = frozenset({"OrderDenied", "OrderRejected", "CommandRejected"})
CHOSEN_KEY = "new_position_set"  # snapshot: symbols whose mode/leverage the trader set


@dataclass
class RunStats:
    """What a run did: bars/ticks played and skipped, inputs applied, events."""

    bars_played: int = 0
    bars_skipped: int = 0
    ticks_played: int = 0
    ticks_skipped: int = 0
    inputs: int = 0
    events: int = 0
    event_counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Estimate:
    """What a screen already showed for an order (its echo): used for the guards' warnings."""

    leverage: Decimal | None
    liquidation: Decimal | None


@dataclass(frozen=True, slots=True)
class NewPosition:
    """Leverage and margin mode a symbol's first order gets when it names none (config
    ``[account]``; the desk and the web desk): the engine's own default stays 20x cross."""

    leverage: Decimal
    margin_mode: str


@dataclass(frozen=True, slots=True)
class JournalLink:
    """Where the kernel commits: the journal, the account's name there and the session row."""

    journal: Journal
    account: str
    session_id: int | None = None


def refusal(events: Sequence[Event]) -> Event | None:
    """The denial or rejection in an answer to a command, if it was refused."""
    return next((e for e in events if e.kind in REFUSALS), None)


class Session:
    """One account with its guards, journal and subscribers; the only way in and out."""

    def __init__(
        self,
        account: Account,
        *,
        bus: Bus | None = None,
        limits: GuardLimits | None = None,
        guard_state: GuardState | None = None,
        guards_key: str = "guards",
        journal: JournalLink | None = None,
        last_seq: int = 0,
        new_position: NewPosition | None = None,
    ) -> None:
        self.account = account
        self.new_position = new_position
        self._chosen: set[str] = set()  # symbols whose mode/leverage the trader set
        self.bus = bus or Bus()
        self.stats = RunStats()
        self.journal = journal
        self.guards_key = guards_key
        account.seq = max(account.seq, last_seq)  # resume numbering after the journal's last
        self.guards = (
            Guards(account.name, limits, self.next_seq, guard_state) if limits is not None else None
        )
        self.currency = limits.currency if limits is not None else ""

    # ---- numbering and views ------------------------------------------------------------
    def next_seq(self) -> int:
        """The account's next event number (for events the kernel itself makes)."""
        self.account.seq += 1
        return self.account.seq

    @property
    def seq(self) -> int:
        return self.account.seq

    @property
    def now_ms(self) -> int:
        return self.account.now_ms

    def next_due_ms(self) -> int | None:
        """The next time something happens without a price: funding, an expiry, or the guards'
        clock (a lock ending, a new UTC day); a replay never skips prices past it."""
        times = [t for t in (next_due_ms(self.account), self._guards_due()) if t is not None]
        return min(times) if times else None

    def _guards_due(self) -> int | None:
        if self.guards is None or self.guards.state.day < 0:
            return None
        state = self.guards.state
        day_end = (state.day + 1) * DAY_MS
        return day_end if state.locked_until_ms is None else min(day_end, state.locked_until_ms)

    def new_position_for(self, symbol: str) -> tuple[Decimal, str] | None:
        """(leverage, mode) a new position in ``symbol`` opens with, or None when the account's
        own setting applies: a position or working order, a leverage/mode other than the
        engine's initial 20x cross (the engine keeps a flat entry per symbol it has priced), or
        a mode/leverage the trader set (``mode``/``lev``, an order naming it; in the snapshot)."""
        new, acct = self.new_position, self.account
        if new is None or symbol in self._chosen or symbol not in acct.specs:
            return None
        spec = acct.specs[symbol]
        cap = spec.max_leverage_for(ZERO) if (spec.tiers or spec.max_leverage) else None
        pos = acct.positions_by_symbol.get(symbol)
        if pos is not None:
            initial = (min(DEFAULT_LEVERAGE, cap) if cap else DEFAULT_LEVERAGE, "cross")
            busy = pos.contracts != 0 or bool(acct.working_orders(symbol))
            if busy or (pos.leverage, pos.margin_mode) != initial:
                return None
        return (min(new.leverage, cap) if cap else new.leverage), new.margin_mode

    def recall_chosen(self, snapshot: dict[str, Any]) -> None:
        """After a restart: the symbols whose mode/leverage the trader had set keep them."""
        self._chosen.update(snapshot.get(CHOSEN_KEY) or ())

    def _with_new_position(self, cmd: object) -> object:
        """A first order that names no leverage/mode gets the configured ones (see above)."""
        if self.new_position is None:  # strategy runs and replays: the engine's defaults
            return cmd
        if isinstance(cmd, SetLeverage) or (isinstance(cmd, PlaceOrder) and cmd.margin_mode):
            self._chosen.add(cmd.symbol)
        if not isinstance(cmd, PlaceOrder) or (cmd.leverage and cmd.margin_mode):
            return cmd
        found = self.new_position_for(cmd.symbol)
        if found is None:
            return cmd
        lev, mode = found
        return replace(cmd, leverage=cmd.leverage or lev, margin_mode=cmd.margin_mode or mode)

    def subscribe(self, subscriber: Subscriber) -> None:
        """Receive every batch after it is committed (registration order)."""
        self.bus.subscribe(subscriber)

    def wallet(self, currency: str | None = None) -> Decimal:
        return self.account.wallets().get(currency or self.currency, ZERO)

    def equity(self, currency: str | None = None) -> Decimal:
        return self.account.equity(currency or self.currency)

    def position_contracts(self, symbol: str) -> Decimal:
        pos = self.account.positions_by_symbol.get(symbol)
        return pos.contracts if pos is not None else ZERO

    def positions(self) -> list[PositionView]:
        return self.account.positions()

    def open_orders(self) -> list[Order]:
        return self.account.open_orders()

    def snapshot(self) -> dict[str, Any]:
        """The account snapshot plus the guards' memory (``Account.restore`` ignores the extra)."""
        snap = self.account.snapshot()
        if self.guards is not None:
            snap[self.guards_key] = self.guards.state.to_dict()
        if self._chosen:
            snap[CHOSEN_KEY] = sorted(self._chosen)
        return snap

    # ---- the two ways in ----------------------------------------------------------------
    def feed(self, inp: object) -> list[Event]:
        """Apply one input (market data or command) and dispatch what it caused."""
        if self.guards is None:
            self.stats.inputs += 1
            return self._dispatch(self.account.apply(self._with_new_position(inp)))
        return self.submit(inp)

    def submit(self, cmd: object, estimate: Estimate | None = None) -> list[Event]:
        """Judge a command (exposure-adding ones may be denied), apply it, dispatch the batch.

        ``estimate`` is what the screen echoed for a new order (leverage, liquidation price);
        without one the kernel computes it for the guards' warnings.
        """
        self.stats.inputs += 1
        cmd = self._with_new_position(cmd)
        guards = self.guards
        if guards is None:
            return self._dispatch(self.account.apply(cmd))
        ts_ms = int(cmd.ts_ms)  # type: ignore[attr-defined]
        if ts_ms // DAY_MS != guards.state.day:
            wallet, equity = self.wallet(), self.equity()
        else:  # the guards read wallet and equity only when a new UTC day starts
            wallet = equity = ZERO
        batch: list[Event] = guards.tick(ts_ms, wallet, equity)
        denied = self._judge(cmd)
        if denied is not None:
            return self._dispatch([*batch, denied])
        if isinstance(cmd, PlaceOrder):
            est = estimate or self._estimate(cmd)
            batch += guards.warnings(cmd, est.leverage, est.liquidation, cmd.stop_loss)
        events = self.account.apply(cmd)
        batch += events
        batch += guards.observe(events, self.wallet())
        if guards.locked:
            batch += self._cancel_entries(ts_ms)
        return self._dispatch(batch)

    def observe_quiet(self, trade: LastTrade) -> None:
        """Record a last price that the caller proved changes nothing else (a replay's quiet bar
        close: no working level, trailing extreme, liquidation price or band inside the bar's
        range, and no funding, expiry or guards instant up to it, ``next_due_ms``).

        Leaves the account exactly as :meth:`feed` would (last and stand-in mark prices, the
        clock), without the matching pass that could only find nothing: no events, no batch.
        A symbol's first price takes the full path, which also makes its flat position entry.
        """
        if trade.symbol not in self.account.positions_by_symbol:
            self.feed(trade)
            return
        self.stats.inputs += 1
        st = self.account.state
        st.input_ts = trade.ts_ms
        self.account.ledger.observe_last(trade.symbol, trade.price)
        self.observe_clock(trade.ts_ms)

    def observe_clock(self, ts_ms: int) -> None:
        """Move the clock to ``ts_ms`` if later: the newest time among inputs a replay proved
        quiet and skipped (recorded times can step back, so the last skipped row it plays
        need not be the newest; the row-by-row run's clock saw them all)."""
        st = self.account.state
        if ts_ms > st.now_ms:
            st.now_ms = ts_ms

    # ---- guards -------------------------------------------------------------------------
    def _judge(self, cmd: object) -> Event | None:
        """An ``OrderDenied`` for a command that would add exposure while entries are locked."""
        assert self.guards is not None
        if not self.guards.locked:
            return None
        if isinstance(cmd, PlaceOrder):
            return self.guards.check(cmd, self.position_contracts(cmd.symbol))
        if isinstance(cmd, AmendOrder):
            order = self.account.orders.get(cmd.order_id)
            if order is None or not order.is_working:
                return None  # the engine rejects it with its own reason
            contracts = cmd.contracts if cmd.contracts is not None else order.contracts
            probe = _as_place(order, cmd.ts_ms, contracts - order.filled, self.account.venue)
            return self.guards.check(probe, self.position_contracts(order.symbol), cmd.order_id)
        return None

    def _cancel_entries(self, ts_ms: int) -> list[Event]:
        """While locked, cancel every working order whose fill would add exposure."""
        assert self.guards is not None
        why = "daily loss limit" if self.guards.state.lock_guard == "daily_loss" else "trade limit"
        reason = f"entries locked by the {why}"
        out: list[Event] = []
        for order in self.account.working_orders():
            probe = _as_place(order, ts_ms, order.contracts - order.filled, self.account.venue)
            if is_exit(probe, self.position_contracts(order.symbol)):
                continue
            cancel = CancelOrder(
                ts_ms=ts_ms, order_id=order.order_id, venue=self.account.venue,
                symbol=order.symbol, reason=reason,
            )  # fmt: skip
            out += self.account.apply(cancel)
        return out

    def _estimate(self, order: PlaceOrder) -> Estimate:
        """Leverage and liquidation price of an entry with a stop (for the warnings), if known."""
        acct = self.account
        pos = acct.positions_by_symbol.get(order.symbol)
        lev = order.leverage or (pos.leverage if pos is not None else None)
        mode = pos.margin_mode if pos is not None else "cross"
        ref = acct.taker_base(order.symbol, order.side) if order.price is None else order.price
        if order.stop_loss is None or (pos is not None and pos.contracts != 0) or not ref:
            return Estimate(lev, None)
        isolated = (order.margin_mode or mode) == "isolated"
        try:
            quote = quote_liquidation(
                acct.specs[order.symbol],
                side="long" if order.side == "buy" else "short",
                entry=ref,
                contracts=order.contracts,
                leverage=order.leverage or lev or DEFAULT_LEVERAGE,
                margin_mode="isolated" if isolated else "cross",
                wallet=None if isolated else self.wallet(),
            )
        except InputError:
            return Estimate(lev, None)  # the engine will reject the order with its own reason
        return Estimate(lev, quote.liquidation_price)

    # ---- out ----------------------------------------------------------------------------
    def _dispatch(self, batch: list[Event]) -> list[Event]:
        """Count, commit to the journal (with the snapshot), then publish to subscribers."""
        if not batch:
            return batch
        stats = self.stats
        stats.events += len(batch)
        counts = stats.event_counts
        for e in batch:
            counts[e.kind] = counts.get(e.kind, 0) + 1
        link = self.journal
        if link is not None:
            link.journal.append(link.account, batch, self.snapshot(), session_id=link.session_id)
        self.bus.publish(batch)
        return batch


def _as_place(order: Order, ts_ms: int, contracts: Decimal, venue: str) -> PlaceOrder:
    """A working order's remaining size as a new order, for the guards' exit test."""
    return PlaceOrder(
        ts_ms=ts_ms,
        symbol=order.symbol,
        side=order.side,  # type: ignore[arg-type]
        order_type=order.order_type,
        contracts=contracts,
        reduce_only=order.reduce_only,
        close_position=order.close_position,
        venue=venue,
    )
