"""Half-line bounds of the prices that can change an account: what a candle replay skips by.

Everything that acts at a price acts on one side of a level: a stop fires at or beyond its
trigger, a limit fills through its price, a position liquidates at or beyond its liquidation
price, a trailing stop moves its extreme beyond the extreme and fires back at the callback.
So for each symbol two numbers say where nothing can happen: ``down < price < up``. A row
whose price range stays strictly inside is quiet. Unlike single levels (``views.quiet_levels``)
a half-line also catches a level that already lies beyond the price (a command, a funding
payment or a fill moved it), so the replay need not play a row after every change.

A trailing stop's extreme follows the prices without any event; it is kept as a *moving*
bound: the extreme so far (running max of the highs for a sell, min of the lows for a buy)
times the callback factor (``triggers.first_escape``), and the replay plays the skipped
extremes before anything else happens, so the order's extreme ends where every bar would
have left it. A cross position sharing its wallet gets the edges of a band around its mark
(``cross_bands``). Floats only search; every bound is met with widened ranges.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING

from sim.engine.orders import Order, fires_upward
from sim.engine.risk import liquidation_price
from sim.engine.triggers import Bounds, cross_group, wallet_bands

if TYPE_CHECKING:
    from sim.engine.matching import Matching
    from sim.engine.state import AccountState

# Relative half-widths tried for the cross bands, widest first: a wide band is left rarely.
WIDE_BANDS = tuple(Decimal(x) for x in ("0.1", "0.05", "0.02", "0.01", "0.005", "0.002", "0.001"))


EMPTY = Bounds()


def cross_bands(
    acct: AccountState, settle: str, widths: Iterable[Decimal] = WIDE_BANDS
) -> dict[str, tuple[Decimal, Decimal]] | None:
    """Band edges of every cross position of the ``settle`` wallet (``triggers`` explains the
    test); {} when fewer than two share it, None when no width holds or a mark is missing."""
    group = cross_group(acct, settle)
    if len(group) < 2:
        return {}
    return wallet_bands(acct, group, widths)


# Events that change orders only: the positions, the wallet and so the liquidation prices and
# cross bands stay what they were (``position_bounds`` need not be drawn again).
ORDER_ONLY = frozenset(
    {
        "OrderAccepted",
        "OrderAmended",
        "OrderCancelled",
        "OrderExpired",
        "OrderTriggered",
        "OrderRejected",
        "OrderDenied",
        "CommandRejected",
    }
)


def quiet_bounds(
    acct: AccountState, matching: Matching, symbols: Iterable[str]
) -> dict[str, Bounds | None]:
    """Each symbol's bounds (None: every price matters): its position's and its orders'."""
    symbols = list(symbols)
    held = position_bounds(acct, symbols)
    return {s: combine(held[s], order_bounds(matching, s)) for s in symbols}


def position_bounds(acct: AccountState, symbols: Iterable[str]) -> dict[str, Bounds | None]:
    """The position side of each symbol's bounds: its liquidation price or its cross band
    (a wallet's bands drawn once); they change only with the wallet, a position or a mark
    of a banded wallet."""
    bands: dict[str, dict[str, tuple[Decimal, Decimal]] | None] = {}
    out: dict[str, Bounds | None] = {}
    for symbol in symbols:
        pos = acct.positions_by_symbol.get(symbol)
        if pos is None or pos.contracts == 0:
            out[symbol] = EMPTY
            continue
        settle = acct.specs[symbol].settle
        if pos.margin_mode == "cross" and settle not in bands:
            bands[settle] = cross_bands(acct, settle)
        drawn = bands.get(settle, {}) if pos.margin_mode == "cross" else {}
        if drawn is None:
            out[symbol] = None  # no band holds: every price matters
        elif symbol in drawn:
            lo, hi = drawn[symbol]
            out[symbol] = Bounds(float(lo), float(hi), band=True)
        else:
            lp = liquidation_price(acct, symbol)
            if lp is None:
                out[symbol] = EMPTY
            elif pos.contracts > 0:
                out[symbol] = Bounds(down=float(lp))
            else:
                out[symbol] = Bounds(up=float(lp))
    return out


def order_bounds(matching: Matching, symbol: str) -> Bounds | None:
    """The orders side of one symbol's bounds, from the levels the matching itself skips by
    (``Matching.quiet_orders``); changes only with its orders' events and, for a trailing
    stop, with its prices."""
    down, up, trailing = matching.quiet_orders(symbol)
    lo = -math.inf if down is None else float(down)
    hi = math.inf if up is None else float(up)
    trails: dict[str, list[tuple[float, float]]] = {"high": [], "low": []}
    for o in trailing:
        got = _order_bound(o)
        if got is None:
            continue
        what, level, factor = got
        if what == "all":
            return None
        if what == "down":
            lo = max(lo, level)
        elif what == "up":
            hi = min(hi, level)
        else:
            trails[what].append((level, factor))
    return Bounds(lo, hi, tuple(trails["high"]), tuple(trails["low"]))


def combine(a: Bounds | None, b: Bounds | None) -> Bounds | None:
    """Both bounds at once (None: every price matters)."""
    if a is None or b is None:
        return None
    return Bounds(
        max(a.down, b.down),
        min(a.up, b.up),
        a.trail_high + b.trail_high,
        a.trail_low + b.trail_low,
        a.band or b.band,
    )


def _order_bound(o: Order) -> tuple[str, float, float] | None:
    """Which bound one working order sets: ("down"/"up", level, 0), a trailing stop's
    ("high"/"low", extreme, factor), ("all", ...) when every price matters, None for none."""
    if o.order_type == "trailing_stop_market":
        if not o.needs_trigger:
            return None
        selling = o.side == "sell"
        if o.trail_extreme is None:
            if o.trigger_price is None:
                return ("all", 0.0, 0.0)  # the next price sets the extreme
            # inactive: it starts to trail at or beyond its activation price
            return ("up" if selling else "down", float(o.trigger_price), 0.0)
        if o.callback_pct is None:
            return ("all", 0.0, 0.0)
        back = float(o.callback_pct) / 100
        if selling:
            return ("high", float(o.trail_extreme), 1 - back)
        return ("low", float(o.trail_extreme), 1 + back)
    if o.needs_trigger:
        if o.trigger_price is None:
            return None
        return ("up" if fires_upward(o) else "down", float(o.trigger_price), 0.0)
    if o.price is not None:  # a resting limit fills when the price trades through it
        return ("down" if o.side == "buy" else "up", float(o.price), 0.0)
    return None
