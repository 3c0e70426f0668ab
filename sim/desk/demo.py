"""The scripted demo: one short practice session on real recorded BTC and ETH prices.

The script types what a trader would type at the desk (``DeskSession.submit``) at fixed moments
of the recorded 1 h candles of March 2025, while the candles, the real 8 h funding rates and the
real 8 h mark prices play through the same session (``pricepath``: each bar as four points, the
adverse extreme first). The scenes: a BTC long sized at 1 % risk, scaled in with a limit ladder,
an ETH hedge, funding at 16:00 and 00:00, the stop hit, then a 50x long lost to liquidation,
which trips the daily loss limit, so the next entry is denied. The mark rule is the one of
``microfut replay`` (same account flag, same ``pricepath`` inputs, same words in the notes):
between the recorded 8 h mark prices the last price stands in for mark; at funding instants
the recorded mark is used. The liquidation scene opens when the engine liquidated, so its
time and price are the engine's. Every figure shown comes from the engine's events; the same
data gives the same output.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from adapters.candles import candle_root
from adapters.pricepath import discover, replay_notes
from adapters.specs import SpecBook
from sim.desk.replaying import Player
from sim.desk.session import DeskOptions, DeskSession, Reply
from sim.display import fmt
from sim.engine.events import Event, OrderAccepted, PositionLiquidated
from sim.engine.market import Heartbeat
from sim.errors import DataError, InvariantError

SYMBOLS = ("BTC/USDT:USDT", "ETH/USDT:USDT")
TIMEFRAME = "1h"
ACCOUNT = "demo"
QUARTER_MS = 15 * 60 * 1000
HOUR_MS = 60 * 60 * 1000
WHERE_TO_GET = (
    "the demo plays the recorded Binance BTC/ETH candles (ohlcv/binance_usdm/"
    "BTC_USDT_USDT-1h-futures, with the 8h funding_rate and mark series), which ship with "
    "microfut; pass --data PATH to a folder holding them"
)


def utc_ms(text: str) -> int:
    """'2025-03-06 15:00' (UTC) as epoch milliseconds."""
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def find_demo_data(data: Path | None, dirs: Sequence[Path]) -> Path:
    """The folder holding the recorded BTC 1 h candles; DataError saying where to get it."""
    roots = [data] if data is not None else list(dirs)
    root = candle_root(roots, SYMBOLS[:1], TIMEFRAME)
    if root is not None:
        return root
    where = str(data) if data is not None else ", ".join(str(d) for d in dirs) or "nowhere"
    raise DataError(f"no recorded BTC/ETH 1h candles in {where}; {WHERE_TO_GET}")


@dataclass
class Scene:
    """One moment of the demo: what the trader thinks, types, and what the market did after."""

    at_ms: int
    say: str
    typed: list[tuple[str, Reply]] = field(default_factory=list)
    log: list[str] = field(default_factory=list)


class Demo:
    """The script, with the scenes it produced."""

    def __init__(self, desk: DeskSession, player: Player) -> None:
        self.desk = desk
        self.player = player
        self.scenes: list[Scene] = []

    def scene(self, at: str | int, say: str) -> Scene:
        """Play the market up to ``at`` (text or epoch ms) and open a new scene there."""
        at_ms = utc_ms(at) if isinstance(at, str) else at
        self._close_scene(at_ms)
        self.desk.feed(Heartbeat(at_ms, self.desk.book.exchange))
        s = Scene(at_ms, say)
        self.scenes.append(s)
        return s

    def _close_scene(self, until_ms: int) -> None:
        start = self.desk.logged
        self.player.play_until(until_ms)
        if self.scenes:
            self.scenes[-1].log += self.desk.lines_since(start)

    def until_liquidated(self, limit: str) -> PositionLiquidated:
        """Play the market until the engine liquidates a position (before ``limit``)."""
        start = self.desk.logged
        hit = self.player.play_until_event(PositionLiquidated, utc_ms(limit))
        self.player.play_until(hit.ts_ms + 1 if hit is not None else utc_ms(limit))
        self.scenes[-1].log += self.desk.lines_since(start)
        if hit is None:
            raise InvariantError(f"the demo's 50x long was not liquidated before {limit} UTC")
        return hit

    def type(self, line: str) -> Reply:
        """Type a line at the desk, as the trader would."""
        before = self.desk.logged
        reply = self.desk.submit(line)
        scene = self.scenes[-1]
        scene.typed.append((line, reply))
        scene.log += self.desk.lines_since(before)
        return reply

    def finish(self, at: str | int) -> None:
        self._close_scene(utc_ms(at) if isinstance(at, str) else at)


def price_text(value: Decimal) -> str:
    """A price to the cent, as the desk log shows it."""
    return fmt(value.quantize(Decimal("0.01")))


def _stop_child(reply: Reply) -> str:
    """The id of the stop-loss the engine attached to an entry (from its events)."""
    for e in reply.events:
        if isinstance(e, OrderAccepted) and e.parent_id and e.order_type == "stop_market":
            return e.order_id
    raise InvariantError("the demo entry got no attached stop-loss from the engine")


def contract_lesson(desk: DeskSession, symbol: str) -> str:
    """The product's lesson in numbers at today's price: what one contract is (the multiplier)
    and what a standard, a micro and the smallest position are worth against this account."""
    spec = desk.account.specs[symbol]
    price = desk.reference_price(symbol)
    if price is None:
        raise InvariantError(f"the demo has no {symbol} price at its first scene")
    cur = spec.settle
    equity = desk.equity()
    unit = spec.base if spec.linear else spec.quote
    smallest = spec.min_amount or spec.amount_step

    def worth(base_qty: Decimal) -> str:
        return f"{fmt((base_qty * price).quantize(Decimal(1)))} {cur}"

    one = spec.contract_size
    return (
        f"Contract sizes first. On {desk.book.exchange} one {symbol} contract is {fmt(one)} "
        f"{unit} (multiplier ×{fmt(one)}), about {worth(one)} at {price_text(price)}. A standard "
        f"size of 1 {spec.base} is {worth(Decimal(1))} of exposure, "
        f"a micro size of 0.01 {spec.base} is {worth(Decimal('0.01'))}, and the smallest order "
        f"({fmt(smallest)} contracts) is {worth(smallest * one)}. With {fmt(equity)} {cur} of "
        f"equity a standard position would be {fmt((price / equity).quantize(Decimal(1)))}× the "
        "account: this account trades micro sizes"
    )


def script(demo: Demo, book: SpecBook) -> None:
    """The scenes of the demo."""
    btc = book.get("BTC")
    demo.scene("2025-03-06 15:00", "")
    demo.scenes[-1].say = contract_lesson(demo.desk, btc.symbol)
    demo.scene("2025-03-06 15:00", "BTC bounced this afternoon. Plan a long with the stop at "
               "88,000 and let the desk size it at 1% of equity")  # fmt: skip
    plan = demo.type("size BTC stop 88000").proposal
    total = plan.contracts
    first = btc.round_contracts(total * Decimal("0.6"))
    stop_id = _stop_child(demo.type(f"buy {first} BTC stop 88000"))
    demo.type(f"scale buy {total - first} BTC from 89400 to 89200 in 2")
    hedge = demo.type("hedge 500 beta 1.5 ETH").proposal
    demo.type(f"sell {hedge.contracts} ETH tag hedge")
    demo.scene("2025-03-06 17:00", "The ladder filled and funding was exchanged at 16:00. Make "
               "the stop cover the whole position")  # fmt: skip
    demo.type(f"amend {stop_id} contracts {total}")
    demo.scene("2025-03-07 01:00", "The stop did its job. Take the ETH hedge off")
    demo.type("close ETH")
    demo.scene("2025-03-09 09:00", "Impatient: a 50x isolated BTC long without a stop")
    demo.type("buy 0.02 BTC lev 50 isolated")
    liq = demo.until_liquidated("2025-03-10 00:00")
    when = datetime.fromtimestamp(liq.ts_ms / 1000, tz=UTC).strftime("%H:%M")
    demo.scene(liq.ts_ms + QUARTER_MS, f"At {when} the price went through the liquidation "
               f"price {price_text(liq.liquidation_price)} (the last price stands in for the "
               "mark between the recorded 8h marks). Try to win it back at once")  # fmt: skip
    demo.type("buy 0.02 BTC lev 50")
    demo.finish(liq.ts_ms + QUARTER_MS + HOUR_MS)


@dataclass
class DemoResult:
    """What the demo did, for printing and for tests."""

    data: Path
    journal: Path
    scenes: list[Scene]
    events: list[Event]
    desk: DeskSession
    notes: list[str]


def run_demo(
    options: DeskOptions,
    book: SpecBook,
    data_root: Path,
    journal: Path,
    *,
    fresh: bool = True,
    account: str = ACCOUNT,
) -> DemoResult:
    """Play the scripted session into ``journal`` as ``account``; ``fresh`` deletes it first."""
    # the script is written for the engine's 20x cross (the exchanges' default), whatever the
    # configured [account] margin_mode: the same demo on every machine
    options = replace(options, account=account, mark_from_last=True, new_position=None)
    data = discover(data_root, book.exchange, SYMBOLS, TIMEFRAME)
    notes = replay_notes(data, [s for s in SYMBOLS if s in data.candles])
    start = utc_ms("2025-03-06 11:00")
    for suffix in ("", "-wal", "-shm") if fresh else ():
        Path(f"{journal}{suffix}").unlink(missing_ok=True)
    desk = DeskSession.open(
        options, book, journal, start_ms=start, kind="demo", params={"data": str(data_root)}
    )
    try:
        player = Player(desk, data, start, SYMBOLS)
        demo = Demo(desk, player)
        script(demo, book)
        events = desk.journal.events(options.account)
    finally:
        desk.close()
    return DemoResult(data_root, journal, demo.scenes, events, desk, notes)
