"""Statistics of closed trades: results, R-multiples, drawdown, costs, and the discipline review.

Definitions (money in the account currency, exact Decimal):
    net P&L of a trade   realized (gross) − fees + funding (funding signed, + = received)
    win / loss           net > 0 / net < 0 (a net of exactly 0 is breakeven)
    win rate             wins / trades
    expectancy           total net / trades (the average result per trade)
    profit factor        sum of wins / |sum of losses| (None without losses)
    R-multiple           net / risk at open (|first fill − stop| × contracts of the first fill
                         × multiplier: what the trade risked when it was opened); None
                         when the trade had no stop
    equity               starting balance + cumulative net P&L, in close order
    max drawdown         largest fall of equity from its running peak (peak includes the start),
                         equity marked at each trade close (closed trades only; the same
                         definition as `microfut run` and `sweep`, see ``drawdown.py``)
    fee / funding share  fees / |gross P&L|, funding paid / |gross P&L| (funding received is a
                         negative share); None when |gross P&L| is below the fees (or funding):
                         a share of a near-zero gross says nothing
    leverage             the leverage when the trade opened (its first fill)
    over-risk trade      risk at open > risk % × equity when the trade opened
    after a loss lock    the first trade opened after each daily-loss ``GuardLocked`` (or, in
                         journals without lock events, after each loss-limit denial), by event
                         order (journal seq), not by timestamp
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where used: `journal list/show` need r_multiple without pandas
    import pandas as pd

from sim.review.drawdown import equity_curve, max_drawdown

ZERO = Decimal(0)
HUNDRED = Decimal(100)
R_BINS: tuple[tuple[str, Decimal | None, Decimal | None], ...] = (
    ("< -2R", None, Decimal(-2)),
    ("-2R..-1R", Decimal(-2), Decimal(-1)),
    ("-1R..0R", Decimal(-1), ZERO),
    ("0R..1R", ZERO, Decimal(1)),
    ("1R..2R", Decimal(1), Decimal(2)),
    ("2R..3R", Decimal(2), Decimal(3)),
    (">= 3R", Decimal(3), None),
)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True, slots=True)
class Summary:
    trades: int
    wins: int
    losses: int
    breakeven: int
    win_rate: Decimal | None
    average_win: Decimal | None
    average_loss: Decimal | None
    expectancy: Decimal | None
    profit_factor: Decimal | None
    gross_pnl: Decimal
    fees: Decimal
    funding: Decimal
    net_pnl: Decimal
    fee_share: Decimal | None
    funding_share: Decimal | None
    average_r: Decimal | None
    starting_balance: Decimal
    ending_equity: Decimal
    max_drawdown: Decimal
    max_drawdown_pct: Decimal | None
    average_leverage: Decimal | None
    max_leverage: Decimal | None


@dataclass(frozen=True, slots=True)
class GroupResult:
    key: str
    trades: int
    wins: int
    win_rate: Decimal | None
    net_pnl: Decimal
    average_r: Decimal | None


@dataclass(frozen=True, slots=True)
class Discipline:
    risk_pct: Decimal
    over_risk: list[int]
    without_stop: list[int]
    liquidated: list[int]
    after_loss_lock: list[int]
    guard_denials: int


@dataclass(frozen=True, slots=True)
class AccountReport:
    account: str
    currency: str
    since_ms: int | None
    until_ms: int | None
    summary: Summary
    r_multiples: list[tuple[int, Decimal]]
    r_distribution: list[tuple[str, int]]
    by_symbol: list[GroupResult]
    by_tag: list[GroupResult]
    by_weekday: list[GroupResult]
    by_hour: list[GroupResult]
    by_month: list[GroupResult]
    by_leverage: list[GroupResult]
    discipline: Discipline
    equity_curve: list[tuple[int, Decimal]] = field(default_factory=list)
    status: str = ""  # the latest session's end: completed, interrupted, failed ("" unmarked)
    first_open_ms: int | None = None  # the period the trades really cover
    last_close_ms: int | None = None


def _ratio(num: Decimal, den: Decimal) -> Decimal | None:
    return None if den == 0 else num / den


def _mean(values: Sequence[Decimal]) -> Decimal | None:
    return sum(values, ZERO) / len(values) if values else None


def r_multiple(net: Decimal, risk: Decimal | None) -> Decimal | None:
    """Result of a trade in units of what it risked at entry (None without a stop)."""
    return None if risk is None or risk <= 0 else net / risk


def _share(part: Decimal, gross: Decimal) -> Decimal | None:
    """``part`` / |gross|, None when |gross| is below |part| (a share of ≈ 0 is noise)."""
    return None if abs(gross) < abs(part) or gross == 0 else part / abs(gross)


def r_distribution(rs: Iterable[Decimal]) -> list[tuple[str, int]]:
    """Counts of R-multiples per bin (lower bound inclusive)."""
    counts = dict.fromkeys((label for label, _, _ in R_BINS), 0)
    for r in rs:
        for label, low, high in R_BINS:
            if (low is None or r >= low) and (high is None or r < high):
                counts[label] += 1
                break
    return list(counts.items())


def _group(frame: pd.DataFrame, keys: Sequence[Any], order: Sequence[Any] | None = None) -> list:
    buckets: dict[Any, list[int]] = {}
    for pos, key in enumerate(keys):
        buckets.setdefault(key, []).append(pos)
    nets, rs = list(frame["net_pnl"]), list(frame["r"])
    out = []
    for key in order if order is not None else sorted(buckets, key=str):
        rows = buckets.get(key)
        if not rows:
            continue
        group_nets = [nets[i] for i in rows]
        wins = sum(1 for n in group_nets if n > 0)
        group_rs = [rs[i] for i in rows if rs[i] is not None]
        out.append(
            GroupResult(
                key=str(key),
                trades=len(rows),
                wins=wins,
                win_rate=Decimal(wins) / len(rows),
                net_pnl=sum(group_nets, ZERO),
                average_r=_mean(group_rs),
            )
        )
    return out


def _summary(frame: pd.DataFrame, start: Decimal, curve: list[Decimal]) -> Summary:
    nets = list(frame["net_pnl"])
    wins = [n for n in nets if n > 0]
    losses = [n for n in nets if n < 0]
    gross, fees = sum(frame["realized_pnl"], ZERO), sum(frame["fees"], ZERO)
    funding = sum(frame["funding"], ZERO)
    net = sum(nets, ZERO)
    dd, dd_pct = max_drawdown(start, curve)
    leverage = list(frame[_lev(frame)])
    return Summary(
        trades=len(nets),
        wins=len(wins),
        losses=len(losses),
        breakeven=len(nets) - len(wins) - len(losses),
        win_rate=_ratio(Decimal(len(wins)), Decimal(len(nets))),
        average_win=_mean(wins),
        average_loss=_mean(losses),
        expectancy=_mean(nets),
        profit_factor=_ratio(sum(wins, ZERO), -sum(losses, ZERO)),
        gross_pnl=gross,
        fees=fees,
        funding=funding,
        net_pnl=net,
        fee_share=_share(fees, gross),
        funding_share=_share(-funding, gross),
        average_r=_mean([r for r in frame["r"] if r is not None]),
        starting_balance=start,
        ending_equity=curve[-1] if curve else start,
        max_drawdown=dd,
        max_drawdown_pct=dd_pct,
        average_leverage=_mean(leverage),
        max_leverage=max(leverage) if leverage else None,
    )


def _risk(frame: pd.DataFrame) -> str:
    """The risk column: at open (reconciled frames) else the engine's at entry."""
    return "risk_at_open" if "risk_at_open" in frame else "risk_at_entry"


def _lev(frame: pd.DataFrame) -> str:
    return "leverage_at_open" if "leverage_at_open" in frame else "leverage"


def _equity_at_open(frame: pd.DataFrame, start: Decimal) -> list[Decimal]:
    """Equity (start + net of trades closed by then) when each trade opened."""
    closes = sorted(zip(frame["close_ts_ms"], frame["net_pnl"], strict=True))
    times = [int(c) for c, _ in closes]
    prefix = [start, *equity_curve(start, (n for _, n in closes))]
    return [prefix[bisect_right(times, int(opened))] for opened in frame["open_ts_ms"]]


def _after_locks(frame: pd.DataFrame, locks: Sequence[int]) -> list[int]:
    """The first trade opened after each lock (a trade counts once).

    ``locks`` are journal seqs compared with each trade's first fill (``open_seq``); frames
    without it fall back to timestamps (``open_ts_ms``)."""
    key = "open_seq" if "open_seq" in frame else "open_ts_ms"
    opened = sorted(zip((int(t) for t in frame[key]), (int(i) for i in frame["id"]), strict=True))
    times = [ts for ts, _ in opened]
    hits: list[int] = []
    for lock in sorted(locks):
        pos = bisect_left(times, lock)
        if pos < len(opened) and opened[pos][1] not in hits:
            hits.append(opened[pos][1])
    return hits


def _discipline(
    frame: pd.DataFrame,
    start: Decimal,
    risk_pct: Decimal,
    locks: Sequence[int],
    denials: Sequence[tuple[int, str]],
) -> Discipline:
    ids = [int(i) for i in frame["id"]]
    at_open = _equity_at_open(frame, start) if len(frame) else []
    over = [
        tid
        for tid, risk, eq in zip(ids, frame[_risk(frame)], at_open, strict=True)
        if risk is not None and risk > eq * risk_pct / HUNDRED
    ]
    return Discipline(
        risk_pct=risk_pct,
        over_risk=over,
        without_stop=[t for t, s in zip(ids, frame["stop_at_entry"], strict=True) if s is None],
        liquidated=[
            t for t, why in zip(ids, frame["exit_reason"], strict=True) if why == "liquidation"
        ],
        after_loss_lock=_after_locks(frame, locks or [t for t, g in denials if "loss" in g]),
        guard_denials=len(denials),
    )


def account_report(
    trades: pd.DataFrame,
    account: str,
    starting_balance: Decimal,
    risk_pct: Decimal,
    locks: Sequence[int] = (),
    denials: Sequence[tuple[int, str]] = (),
    since_ms: int | None = None,
    until_ms: int | None = None,
) -> AccountReport:
    """The full review of one account's closed trades (``trades`` from ``frames.trades_frame``)."""
    frame = trades[trades["account"] == account].reset_index(drop=True) if len(trades) else trades
    frame = frame.copy()
    frame["r"] = [
        r_multiple(n, k) for n, k in zip(frame["net_pnl"], frame[_risk(frame)], strict=True)
    ]
    curve = equity_curve(starting_balance, frame["net_pnl"])
    import pandas as pd

    closed = pd.to_datetime(frame["close_ts_ms"].astype("int64"), unit="ms", utc=True)
    opened = pd.to_datetime(frame["open_ts_ms"].astype("int64"), unit="ms", utc=True)
    tag_keys: list[Any] = []
    tag_rows: list[int] = []
    for pos, tags in enumerate(frame.get("tags", [])):
        for tag in tags or ["(none)"]:
            tag_keys.append(tag)
            tag_rows.append(pos)
    currency = str(frame["currency"].iloc[0]) if len(frame) else ""
    return AccountReport(
        account=account,
        currency=currency,
        since_ms=since_ms,
        until_ms=until_ms,
        summary=_summary(frame, starting_balance, curve),
        r_multiples=[
            (int(i), r) for i, r in zip(frame["id"], frame["r"], strict=True) if r is not None
        ],
        r_distribution=r_distribution(r for r in frame["r"] if r is not None),
        by_symbol=_group(frame, list(frame["symbol"])),
        by_tag=_group(frame.iloc[tag_rows].reset_index(drop=True), tag_keys),
        by_weekday=_group(frame, [WEEKDAYS[d] for d in opened.dt.day_of_week], WEEKDAYS),
        by_hour=_group(frame, [int(h) for h in opened.dt.hour], range(24)),
        by_month=_group(frame, [d.strftime("%Y-%m") for d in closed]),
        by_leverage=_group(
            frame,
            [f"{lev.normalize():f}x" for lev in frame[_lev(frame)]],
            [f"{lev.normalize():f}x" for lev in sorted(set(frame[_lev(frame)]))],
        ),
        discipline=_discipline(frame, starting_balance, risk_pct, locks, denials),
        equity_curve=list(zip((int(t) for t in frame["close_ts_ms"]), curve, strict=True)),
        first_open_ms=min((int(t) for t in frame["open_ts_ms"]), default=None),
        last_close_ms=max((int(t) for t in frame["close_ts_ms"]), default=None),
    )
