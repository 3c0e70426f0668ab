"""One strategy attached to the session kernel: hooks on every event, orders between batches.

Every input (price, funding, the strategy's own commands) goes through the kernel
(``sim/session.py``): the guards judge, the account applies, the batch is committed to the
journal with the snapshot and then published to the run's collector and the strategy. Orders
placed by a hook are queued and sent once the batch is delivered (subscribers never call back
into the account), so the journal is consistent after every batch, even if a hook then raises.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sim.engine.commands import Command
from sim.engine.events import Event
from sim.engine.market import LastTrade
from sim.errors import InvariantError, JournalError
from sim.session import Session
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


class Driver:
    """Calls the strategy's hooks, queues its orders and sends them between batches."""

    def __init__(
        self,
        strategy: Strategy,
        path: Path,
        kernel: Session,
        limits: Limits,
        primary: str,
    ) -> None:
        self.strategy = strategy
        self.path = path
        self.kernel = kernel
        self.account = kernel.account
        self.name = strategy.strategy_name()
        self.history = {s: History(s) for s in kernel.account.specs}
        self.ctx = Context(self.account, primary, self.history, self._queue, limits, self.name)
        self.queue: deque[Ticket] = deque()
        self.wants_price = overrides(strategy, "on_price")
        self.wants_any = overrides(strategy, "on_event")
        kernel.subscribe(self.on_events)

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
                f"{_utc(self.account.now_ms)}: {e}",
                user_traceback(e, self.path),
                after=f"; the run stopped and the journal holds every event up to seq "
                f"{self.account.seq}",
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
        self.kernel.feed(inp)
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
            ticket.events = self.kernel.submit(ticket.command)
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
