"""Discipline guards: warnings before an order and the locks that make a trader take a break.

The guards sit beside the account, fed the same time and the engine's events:

* a warning when an order's leverage is above ``leverage_warning``;
* a warning when the liquidation price lies inside the stop (the venue would close the position
  before the stop could act);
* a daily loss limit: once today's realized result (wallet now − wallet at the UTC day's open,
  deposits excluded) loses ``daily_loss_limit_pct`` % of the day's opening equity (plus what was
  deposited today), new entries are locked for ``cooloff_minutes``;
* a maximum number of trades (positions opened from flat, or flipped) per UTC day, which locks
  new entries the same way when reached.

While locked, exits (reduce-only, close-position, or an order that only shrinks the position) go
through; entries become :class:`OrderDenied` events. A further breach after a lock ends starts a
new lock. Locks, unlocks and warnings are events so the journal records them. The guards never
call back into the account: the session kernel (``sim/session.py``) asks them about every
command that can add exposure and cancels working entries while a lock holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sim.engine.commands import PlaceOrder
from sim.engine.events import Event, OrderDenied, OrderFilled, WalletCredited
from sim.engine.money import ZERO, on_step

DAY_MS = 86_400_000
HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True, kw_only=True)
class GuardLocked(Event):
    """New entries are locked until ``until_ms`` ("take a break"); exits stay allowed."""

    guard: str  # "daily_loss" | "max_trades"
    reason: str
    until_ms: int
    day_open_equity: Decimal
    day_result: Decimal  # realized today, signed (− = lost)
    trades_today: int
    currency: str


@dataclass(frozen=True, slots=True, kw_only=True)
class GuardUnlocked(Event):
    """The cooling-off period ended; entries are allowed again."""

    guard: str
    reason: str = "cooling-off period ended"


@dataclass(frozen=True, slots=True, kw_only=True)
class GuardWarned(Event):
    """A warning shown before an order was sent (it was sent anyway)."""

    guard: str  # "leverage" | "liquidation_inside_stop"
    message: str
    side: str = ""
    contracts: Decimal | None = None


@dataclass(frozen=True, slots=True)
class GuardLimits:
    """The configured limits (``settings.risk``) in plain values: the guards read no settings."""

    leverage_warning: Decimal
    daily_loss_limit_pct: Decimal
    max_trades_per_day: int
    cooloff_minutes: int
    currency: str = "USDT"

    @classmethod
    def from_risk(cls, risk: Any, currency: str) -> GuardLimits:
        """Build from a ``RiskSettings`` section."""
        return cls(
            leverage_warning=Decimal(risk.leverage_warning),
            daily_loss_limit_pct=Decimal(risk.daily_loss_limit_pct),
            max_trades_per_day=int(risk.max_trades_per_day),
            cooloff_minutes=int(risk.cooloff_minutes),
            currency=currency,
        )


@dataclass(slots=True)
class GuardState:
    """What the guards remember; saved beside the account snapshot to survive a restart."""

    day: int = -1  # UTC day number (ts_ms // DAY_MS)
    day_open_equity: Decimal = ZERO
    day_open_wallet: Decimal = ZERO
    deposits_today: Decimal = ZERO
    wallet: Decimal = ZERO
    trades_today: int = 0
    locked_until_ms: int | None = None
    lock_guard: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "day": self.day,
            "day_open_equity": str(self.day_open_equity),
            "day_open_wallet": str(self.day_open_wallet),
            "deposits_today": str(self.deposits_today),
            "wallet": str(self.wallet),
            "trades_today": self.trades_today,
            "locked_until_ms": self.locked_until_ms,
            "lock_guard": self.lock_guard,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GuardState:
        return cls(
            day=int(data["day"]),
            day_open_equity=Decimal(data["day_open_equity"]),
            day_open_wallet=Decimal(data["day_open_wallet"]),
            deposits_today=Decimal(data["deposits_today"]),
            wallet=Decimal(data["wallet"]),
            trades_today=int(data["trades_today"]),
            locked_until_ms=data.get("locked_until_ms"),
            lock_guard=str(data.get("lock_guard", "")),
        )


def _cents(value: Decimal) -> Decimal:
    return on_step(value, Decimal("0.01"), ROUND_HALF_UP)


def is_exit(order: PlaceOrder, position: Decimal) -> bool:
    """True when the order can only shrink the position (always allowed, even when locked)."""
    if order.reduce_only or order.close_position:
        return True
    if position == 0:
        return False
    opposite = (order.side == "sell") == (position > 0)
    return opposite and order.contracts <= abs(position)


def liquidation_inside_stop(side: str, liquidation: Decimal, stop: Decimal) -> bool:
    """True when a position would be liquidated before its stop is reached."""
    return liquidation >= stop if side == "buy" else liquidation <= stop


class Guards:
    """The discipline guards of one account; ``next_seq`` hands out the account's event numbers."""

    def __init__(
        self,
        account: str,
        limits: GuardLimits,
        next_seq: Callable[[], int],
        state: GuardState | None = None,
    ) -> None:
        self.account = account
        self.limits = limits
        self.next_seq = next_seq
        self.state = state or GuardState()

    @property
    def locked(self) -> bool:
        return self.state.locked_until_ms is not None

    @property
    def day_result(self) -> Decimal:
        """Realized result today in the guard currency (− = lost), deposits excluded."""
        s = self.state
        return s.wallet - s.day_open_wallet - s.deposits_today

    @property
    def loss_limit(self) -> Decimal:
        """The loss (positive amount) that locks entries today; money deposited today counts."""
        base = self.state.day_open_equity + self.state.deposits_today
        return base * self.limits.daily_loss_limit_pct / HUNDRED

    def tick(self, ts_ms: int, wallet: Decimal, equity: Decimal) -> list[Event]:
        """Advance time before an input is applied: roll the UTC day, end an expired lock."""
        s = self.state
        out: list[Event] = []
        day = ts_ms // DAY_MS
        if day != s.day:
            s.day, s.trades_today = day, 0
            s.day_open_equity, s.day_open_wallet = equity, wallet
            s.deposits_today, s.wallet = ZERO, wallet
        if s.locked_until_ms is not None and ts_ms >= s.locked_until_ms:
            out.append(
                GuardUnlocked(seq=self.next_seq(), ts_ms=ts_ms, account=self.account,
                              guard=s.lock_guard)
            )  # fmt: skip
            s.locked_until_ms, s.lock_guard = None, ""
        return out

    def check(
        self, order: PlaceOrder, position: Decimal, order_ref: str = ""
    ) -> OrderDenied | None:
        """Deny an entry while locked; exits always pass."""
        s = self.state
        if s.locked_until_ms is None or is_exit(order, position):
            return None
        minutes = max(0, -(-(s.locked_until_ms - order.ts_ms) // 60_000))
        why = "daily loss limit" if s.lock_guard == "daily_loss" else "max trades per day"
        return OrderDenied(
            seq=self.next_seq(),
            ts_ms=order.ts_ms,
            account=self.account,
            venue=order.venue,
            symbol=order.symbol,
            order_id=order_ref or f"denied-{order.side}-{order.contracts}",
            reason=(
                f"entries locked by the {why} for {minutes} more minutes; take a break "
                f"(exits and reduce-only orders are still allowed)"
            ),
            guard=s.lock_guard,
        )

    def warnings(
        self,
        order: PlaceOrder,
        leverage: Decimal | None,
        liquidation: Decimal | None,
        stop: Decimal | None,
    ) -> list[GuardWarned]:
        """Warnings for an order about to be sent: high leverage, liquidation inside the stop."""
        out: list[GuardWarned] = []
        base: dict[str, Any] = {
            "ts_ms": order.ts_ms,
            "account": self.account,
            "venue": order.venue,
            "symbol": order.symbol,
            "side": order.side,
            "contracts": order.contracts,
        }
        if order.reduce_only or order.close_position:
            return out
        if leverage is not None and leverage > self.limits.leverage_warning:
            out.append(GuardWarned(
                seq=self.next_seq(), guard="leverage", **base,  # type: ignore[arg-type]
                message=f"leverage {leverage}x is above your warning level of "
                        f"{self.limits.leverage_warning}x",
            ))  # fmt: skip
        if (
            liquidation is not None
            and stop is not None
            and liquidation_inside_stop(order.side, liquidation, stop)
        ):
            out.append(GuardWarned(
                seq=self.next_seq(), guard="liquidation_inside_stop", **base,  # type: ignore[arg-type]
                message=f"liquidation at {liquidation} comes before your stop at {stop}: "
                        f"lower the leverage or move the stop",
            ))  # fmt: skip
        return out

    def _count_trade(self, e: OrderFilled) -> None:
        signed = e.contracts if e.side == "buy" else -e.contracts
        before = e.position_after - signed
        opened = before == 0 and e.position_after != 0
        flipped = before * e.position_after < 0
        if opened or flipped:
            self.state.trades_today += 1

    def observe(self, events: Iterable[Event], wallet: Decimal) -> list[Event]:
        """Follow the engine's events and the wallet after them; lock entries on a breach."""
        s = self.state
        trades_before = s.trades_today
        result_before = self.day_result
        last_ts = None
        for e in events:
            last_ts = e.ts_ms
            if isinstance(e, OrderFilled):
                self._count_trade(e)
            elif isinstance(e, WalletCredited) and e.currency == self.limits.currency:
                s.deposits_today += e.amount
        s.wallet = wallet
        if last_ts is None or s.locked_until_ms is not None:
            return []
        limit = self.loss_limit
        lost_more = self.day_result < result_before
        if self.limits.daily_loss_limit_pct > 0 and lost_more and -self.day_result >= limit:
            cur = self.limits.currency
            reason = (
                f"daily loss limit: lost {_cents(-self.day_result)} {cur} today, the limit is "
                f"{self.limits.daily_loss_limit_pct}% of "
                f"{_cents(s.day_open_equity + s.deposits_today)} = {_cents(limit)} {cur}"
            )
            return [self._lock("daily_loss", reason, last_ts)]
        cap = self.limits.max_trades_per_day
        if cap > 0 and s.trades_today > trades_before and s.trades_today >= cap:
            reason = f"max trades per day: {s.trades_today} trades today, the limit is {cap}"
            return [self._lock("max_trades", reason, last_ts)]
        return []

    def _lock(self, guard: str, reason: str, ts_ms: int) -> GuardLocked:
        s = self.state
        until = ts_ms + self.limits.cooloff_minutes * 60_000
        s.locked_until_ms, s.lock_guard = until, guard
        return GuardLocked(
            seq=self.next_seq(),
            ts_ms=ts_ms,
            account=self.account,
            guard=guard,
            reason=reason,
            until_ms=until,
            day_open_equity=s.day_open_equity,
            day_result=self.day_result,
            trades_today=s.trades_today,
            currency=self.limits.currency,
        )
