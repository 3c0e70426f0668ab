"""What the API and the websocket send: the account, positions, orders, trades and the report.

Plain dicts, Decimals as strings (``display.to_jsonable``), times as epoch milliseconds. The
position rows carry the same numbers as the terminal desk's table (``sim/desk/app.py``): the
engine's own liquidation price, its distance from mark, the bracket stop and take-profit.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from adapters.candles import file_stem
from sim.desk.panels import brackets, liq_distance, position_margin
from sim.display import to_jsonable
from sim.engine.money import ZERO
from sim.web.kernel import Venue, WebDesk

OPEN_PREFIX = "open-"  # the id of a still-open trade in the journal pages: open-ETH_USDT_USDT


def clock_view(desk: WebDesk) -> dict[str, Any] | None:
    clock = desk.clock
    if clock is None:
        return None
    return {"paused": clock.paused, "speed": clock.speed, "bar_ms": clock.bar_ms,
            "next_ms": clock.next_ms}  # fmt: skip


def _venue_account(desk: WebDesk, v: Venue) -> dict[str, Any]:
    s = v.session
    cur = s.options.currency
    g = s.guards
    locked = bool(g.locked and g.state.locked_until_ms is not None)
    return {
        "account": s.options.account, "venue": v.name, "currency": cur,
        "source": v.source, "feed": v.feed_state,
        "wallets": s.account.wallets(), "equity": s.equity(), "available": s.account.available(cur),
        "guards": {
            "day_result": g.day_result, "loss_limit": g.loss_limit,
            "trades_today": g.state.trades_today,
            "max_trades_per_day": g.limits.max_trades_per_day or None,
            "locked": locked, "locked_until_ms": g.state.locked_until_ms if locked else None,
        },
        "symbols": v.symbols,
    }  # fmt: skip


def account_view(desk: WebDesk) -> dict[str, Any]:
    """Wallets, equity, available margin, the guards and the replay clock: the first venue's
    at the top (the only one on a single-venue desk), every venue's under ``venues``."""
    first = _venue_account(desk, desk.venues[0])
    return to_jsonable({
        **first, "source": desk.source, "feed": desk.feed_state, "now_ms": desk.now_ms,
        "clock": clock_view(desk),
        "venues": [_venue_account(desk, v) for v in desk.venues],
        "markets": [{"venue": v.name, "symbol": sym} for v in desk.venues for sym in v.symbols],
    })  # fmt: skip


def _liq_note(p: Any) -> str:
    """Why a position has no liquidation price (the desk shows "-" there)."""
    if p.liquidation_price is not None:
        return ""
    if p.margin_mode == "cross":
        return "none: the cross wallet covers a move to zero"
    return "none: the margin covers a move to zero"


def trade_ref(desk: WebDesk, v: Venue, symbol: str) -> str:
    """The journal-page id of a still-open trade: open-STEM (open-VENUE.STEM past the first)."""
    stem = file_stem(symbol)
    return OPEN_PREFIX + (stem if v is desk.venues[0] else f"{v.name}.{stem}")


def positions_view(desk: WebDesk) -> list[dict[str, Any]]:
    """Open positions on every venue: contracts, multiplier, notional, entry, mark, uPnL,
    margin, liquidation price and distance, brackets."""
    out = []
    for v in desk.venues:
        acct = v.session.account
        orders = acct.open_orders()
        for p in acct.positions():
            stop, tp = brackets(orders, p.symbol)
            out.append({
                "venue": v.name, "account": v.session.options.account,
                "symbol": p.symbol, "trade": trade_ref(desk, v, p.symbol), "side": p.side,
                "contracts": p.contracts, "multiplier": p.contract_size, "notional": p.notional,
                "entry": p.entry_price, "mark": p.mark_price, "upnl": p.unrealized_pnl,
                "margin": position_margin(p), "margin_ratio": p.margin_ratio,
                "liquidation_price": p.liquidation_price,
                "liquidation_distance_pct": liq_distance(p), "liquidation_note": _liq_note(p),
                "leverage": p.leverage, "margin_mode": p.margin_mode, "stop": stop,
                "take_profit": tp, "funding": p.funding, "currency": p.currency,
            })  # fmt: skip
    return to_jsonable(out)


def orders_view(desk: WebDesk) -> list[dict[str, Any]]:
    """Working orders in the order they were placed (ids as the desk's cancel/amend take; an
    id is its venue's: cancel on another venue names it)."""
    return [
        {**o.to_dict(), "venue": v.name}
        for v in desk.venues
        for o in v.session.account.open_orders()
    ]


def echo_view(echo: Any) -> dict[str, Any]:
    """An order's echo: the desk's line plus its numbers."""
    return to_jsonable({"line": echo.line(), "symbol": echo.symbol, "side": echo.side,
                        "order_type": echo.order_type, "contracts": echo.contracts,
                        "multiplier": echo.contract_size, "price": echo.shown(echo.price),
                        "notional": echo.notional, "margin": echo.margin,
                        "leverage": echo.leverage, "margin_mode": echo.margin_mode,
                        "liquidation_price": echo.shown(echo.liquidation_price),
                        "note": echo.note})  # fmt: skip


def state_view(desk: WebDesk, log_from: int = 0) -> dict[str, Any]:
    """Everything the desk page shows, pushed over the websocket on each change."""
    by_venue: dict[str, dict[str, Any]] = {}
    for v in desk.venues:
        acct = v.session.account
        by_venue[v.name] = {
            sym: {"last": b.last if (b := acct.books.get(sym)) else None,
                  "mark": acct.marks.get(sym),
                  "bid": b.touch("sell") if b else None, "ask": b.touch("buy") if b else None}
            for sym in v.symbols
        }  # fmt: skip
    return {
        "version": desk.version,
        "account": account_view(desk),
        "positions": positions_view(desk),
        "orders": orders_view(desk),
        "prices": to_jsonable(by_venue[desk.venues[0].name]),
        "venue_prices": to_jsonable(by_venue),
        "fills": desk.fills,
        "log": desk.lines_since(log_from) if log_from < desk.logged else [],
        "logged": desk.logged,
    }


# ---- the journal ----------------------------------------------------------------------------
def outcome_of(net: Decimal | None) -> str:
    if net is None:
        return "open"
    return "win" if net > 0 else "loss" if net < 0 else "breakeven"


def _opened_ms(desk: WebDesk, account: str, symbol: str) -> int | None:
    """When the open trade in ``symbol`` began: its first fill not yet in a closed trade."""
    fills = _unclaimed(desk, "fills", account, symbol)
    return int(fills[0]["ts_ms"]) if fills else None


def open_trades(desk: WebDesk, symbol: str | None) -> list[dict[str, Any]]:
    """Open positions as journal rows (outcome "open"), so a trade shows up when it opens."""
    rows = []
    for p in positions_view(desk):
        if symbol and p["symbol"] != symbol:
            continue
        rows.append({"id": p["trade"], "account": p["account"], "venue": p["venue"],
                     "symbol": p["symbol"], "side": p["side"], "contracts": p["contracts"],
                     "entry_price": p["entry"], "exit_price": None, "net_pnl": p["upnl"],
                     "r_multiple": None, "outcome": "open", "tags": [],
                     "open_ts_ms": _opened_ms(desk, p["account"], p["symbol"]),
                     "close_ts_ms": None, "exit_reason": "",
                     "currency": p["currency"], "leverage": p["leverage"]})  # fmt: skip
    return rows


def trades_view(
    desk: WebDesk, symbol: str | None = None, tag: str | None = None,
    since_ms: int | None = None, until_ms: int | None = None, outcome: str | None = None,
) -> list[dict[str, Any]]:  # fmt: skip
    """Closed trades of this account (newest first) plus open ones, filtered."""
    from sim.review import frames, stats

    out = []
    for v in desk.venues:
        account = v.session.options.account
        frame = frames.trades_frame(v.session.journal, account, symbol, tag, since_ms, until_ms)
        for r in frame.to_dict("records"):
            row = {k: x for k, x in r.items() if k not in ("opened", "closed")}
            row["venue"] = v.name
            row["r_multiple"] = stats.r_multiple(r["net_pnl"], r["risk_at_entry"])
            row["outcome"] = outcome_of(r["net_pnl"])
            out.append(row)
    out.sort(key=lambda r: (r["close_ts_ms"] or 0, r["id"]))
    out.reverse()
    if not tag and since_ms is None and until_ms is None:
        out = open_trades(desk, symbol) + out
    if outcome:
        out = [r for r in out if r["outcome"] == outcome]
    return to_jsonable(out)


def fills_view(
    desk: WebDesk, symbol: str | None, n: int, venue: str | None = None
) -> list[dict[str, Any]]:
    """The venue's account's last ``n`` fills (oldest first), for the chart's markers."""
    from sqlalchemy import select

    from sim.review.frames import FILLS, _records

    stmt = select(FILLS).where(FILLS.c.account == desk.venue(venue).session.options.account)
    if symbol:
        stmt = stmt.where(FILLS.c.symbol == symbol)
    rows = _records(desk.session.journal, FILLS, stmt.order_by(FILLS.c.seq.desc()).limit(n))
    return to_jsonable(rows[::-1])


def _unclaimed(desk: WebDesk, table: str, account: str, symbol: str) -> list[dict[str, Any]]:
    """Journal rows of the open trade in ``symbol`` (not yet claimed by a closed trade)."""
    from sqlalchemy import select

    from sim.review.frames import FILLS, FUNDING, ORDERS, _records

    t = {"fills": FILLS, "funding": FUNDING, "orders": ORDERS}[table]
    stmt = select(t).where(t.c.account == account, t.c.symbol == symbol,
                           t.c.trade_id.is_(None)).order_by(t.c.seq)  # fmt: skip
    return _records(desk.session.journal, t, stmt)


def open_trade_view(desk: WebDesk, ref: str) -> dict[str, Any] | None:
    """The still-open trade ``open-STEM``: its position, fills, funding and orders so far."""
    pos = next((p for p in positions_view(desk) if p["trade"] == ref), None)
    if pos is None:
        return None
    account = pos["account"]
    fills = _unclaimed(desk, "fills", account, pos["symbol"])
    return to_jsonable({
        "trade": {"id": ref, "symbol": pos["symbol"], "side": pos["side"],
                  "contracts": pos["contracts"], "entry_price": pos["entry"],
                  "exit_price": None, "open_ts_ms": fills[0]["ts_ms"] if fills else None,
                  "close_ts_ms": None, "net_pnl": pos["upnl"], "outcome": "open",
                  "stop_at_entry": pos["stop"], "take_profit": pos["take_profit"],
                  "liquidation_price": pos["liquidation_price"], "leverage": pos["leverage"],
                  "margin_mode": pos["margin_mode"], "currency": pos["currency"],
                  "exit_reason": "", "venue": pos["venue"], "account": account,
                  "fees": sum((Decimal(str(f["fee"])) for f in fills), ZERO),
                  "funding": pos["funding"]},
        "position": pos, "tags": [], "notes": [], "fills": fills,
        "funding": _unclaimed(desk, "funding", account, pos["symbol"]),
        "orders": _unclaimed(desk, "orders", account, pos["symbol"]), "liquidations": [],
        "editable": False,
    })  # fmt: skip


def _entry_liq(desk: WebDesk, story: dict[str, Any]) -> Decimal | None:
    """The liquidation price when the trade opened, by the venue's rule (cross: that wallet)."""
    from sim.engine.sizing import quote_liquidation
    from sim.errors import MicrofutError

    t = story["trade"]
    venue = next((v for v in desk.venues if v.session.options.account == t["account"]), None)
    spec = venue.session.account.specs.get(t["symbol"]) if venue is not None else None
    if spec is None or not story["fills"] or not t["leverage"]:
        return None
    mode = t["margin_mode"] or "cross"
    wallet = story["fills"][0]["wallet_after"] if mode == "cross" else None
    try:
        q = quote_liquidation(spec, side=t["side"], entry=t["entry_price"],
                              contracts=abs(t["contracts"]), leverage=t["leverage"],
                              margin_mode=mode, wallet=wallet)  # fmt: skip
    except MicrofutError:
        return None
    return q.liquidation_price


def trade_view(desk: WebDesk, ref: str) -> dict[str, Any] | None:
    """One trade with everything about it; None when there is no such trade."""
    from sim.errors import InputError
    from sim.review import frames, stats

    if ref.startswith(OPEN_PREFIX):
        return open_trade_view(desk, ref)
    try:
        story = frames.trade_story(desk.session.journal, ref)
    except InputError:
        return None
    t = story["trade"]
    t["venue"] = next((v.name for v in desk.venues if v.session.options.account == t["account"]),
                      None)  # fmt: skip
    t["outcome"] = outcome_of(t["net_pnl"])
    t["r_multiple"] = stats.r_multiple(t["net_pnl"], t["risk_at_entry"])
    placed = [o for o in story["orders"] if o["event"] == "accepted"]
    t["take_profit"] = next((o["take_profit"] for o in placed if o["take_profit"]), None)
    if t["take_profit"] is None:
        tps = [o for o in placed if o["order_type"].startswith("take_profit")]
        t["take_profit"] = tps[0]["trigger_price"] if tps else None
    liq = story["liquidations"]
    t["liquidation_price"] = liq[0]["liquidation_price"] if liq else _entry_liq(desk, story)
    story["editable"] = True
    return to_jsonable(story)


def report_view(desk: WebDesk, risk_pct: Decimal, venue: str | None = None) -> dict[str, Any]:
    """A venue's account's report (the first venue's by default): equity and drawdown,
    R-multiples, discipline (journal report); ``venues`` lists what else can be asked for."""
    from sim.review import frames, stats

    v = desk.venue(venue)
    s = v.session
    name = s.options.account
    journal = s.journal
    trades = frames.trades_frame(journal, name)
    start = frames.starting_balances(journal).get(name) or ZERO
    locks, denials = frames.guard_times(journal, name)
    rep = stats.account_report(trades, name, start, risk_pct, locks, denials)
    rep = replace(rep, status=journal.session_statuses().get(name, ""))
    out = to_jsonable(rep)
    # where the equity curve starts: the starting balance when the first trade opened
    out["first_open_ms"] = int(trades["open_ts_ms"].min()) if len(trades) else None
    out["currency"] = out["currency"] or s.options.currency  # no trade yet: the desk's own
    out["venue"] = v.name
    out["venues"] = [x.name for x in desk.venues]
    return out
