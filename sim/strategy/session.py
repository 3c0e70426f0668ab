"""One strategy attached to one account: guards on every input, hooks on every event, a journal.

Every input (price, funding, the strategy's own commands) goes through
:meth:`GuardedRunner.feed`: the guards tick first, an order may be denied, the account applies it,
the guards look at the result, and the whole batch is published. Subscribers, in order: the
journal (commits the batch with the account snapshot), the run's collector, the strategy. Orders
placed by a hook are queued and sent once the batch is delivered (subscribers never call back
into the account), so the journal is consistent after every batch, even if a hook then raises.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sim.bus import Bus
from sim.engine.account import DEFAULT_LEVERAGE, Account
from sim.engine.commands import Command, PlaceOrder
from sim.engine.events import Event
from sim.engine.market import LastTrade
from sim.engine.money import ZERO
from sim.engine.sizing import quote_liquidation
from sim.errors import InputError, InvariantError, JournalError
from sim.guards import Guards
from sim.runner import Runner
from sim.strategy.api import HOOKS, Bar, Strategy, Ticket, overrides
from sim.strategy.context import Context, History, Limits
from sim.strategy.loader import StrategyError, user_traceback

MAX_ORDERS_PER_INPUT = 1000
ANSWERS = {
    "OrderAccepted": "accepted",
    "OrderRejected": "rejected",
    "OrderDenied": "denied",
    "CommandRejected": "rejected",
}


class GuardedRunner(Runner):
    """A runner whose every input passes the discipline guards, as the desk's orders do."""

    def __init__(self, account: Account, bus: Bus, guards: Guards, currency: str) -> None:
        super().__init__(account, bus)
        self.guards = guards
        self.currency = currency

    def _wallet(self) -> Decimal:
        return self.account.wallets().get(self.currency, ZERO)

    def feed(self, inp: object) -> list[Event]:
        acct = self.account
        batch: list[Event] = list(
            self.guards.tick(int(inp.ts_ms), self._wallet(), acct.equity(self.currency))  # type: ignore[attr-defined]
        )
        if isinstance(inp, PlaceOrder):
            pos = acct.positions_by_symbol.get(inp.symbol)
            denied = self.guards.check(inp, pos.contracts if pos is not None else ZERO)
            if denied is not None:
                return self._publish([*batch, denied])
            lev = inp.leverage or (pos.leverage if pos is not None else None)
            liq = self._liquidation(inp, lev, pos.margin_mode if pos is not None else "cross")
            batch += self.guards.warnings(inp, lev, liq, inp.stop_loss)
        events = acct.apply(inp)
        self.stats.inputs += 1
        batch += events
        batch += self.guards.observe(events, self._wallet())
        return self._publish(batch)

    def _liquidation(self, order: PlaceOrder, lev: Decimal | None, mode: str) -> Decimal | None:
        """Where an entry with a stop would be liquidated (for the guard's warning), if known."""
        acct = self.account
        pos = acct.positions_by_symbol.get(order.symbol)
        ref = acct.taker_base(order.symbol, order.side) if order.price is None else order.price
        if order.stop_loss is None or (pos is not None and pos.contracts != 0) or not ref:
            return None
        isolated = (order.margin_mode or mode) == "isolated"
        try:
            quote = quote_liquidation(
                acct.specs[order.symbol],
                side="long" if order.side == "buy" else "short",
                entry=ref,
                contracts=order.contracts,
                leverage=order.leverage or lev or DEFAULT_LEVERAGE,
                margin_mode="isolated" if isolated else "cross",
                wallet=None if isolated else self._wallet(),
            )
        except InputError:
            return None  # the engine will reject the order with its own reason
        return quote.liquidation_price

    def _publish(self, batch: list[Event]) -> list[Event]:
        if batch:
            self.stats.events += len(batch)
            for e in batch:
                self.stats.event_counts[e.kind] = self.stats.event_counts.get(e.kind, 0) + 1
            self.bus.publish(batch)
        return batch


class Driver:
    """Calls the strategy's hooks, queues its orders and sends them between batches."""

    def __init__(
        self,
        strategy: Strategy,
        path: Path,
        runner: GuardedRunner,
        limits: Limits,
        primary: str,
    ) -> None:
        self.strategy = strategy
        self.path = path
        self.runner = runner
        self.account = runner.account
        self.name = strategy.strategy_name()
        self.history = {s: History(s) for s in runner.account.specs}
        self.ctx = Context(self.account, primary, self.history, self._queue, limits, self.name)
        self.queue: deque[Ticket] = deque()
        self.wants_price = overrides(strategy, "on_price")
        self.wants_any = overrides(strategy, "on_event")
        runner.bus.subscribe(self.on_events)

    # ---- hooks ----------------------------------------------------------------------------
    def call(self, hook: str, *args: Any) -> None:
        """Run one hook; an exception in the user's code becomes a StrategyError."""
        try:
            getattr(self.strategy, hook)(self.ctx, *args)
        except (InvariantError, JournalError, StrategyError, KeyboardInterrupt):
            raise
        except Exception as e:
            raise StrategyError(
                f"strategy {self.name} raised {type(e).__name__} in {hook} at "
                f"{_utc(self.account.now_ms)}: {e}; the run stopped and the journal "
                f"holds every event up to seq {self.account.seq}",
                user_traceback(e, self.path),
            ) from e

    def on_events(self, events: Sequence[Event]) -> None:
        for e in events:
            hook = HOOKS.get(e.kind)
            if hook is not None:
                self.call(hook, e)
            if self.wants_any:
                self.call("on_event", e)

    # ---- orders ---------------------------------------------------------------------------
    def _queue(self, cmd: Command) -> Ticket:
        ticket = Ticket(cmd)
        self.queue.append(ticket)
        return ticket

    def feed(self, inp: object) -> None:
        """Send one input, then every order the hooks placed in answer (and theirs)."""
        self.runner.feed(inp)
        if self.wants_price and isinstance(inp, LastTrade):
            self.call("on_price", inp.symbol, inp.price, inp.ts_ms)
        self.drain()

    def drain(self) -> None:
        sent = 0
        while self.queue:
            sent += 1
            if sent > MAX_ORDERS_PER_INPUT:
                raise StrategyError(
                    f"strategy {self.name} sent more than {MAX_ORDERS_PER_INPUT} orders in answer "
                    "to one input; an order hook probably places an order on every event"
                )
            ticket = self.queue.popleft()
            cmd = ticket.command
            ticket.command = type(cmd)(**{**_fields(cmd), "ts_ms": self.account.now_ms})
            ticket.events = self.runner.feed(ticket.command)
            ticket.status = "done"
            for e in ticket.events:
                if e.kind in ANSWERS:
                    ticket.status = ANSWERS[e.kind]
                    ticket.order_id = getattr(e, "order_id", None) or None
                    ticket.reason = getattr(e, "reason", "")
                    break

    def bar_closed(self, bar: Bar) -> None:
        """Record the closed bar and call ``on_bar``; its orders go out at the bar's close."""
        self.history[bar.symbol].add(bar)
        self.call("on_bar", bar)
        self.drain()


def _utc(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _fields(cmd: Command) -> dict[str, Any]:
    return {name: getattr(cmd, name) for name in cmd.__dataclass_fields__}
