"""Generated test orders for the busy replay benchmark (not trading advice, not real orders).

``busy_orders`` writes, on the REAL recorded BTC/ETH 1m month, one order per symbol every
``every_min`` minutes (>= 1,000 in all), cycling through: a market entry with a stop-loss and
take-profit bracket, a limit entry with a bracket, a stop-market entry, a trailing stop on the
position, and a plain limit on the other side; both symbols in CROSS margin (one wallet); and,
three days before the end, a 125x cross position large enough that the move liquidates it.
Prices are set from the bar's close at the order's time, rounded by the spec.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sim.engine.commands import Deposit, PlaceOrder
from sim.engine.spec import ContractSpec

D = Decimal
NAME = "generated test orders (busy replay benchmark)"


def busy_orders(
    candles: list[Any], spec_of: dict[str, ContractSpec], every_min: int = 60
) -> list[tuple[int, int, object]]:
    """(ts, priority, input) rows: a deposit, then the generated orders (see module doc)."""
    start = min(int(c.ts[0]) for c in candles)
    end = min(int(c.ts[-1]) for c in candles)
    out: list[tuple[int, int, object]] = [
        (start, -1, Deposit(ts_ms=start, currency="USDT", amount=D(3_000), reason="bench"))
    ]
    n = 0
    for c in candles:
        spec = spec_of[c.symbol]
        size = spec.round_contracts(D(300) / c.bar(0)[3])  # ~300 USDT a ticket

        def at(px: Decimal, pct: str, spec: ContractSpec = spec) -> Decimal:
            return spec.round_price(px * (1 + D(pct) / 100))

        first = True
        for i in range(60, len(c.ts), every_min):
            ts = int(c.ts[i])
            if ts > end - 3 * 86_400_000:
                break
            px = c.bar(i - 1)[3]
            kind = n % 5
            n += 1
            common: dict[str, Any] = {"ts_ms": ts, "symbol": c.symbol, "tag": "bench"}
            if first:
                common |= {"leverage": D(10), "margin_mode": "cross"}
                first = False
            side = "buy" if (i // every_min) % 2 else "sell"
            sign = "" if side == "buy" else "-"
            anti = "-" if side == "buy" else ""
            if kind == 0:
                cmd = PlaceOrder(side=side, order_type="market", contracts=size,  # type: ignore[arg-type]
                                 stop_loss=at(px, f"{anti}1.5"), take_profit=at(px, f"{sign}2"),
                                 **common)  # fmt: skip
            elif kind == 1:
                cmd = PlaceOrder(side=side, order_type="limit", contracts=size,  # type: ignore[arg-type]
                                 price=at(px, f"{anti}0.3"), stop_loss=at(px, f"{anti}1.8"),
                                 take_profit=at(px, f"{sign}1.5"), **common)  # fmt: skip
            elif kind == 2:
                cmd = PlaceOrder(side=side, order_type="stop_market", contracts=size,  # type: ignore[arg-type]
                                 trigger_price=at(px, f"{sign}0.8"), **common)  # fmt: skip
            elif kind == 3:
                cmd = PlaceOrder(side="sell" if side == "buy" else "buy",
                                 order_type="trailing_stop_market", contracts=size,
                                 callback_pct=D("0.8"), reduce_only=True, **common)  # fmt: skip
            else:
                cmd = PlaceOrder(side=side, order_type="limit", contracts=size,  # type: ignore[arg-type]
                                 price=at(px, f"{anti}1"), **common)  # fmt: skip
            out.append((ts, 1, cmd))
    # three days before the end: a 125x cross position of ~110k USDT on BTC (wallet ~3k): its
    # liquidation sits ~1-2 % away, on the side where the recorded prices went furthest after
    btc = next(c for c in candles if c.symbol.startswith("BTC/"))
    i = next(k for k, t in enumerate(btc.ts) if int(t) >= end - 3 * 86_400_000)
    px = btc.bar(i - 1)[3]
    low, high = float(btc.low[i:].min()), float(btc.high[i:].max())
    side = "buy" if float(px) - low > high - float(px) else "sell"
    big = spec_of[btc.symbol].round_contracts(D(110_000) / px)
    ts = int(btc.ts[i])
    liq = PlaceOrder(ts_ms=ts, symbol=btc.symbol, side=side, order_type="market",  # type: ignore[arg-type]
                     contracts=big, leverage=D(125), tag="bench-liquidation")  # fmt: skip
    out.append((ts, 1, liq))
    for n, amount in enumerate((1600, 800, 400, 200, 100)):  # then withdraw what is free
        out.append((ts + 1 + n, 1, Deposit(ts_ms=ts + 1 + n, currency="USDT", amount=-D(amount),
                                           reason="bench withdrawal")))  # fmt: skip
    return out
