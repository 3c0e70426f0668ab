"""How `microfut journal` shows trades and reports: prices to the tick, money to the cent."""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

from sim.cli import context, render
from sim.cli.render import fmt, grid_table, kv_table, ts_text
from sim.errors import MicrofutError

if TYPE_CHECKING:
    from sim.review import stats

PCT = Decimal(100)


def pct(value: Decimal | None) -> str:
    return "-" if value is None else f"{fmt(value * PCT, 1)}%"


def r_text(value: Decimal | None) -> str:
    return "-" if value is None else f"{fmt(value, 2)}R"


@cache
def _tick(venue: str, symbol: str) -> Decimal | None:
    """The market's price tick from the venue's offline specs; None when unknown (2 dp then)."""
    try:
        from adapters.specs import load_spec_book

        return load_spec_book(venue, context.settings()).get(symbol).price_tick
    except MicrofutError:
        return None


def px(row: dict[str, Any], value: Decimal | None) -> str:
    """A price of the row's market for display: to the tick."""
    from sim.display import price

    return fmt(price(value, _tick(row.get("venue") or "", row["symbol"])))


def cash(value: Decimal | None, currency: str) -> str:
    """Money for display: cents for USD-like currencies, satoshis for coins."""
    from sim.display import money

    return "-" if value is None else format(money(value, currency), ",f")


def held(contracts: Decimal | None) -> str:
    """A signed position as size and side (``0.2 short``)."""
    if contracts is None:
        return "-"
    side = "long" if contracts > 0 else "short" if contracts < 0 else "flat"
    return f"{fmt(abs(contracts))} {side}" if contracts else "flat"


def sizes(row: dict[str, Any]) -> str:
    """Contracts traded into the trade / the largest size held (they differ when scaled)."""
    traded = row.get("size_traded")
    most = abs(row["contracts"])
    return fmt(most) if traded is None or traded == most else f"{fmt(traded)} / {fmt(most)}"


def trade_json(row: dict[str, Any]) -> dict[str, Any]:
    from sim.review import stats

    out = {k: v for k, v in row.items() if k not in ("opened", "closed", "r")}
    out["r_multiple"] = stats.r_multiple(row["net_pnl"], row.get("risk_at_open"))
    return out


def trade_table(t: dict[str, Any], tags: list[str], r_mult: Decimal | None) -> Any:
    """One trade's figures: sizes, leverage and risk AT OPEN beside the averages."""
    cur = t["currency"]
    lev_open = t.get("leverage_at_open", t["leverage"])
    lev = f"{fmt(lev_open)}x {t['margin_mode']} at open"
    if lev_open != t["leverage"]:
        lev += f" ({fmt(t['leverage'])}x at close)"
    traded = t.get("size_traded", abs(t["contracts"]))
    rows = [
        ("side", t["side"]),
        ("opened / closed", f"{ts_text(t['open_ts_ms'])} / {ts_text(t['close_ts_ms'])}"),
        ("multiplier", fmt(t["contract_size"])),
        ("contracts traded / max held", f"{fmt(traded)} / {fmt(abs(t['contracts']))}"),
        ("leverage / margin", lev),
        ("entry at open", f"{px(t, t.get('entry_at_open'))} × {fmt(t.get('contracts_at_open'))}"),
        ("entry (average) / exit", f"{px(t, t['entry_price'])} / {px(t, t['exit_price'])}"),
        ("stop at entry", px(t, t["stop_at_entry"])),
        ("risk at open", cash(t.get("risk_at_open"), cur)),
        ("realized (gross)", cash(t["realized_pnl"], cur)),
        ("fees", cash(t["fees"], cur)),
        ("funding", cash(t["funding"], cur)),
        ("net", f"{cash(t['net_pnl'], cur)} {cur}"),
        ("R (on risk at open)", r_text(r_mult)),
        ("exit reason", t["exit_reason"]),
        ("tags", ", ".join(tags) or "-"),
    ]
    title = f"trade {t['id']} ({t['trade_key']}) {t['account']} {t['venue']} {t['symbol']}"
    return kv_table(title, rows)


def rate_pct(rate: Decimal | None) -> str:
    """A funding rate as the desk shows it: percent per interval (0.01%)."""
    return "-" if rate is None else f"{(rate * PCT).normalize():f}%"


def story_tables(story: dict[str, Any]) -> None:
    from sim.display import compact, short_time

    t = story["trade"]
    cur = t["currency"]
    orders = [
        [
            *(o["seq"], short_time(o["ts_ms"], seconds=True), o["order_id"], o["event"], o["side"]),
            *(o["order_type"], o["contracts"], px(t, o["price"]), px(t, o["trigger_price"])),
            o["reason"] or o["guard"],
        ]
        for o in story["orders"]
    ]
    cols = ["seq", "time", "order", "event", "side", "type", "contracts", "price", "trigger"]
    render.stdout.print(compact(grid_table("orders (UTC)", [*cols, "reason"], orders)))
    fills = [
        [
            *(
                f["seq"],
                short_time(f["ts_ms"], seconds=True),
                f["order_id"],
                f["side"],
                f["contracts"],
            ),
            *(px(t, f["price"]), cash(f["fee"], cur), f["liquidity"]),
            *(cash(f["realized_pnl"], cur), held(f["position_after"])),
            f["reason"],
        ]
        for f in story["fills"]
    ]
    cols = ["seq", "time", "order", "side", "contracts", "price", "fee", "liquidity", "realized"]
    render.stdout.print(compact(grid_table("fills (UTC)", [*cols, "position", "reason"], fills)))
    if story["funding"]:
        rows = [
            [
                ts_text(f["funding_time_ms"]),
                rate_pct(f["rate"]),
                px(t, f["mark_price"]),
                held(f["contracts"]),
                cash(f["amount"], cur),
            ]
            for f in story["funding"]
        ]
        cols = ["time", "rate", "mark", "contracts", "amount"]
        render.stdout.print(grid_table("funding", cols, rows))
    for liq in story["liquidations"]:
        prices = ("mark_price", "liquidation_price", "close_price")
        moneys = ("cum", "wallet_before", "loss", "fee")
        shown = [(k, px(t, liq[k])) for k in prices]
        shown += [(k, liq[k]) for k in ("tier", "mmr")]
        shown += [(k, cash(liq[k], cur)) for k in moneys] + [("rule", liq["rule"])]
        render.stdout.print(kv_table("liquidation (full digits: --json)", shown))
    changes = story.get("leverage_changes") or []
    if changes:
        rows_l = [
            [c["seq"], short_time(c["ts_ms"], seconds=True), f"{fmt(c['leverage'])}x",
             c["margin_mode"]]
            for c in changes
        ]  # fmt: skip
        cols_l = ["seq", "time", "leverage", "margin"]
        render.stdout.print(grid_table("leverage changes during the trade", cols_l, rows_l))
    for note in story["notes"]:  # the trader's words verbatim: "[stop moved]" is not markup
        render.stdout.print(
            f"note {note['id']} ({ts_text(note['written_ms'])}): {note['text']}",
            markup=False, highlight=False,
        )  # fmt: skip


def status_mark(status: str | None) -> str:
    """The mark after an account whose latest run was stopped by Ctrl-C or by its strategy
    raising (empty otherwise)."""
    return f" ({status})" if status in ("interrupted", "failed") else ""


def share(value: Decimal | None, gross: Decimal) -> str:
    """A share of gross P&L, or why there is none (gross ≈ 0)."""
    if value is None and gross != 0:
        return "- : gross below it"
    return pct(value)


def _ids(values: list[int]) -> str:
    return ", ".join(str(v) for v in values) or "none"


def print_report(rep: stats.AccountReport) -> None:
    s, d = rep.summary, rep.discipline

    def _money(value: Decimal | None) -> str:
        return cash(value, rep.currency)

    start = rep.since_ms if rep.since_ms is not None else rep.first_open_ms
    end = rep.until_ms if rep.until_ms is not None else rep.last_close_ms
    period = f"{ts_text(start) if start else '-'} → {ts_text(end) if end else '-'} UTC"
    rows = [
        ("period", period),
        ("trades (won / lost / even)", f"{s.trades} ({s.wins} / {s.losses} / {s.breakeven})"),
        ("win rate", pct(s.win_rate)),
        ("average win / loss", f"{_money(s.average_win)} / {_money(s.average_loss)}"),
        ("expectancy per trade", _money(s.expectancy)),
        ("profit factor", fmt(s.profit_factor, 2)),
        ("average R", r_text(s.average_r)),
        ("gross P&L", _money(s.gross_pnl)),
        ("fees (share of gross)", f"{_money(s.fees)} ({share(s.fee_share, s.gross_pnl)})"),
        ("funding (share paid)", f"{_money(s.funding)} ({share(s.funding_share, s.gross_pnl)})"),
        ("net P&L", f"{_money(s.net_pnl)} {rep.currency}"),
        ("equity start → end", f"{_money(s.starting_balance)} → {_money(s.ending_equity)}"),
        ("max drawdown (at closes)", f"{_money(s.max_drawdown)} ({fmt(s.max_drawdown_pct, 1)}%)"),
        ("leverage average / max", f"{fmt(s.average_leverage, 1)}x / {fmt(s.max_leverage)}x"),
    ]
    title = f"journal report: {rep.account}{status_mark(rep.status)}"
    render.stdout.print(kv_table(title, rows))
    render.stdout.print(grid_table("R distribution", ["R", "trades"], rep.r_distribution))
    for title, groups in (
        ("by symbol", rep.by_symbol),
        ("by tag", rep.by_tag),
        ("by weekday (entry, UTC)", rep.by_weekday),
        ("by hour (entry, UTC)", rep.by_hour),
        ("by month (close)", rep.by_month),
        ("by leverage", rep.by_leverage),
    ):
        rows_g = [
            [g.key, g.trades, pct(g.win_rate), _money(g.net_pnl), r_text(g.average_r)]
            for g in groups
        ]
        render.stdout.print(grid_table(title, ["", "trades", "win rate", "net", "avg R"], rows_g))
    render.stdout.print(
        kv_table(
            "discipline review",
            [
                (f"risked more than {fmt(d.risk_pct)}%", _ids(d.over_risk)),
                ("no stop at entry", _ids(d.without_stop)),
                ("liquidated", _ids(d.liquidated)),
                ("first trade after a loss lock", _ids(d.after_loss_lock)),
                ("orders denied by guards", str(d.guard_denials)),
            ],
        )
    )
