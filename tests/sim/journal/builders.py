"""Hand-built events for journal and review tests (synthetic numbers, computed by hand).

The five-trade journal (account "main", 1000 USDT, Binance USDⓈ-M, week of Mon 2024-03-04 UTC):

    # sym side  contracts entry→exit     stop  risk  realized fees funding  net     R
    1 BTC long  0.010     60000→60660    59700 3.00    6.60  0.50  -0.10    6.00   2
    2 ETH short 0.10      3000→3030      3030  3.00   -3.00  0.40   0.40   -3.00  -1
    3 BTC long  0.010 20x 60000→59580 liq  -    -     -4.20  0.30   0      -4.50   -
    4 BTC long  0.050 5x  60000→60250    59700 15.00  12.50  0.50   0      12.00   0.8
    5 ETH long  0.20      3000→2993      2970  6.00   -1.40  0.10   0      -1.50  -0.25
    (multiplier 1 everywhere; leverage 10x unless shown)

Equity 1000 → 1006 → 1003 → 998.50 → 1010.50 → 1009; max drawdown 7.50 (from 1006).
A daily-loss GuardLocked follows trade 3; trade 4 is the first trade after it and risks
15.00 > 1 % of 998.50.
"""

from __future__ import annotations

import dataclasses
import typing
from decimal import Decimal
from pathlib import Path
from typing import Any

from sim.engine import events as ev
from sim.guards import GuardLocked, GuardUnlocked, GuardWarned
from sim.journal import Journal
from sim.journal.restore import event_classes

D = Decimal
MON = 1_709_510_400_000  # 2024-03-04 00:00 UTC, a Monday
HOUR = 3_600_000
DAY = 24 * HOUR
BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"
VENUE = "binanceusdm"


class Seq:
    """Hands out an account's event numbers."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> int:
        self.n += 1
        return self.n


def _trade(
    seq: Seq,
    wallet: list[Decimal],
    *,
    no: int,
    symbol: str,
    side: str,
    contracts: str,
    entry: str,
    exit_: str,
    stop: str | None,
    realized: str,
    fees: str,
    funding: str,
    leverage: str,
    open_ms: int,
    close_ms: int,
    exit_reason: str,
) -> list[ev.Event]:
    base: dict[str, Any] = {"account": "main", "venue": VENUE, "symbol": symbol}
    buy, sell = ("buy", "sell") if side == "long" else ("sell", "buy")
    n = D(contracts)
    half = D(fees) / 2
    out: list[ev.Event] = [
        ev.OrderAccepted(
            seq=seq(),
            ts_ms=open_ms,
            **base,
            order_id=f"o{no}e",
            side=buy,
            order_type="market",
            contracts=n,
            leverage=D(leverage),
            margin_mode="isolated",
            stop_loss=None if stop is None else D(stop),
        ),
    ]
    wallet[0] -= half
    out.append(
        ev.OrderFilled(
            seq=seq(),
            ts_ms=open_ms,
            **base,
            order_id=f"o{no}e",
            side=buy,
            contracts=n,
            price=D(entry),
            fee=half,
            currency="USDT",
            liquidity="taker",
            realized_pnl=D(0),
            contract_size=D(1),
            position_after=n if side == "long" else -n,
            entry_price_after=D(entry),
            wallet_after=wallet[0],
        )
    )
    if stop is not None:
        out.append(
            ev.OrderAccepted(
                seq=seq(),
                ts_ms=open_ms,
                **base,
                order_id=f"o{no}s",
                side=sell,
                order_type="stop_market",
                contracts=n,
                trigger_price=D(stop),
                trigger_source="mark",
                reduce_only=True,
                parent_id=f"o{no}e",
            )
        )
    if D(funding) != 0:
        wallet[0] += D(funding)
        out.append(
            ev.FundingPaid(
                seq=seq(),
                ts_ms=open_ms + HOUR // 2,
                **base,
                funding_time_ms=open_ms + HOUR // 2,
                rate=D("0.0001"),
                mark_price=D(entry),
                contracts=n if side == "long" else -n,
                contract_size=D(1),
                amount=D(funding),
                currency="USDT",
                wallet_after=wallet[0],
            )
        )
    if exit_reason == "liquidation":
        out.append(
            ev.PositionLiquidated(
                seq=seq(),
                ts_ms=close_ms,
                **base,
                side=side,
                contracts=n,
                entry_price=D(entry),
                mark_price=D("57300.5"),
                liquidation_price=D("57301.2"),
                close_price=D(exit_),
                margin_mode="isolated",
                leverage=D(leverage),
                tier=1,
                mmr=D("0.004"),
                cum=D(0),
                wallet_before=D("30.00"),
                loss=D("4.50"),
                fee=D("0.30"),
                currency="USDT",
                rule="binance-usdm-isolated",
            )
        )
    exit_fee = D(fees) - half
    wallet[0] += D(realized) - exit_fee
    out.append(
        ev.OrderFilled(
            seq=seq(),
            ts_ms=close_ms,
            **base,
            order_id=f"o{no}s" if stop else f"o{no}x",
            side=sell,
            contracts=n,
            price=D(exit_),
            fee=exit_fee,
            currency="USDT",
            liquidity="taker",
            realized_pnl=D(realized),
            contract_size=D(1),
            position_after=D(0),
            entry_price_after=None,
            wallet_after=wallet[0],
            reason={"stop": "stop", "liquidation": "liquidation"}.get(exit_reason, "close"),
        )
    )
    out.append(
        ev.TradeClosed(
            seq=seq(),
            ts_ms=close_ms,
            **base,
            trade_id=f"T{no}",
            side=side,
            open_ts_ms=open_ms,
            entry_price=D(entry),
            exit_price=D(exit_),
            contracts=n,
            contract_size=D(1),
            leverage=D(leverage),
            margin_mode="isolated",
            stop_at_entry=None if stop is None else D(stop),
            risk_at_entry=None if stop is None else abs(D(entry) - D(stop)) * n,
            realized_pnl=D(realized),
            fees=D(fees),
            funding=D(funding),
            currency="USDT",
            exit_reason=exit_reason,
            tag="breakout" if no in (1, 4) else None,
        )
    )
    return out


def five_trades() -> list[ev.Event]:
    """The events of the journal in the module docstring, in seq order."""
    seq, wallet = Seq(), [D(1000)]
    out: list[ev.Event] = [
        ev.WalletCredited(
            seq=seq(),
            ts_ms=MON,
            account="main",
            venue=VENUE,
            currency="USDT",
            amount=D(1000),
            balance_after=D(1000),
        )
    ]
    common = {"contracts": "0.010", "leverage": "10"}
    out += _trade(
        seq,
        wallet,
        no=1,
        symbol=BTC,
        side="long",
        entry="60000",
        exit_="60660",
        stop="59700",
        realized="6.60",
        fees="0.50",
        funding="-0.10",
        open_ms=MON + 9 * HOUR,
        close_ms=MON + 10 * HOUR,
        exit_reason="take_profit",
        **common,
    )
    out.append(
        ev.OrderCancelled(
            seq=seq(),
            ts_ms=MON + 10 * HOUR,
            account="main",
            venue=VENUE,
            symbol=BTC,
            order_id="o1s",
            reason="oco",
        )
    )
    out += _trade(
        seq,
        wallet,
        no=2,
        symbol=ETH,
        side="short",
        contracts="0.10",
        entry="3000",
        exit_="3030",
        stop="3030",
        realized="-3.00",
        fees="0.40",
        funding="0.40",
        leverage="10",
        open_ms=MON + 14 * HOUR,
        close_ms=MON + 15 * HOUR,
        exit_reason="stop",
    )
    out += _trade(
        seq,
        wallet,
        no=3,
        symbol=BTC,
        side="long",
        contracts="0.010",
        entry="60000",
        exit_="59580",
        stop=None,
        realized="-4.20",
        fees="0.30",
        funding="0",
        leverage="20",
        open_ms=MON + DAY + 9 * HOUR,
        close_ms=MON + DAY + 11 * HOUR,
        exit_reason="liquidation",
    )
    lock_ms = MON + DAY + 11 * HOUR + 500
    out.append(
        GuardLocked(
            seq=seq(),
            ts_ms=lock_ms,
            account="main",
            guard="daily_loss",
            reason="daily loss limit",
            until_ms=lock_ms + HOUR,
            day_open_equity=D("1003.00"),
            day_result=D("-4.50"),
            trades_today=1,
            currency="USDT",
        )
    )
    out.append(
        ev.OrderDenied(
            seq=seq(),
            ts_ms=lock_ms + 60_000,
            account="main",
            venue=VENUE,
            symbol=BTC,
            order_id="o9",
            reason="daily loss limit: take a break",
            guard="daily_loss",
        )
    )
    out += _trade(
        seq,
        wallet,
        no=4,
        symbol=BTC,
        side="long",
        contracts="0.050",
        entry="60000",
        exit_="60250",
        stop="59700",
        realized="12.50",
        fees="0.50",
        funding="0",
        leverage="5",
        open_ms=MON + DAY + 13 * HOUR,
        close_ms=MON + 2 * DAY + 10 * HOUR,
        exit_reason="manual",
    )
    out += _trade(
        seq,
        wallet,
        no=5,
        symbol=ETH,
        side="long",
        contracts="0.20",
        entry="3000",
        exit_="2993",
        stop="2970",
        realized="-1.40",
        fees="0.10",
        funding="0",
        leverage="10",
        open_ms=MON + 3 * DAY + 16 * HOUR,
        close_ms=MON + 3 * DAY + 17 * HOUR,
        exit_reason="stop",
    )
    return out


def build_review_journal(path: Path) -> Journal:
    """A journal holding the five trades, appended in a few batches as a runner would."""
    journal = Journal.open(path)
    journal.ensure_account("main", VENUE, "USDT", D(1000))
    events = five_trades()
    for start in range(0, len(events), 7):
        batch = events[start : start + 7]
        journal.append("main", batch, {"seq": batch[-1].seq, "wallet": "x"})
    return journal


def hand_built_events() -> list[ev.Event]:
    """One realistic instance of every event type known today (mostly from the five trades)."""
    five = five_trades()
    base = {"account": "main", "venue": VENUE, "symbol": BTC, "ts_ms": MON}
    extra: list[ev.Event] = [
        ev.LeverageSet(seq=101, **base, leverage=D(10), margin_mode="cross"),
        ev.OrderRejected(
            seq=102,
            **base,
            order_id="o7",
            reason="price 60000.05 is off the 0.10 tick",
            side="buy",
            order_type="limit",
            contracts=D("0.001"),
            price=D("60000.05"),
        ),
        ev.OrderAmended(seq=103, **base, order_id="o1s", trigger_price=D("59850.0")),
        ev.OrderTriggered(
            seq=104,
            **base,
            order_id="o2s",
            trigger_price=D("3030"),
            trigger_source="mark",
            observed_price=D("3030.41"),
        ),
        ev.OrderExpired(seq=105, **base, order_id="o8", reason="ioc"),
        ev.PositionSettled(
            seq=106,
            **base,
            contracts=D("0.003"),
            entry_price=D("61020.5"),
            settle_price=D("61888.12"),
            realized_pnl=D("2.602860"),
            fee=D("0.0309"),
            currency="USDT",
        ),
        ev.FeedStale(seq=107, **base, stale=True, reason="no update for 10 s"),
        GuardUnlocked(seq=108, **base, guard="daily_loss"),
        GuardWarned(
            seq=109,
            **base,
            guard="leverage",
            message="leverage 50x is above 20x",
            side="buy",
            contracts=D("0.002"),
        ),
    ]
    return five + extra


def _sample(hint: Any, name: str) -> Any:
    """A plausible value for a field type, for event types added after these tests were written."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if args and typing.get_origin(hint) is not tuple:
        hint = args[0]
    if hint is Decimal:
        return D("1234.5678")
    if hint is bool:
        return True
    if hint is int:
        return 1_709_510_400_123 if name.endswith("_ms") else 3
    if typing.get_origin(hint) is tuple:
        return (D("0.5"), D("1.5"))
    return f"{name}-value"


def every_event(start_seq: int = 1000) -> list[ev.Event]:
    """Hand-built events plus a synthetic instance of any Event subclass they do not cover."""
    events = hand_built_events()
    covered = {type(e).__name__ for e in events}
    seq = start_seq
    for name, cls in sorted(event_classes().items()):
        if name in covered or not dataclasses.is_dataclass(cls):
            continue
        hints = typing.get_type_hints(cls)
        kwargs = {
            f.name: _sample(hints[f.name], f.name)
            for f in dataclasses.fields(cls)
            if f.name not in {"seq", "account"}
        }
        seq += 1
        events.append(cls(**kwargs | {"seq": seq, "account": "main"}))
    return events
