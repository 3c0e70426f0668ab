"""How `microfut replay` shows its final account: rich tables, or one JSON document."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.cli import render
from sim.cli.render import ts_text

if TYPE_CHECKING:
    from sim.orders_replay import ReplayResult

POSITION_COLUMNS = ["symbol", "side", "contracts", "× size", "entry", "mark", "lev.", "mode",
                    "uPnL", "liq. price", "margin ratio"]  # fmt: skip
TRADE_COLUMNS = ["symbol", "side", "entry UTC", "entry", "exit UTC", "exit", "contracts",
                 "net PnL", "exit reason"]  # fmt: skip


def _compact(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Any:
    from sim.display import compact

    return compact(render.grid_table(title, columns, rows))


def print_result(result: ReplayResult) -> None:
    """The final account as tables on stdout; rejections and notes go to stderr."""
    from sim import display as d

    out = render.stdout
    tick = {s: spec.price_tick for s, spec in result.specs.items()}

    def px(symbol: str, value: Decimal | None) -> str:
        return render.fmt(d.price(value, tick.get(symbol)))

    def cash(value: Decimal | None, currency: str) -> str:
        return render.fmt(d.money(value, currency))

    out.print(
        render.kv_table(
            f"replay on {result.exchange} · account {result.account}",
            [
                *((f"balance {c}", cash(v, c)) for c, v in result.balances.items()),
                *((f"equity {c}", cash(v, c)) for c, v in result.equity.items()),
                (
                    "bars played / skipped",
                    f"{result.stats.bars_played} / {result.stats.bars_skipped}",
                ),
                ("events", str(result.stats.events)),
            ],
        )
    )
    if result.positions:
        out.print(
            _compact(
                "open positions",
                POSITION_COLUMNS,
                [
                    [
                        p.symbol,
                        p.side,
                        abs(p.contracts),
                        p.contract_size,
                        px(p.symbol, p.entry_price),
                        px(p.symbol, p.mark_price),
                        p.leverage,
                        p.margin_mode,
                        cash(p.unrealized_pnl, p.currency),
                        px(p.symbol, p.liquidation_price),
                        render.fmt(p.margin_ratio * 100, 2) + " %",
                    ]
                    for p in result.positions
                ],
            )
        )
    out.print(
        _compact(
            f"closed trades ({d.plural(len(result.closed_trades), 'trade')}, by exit time)",
            TRADE_COLUMNS,
            [
                [
                    t.symbol,
                    t.side,
                    d.short_time(t.open_ts_ms),
                    px(t.symbol, t.entry_price),
                    d.short_time(t.ts_ms),
                    px(t.symbol, t.exit_price),
                    abs(t.contracts),
                    cash(t.realized_pnl - t.fees + t.funding, t.currency),
                    t.exit_reason,
                ]
                for t in result.closed_trades
            ],
        )
    )
    if result.closed_trades:
        fees = {t.currency: Decimal(0) for t in result.closed_trades}
        funding = dict(fees)
        for t in result.closed_trades:
            fees[t.currency] += t.fees
            funding[t.currency] += t.funding
        totals = ", ".join(
            f"fees {cash(fees[c], c)} {c}, funding {cash(funding[c], c)} {c}" for c in fees
        )
        out.print(f"net PnL = realized − fees + funding; in all: {totals}")
        out.print("per trade: --json, or --db then `microfut journal show N`")
    if result.open_orders:
        out.print(
            render.grid_table(
                "working orders",
                ["id", "symbol", "side", "type", "contracts", "price", "trigger"],
                [
                    [
                        o["order_id"],
                        o["symbol"],
                        o["side"],
                        o["type"],
                        o["contracts"],
                        o["price"],
                        o["trigger_price"],
                    ]
                    for o in result.open_orders
                ],
            )
        )
    for r in result.rejected:
        render.warn(f"{r['time']} {r['symbol']} order {r['order_id']} rejected: {r['reason']}")
    for note in result.notes:
        render.stderr.print(f"note: {note}")


def result_json(result: ReplayResult) -> dict[str, Any]:
    """The final account for ``--json`` (every number at full precision)."""
    return {
        "exchange": result.exchange,
        "data": result.data,
        "account": result.account,
        "balances": result.balances,
        "equity": result.equity,
        "positions": result.positions,
        "open_orders": result.open_orders,
        "closed_trades": result.closed_trades,
        "rejected": result.rejected,
        "notes": result.notes,
        "stats": result.stats,
        "journal": result.journal,
    }


def interrupt_message(ts_ms: int | None, account: str, journal: str | Path | None) -> str:
    """The one line a Ctrl-C leaves: where the run stopped and what the journal kept."""
    where = (
        f"interrupted at {ts_text(ts_ms)} UTC" if ts_ms else "interrupted before the first input"
    )
    if journal is None:
        return f"{where}; no journal was written (pass --db to keep one) (account {account})"
    if not ts_ms:
        return f"{where}; the journal {journal} holds nothing of this run (account {account})"
    return (
        f"{where}; the journal holds everything up to there (account {account}); "
        "rerun the same command (or add --resume) to continue"
    )
