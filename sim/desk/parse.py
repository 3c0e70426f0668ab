"""Order entry in a trader's words: one typed line → engine commands or a desk request.

Grammar (amounts are contracts, prices in quote currency; words may come in any order after the
symbol)::

    buy|sell N SYMBOL [limit P | at P] [trigger P [limit P]] [trail PCT]
                      [stop|sl P] [tp P] [lev L] [cross|isolated] [reduce] [ioc|fok|post]
                      [mark] [tag NAME]
    close SYMBOL            cancel ID            amend ID [price P] [trigger P] [contracts N]
    lev SYMBOL L            mode SYMBOL cross|isolated
    size SYMBOL stop P [entry P] [risk PCT] [lev L]
    hedge NOTIONAL beta B [SYMBOL]
    scale buy|sell N SYMBOL from P1 to P2 in K
    pause       resume       speed N       step [N]        (the replay's clock)

On an entry, ``stop``/``tp`` attach a stop-loss / take-profit bracket; on a ``reduce`` order they
make it a stop-market / take-profit-market exit. Bad input never raises: :func:`parse` returns an
:class:`Invalid` with one line saying what was wrong and what to type instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sim.engine.commands import AmendOrder, CancelOrder, PlaceOrder, SetLeverage
from sim.engine.money import TYPED_RANGE, ZERO, floor_to_step, is_multiple, typed_in_range
from sim.engine.spec import ContractSpec
from sim.errors import MicrofutError

Resolve = Callable[[str], ContractSpec]

HELP = (
    "buy|sell N SYM [limit P] [stop P] [tp P] [lev L] · close SYM · cancel ID · "
    "amend ID price P · lev SYM L · mode SYM cross|isolated · size SYM stop P · "
    "hedge NOTIONAL beta B [SYM] · scale buy N SYM from P1 to P2 in K · "
    "replay: pause · resume · speed N · step [N] · quit"
)
PACE_WORDS = ("pause", "resume", "speed", "step")


class ParseProblem(ValueError):
    """Raised inside the parser; turned into an :class:`Invalid` before leaving it."""


@dataclass(frozen=True, slots=True)
class Invalid:
    """The line could not be understood; ``message`` says why in one line."""

    message: str


@dataclass(frozen=True, slots=True)
class Orders:
    """One or more orders to send (a scale ladder gives several)."""

    orders: tuple[PlaceOrder, ...]


@dataclass(frozen=True, slots=True)
class ClosePosition:
    """Close the whole position in ``symbol`` at market (reduce-only)."""

    symbol: str


@dataclass(frozen=True, slots=True)
class SetMode:
    """Change the margin mode of ``symbol`` keeping its leverage."""

    symbol: str
    margin_mode: str


@dataclass(frozen=True, slots=True)
class SizeRequest:
    """Propose contracts so a stop at ``stop`` loses ``risk_pct`` of equity."""

    symbol: str
    stop: Decimal
    entry: Decimal | None = None
    risk_pct: Decimal | None = None
    leverage: Decimal | None = None


@dataclass(frozen=True, slots=True)
class HedgeRequest:
    """Propose a hedge of ``notional`` exposure with beta ``beta`` in ``symbol``."""

    notional: Decimal
    beta: Decimal
    symbol: str | None = None


@dataclass(frozen=True, slots=True)
class Simple:
    """A desk word without arguments: ``help`` or ``quit``."""

    word: str


@dataclass(frozen=True, slots=True)
class Pace:
    """A command to the replay's clock: pause, resume, speed N, step [N] bars."""

    word: str
    value: Decimal | None = None


Intent = (
    Orders
    | CancelOrder
    | AmendOrder
    | SetLeverage
    | ClosePosition
    | SetMode
    | SizeRequest
    | HedgeRequest
    | Simple
    | Pace
    | Invalid
)


def number(text: str, what: str, *, positive: bool = True) -> Decimal:
    """Parse a number typed by the trader (commas allowed as thousands separators)."""
    try:
        value = Decimal(text.replace(",", "").replace("_", ""))
    except InvalidOperation:
        raise ParseProblem(f"{what} must be a number, was '{text}'") from None
    if not value.is_finite():
        raise ParseProblem(f"{what} must be a finite number, was '{text}'")
    if positive and value <= 0:
        raise ParseProblem(f"{what} must be above 0, was '{text}'")
    if not typed_in_range(value):
        raise ParseProblem(f"{what} {text} is out of range: expected a number {TYPED_RANGE}")
    return value


class _Words:
    """A cursor over the words of a line."""

    def __init__(self, words: list[str]) -> None:
        self.words = words
        self.pos = 0

    def more(self) -> bool:
        return self.pos < len(self.words)

    def take(self, what: str) -> str:
        if not self.more():
            raise ParseProblem(f"missing {what}")
        word = self.words[self.pos]
        self.pos += 1
        return word

    def num(self, what: str) -> Decimal:
        return number(self.take(what), what)


def _spec(resolve: Resolve, text: str) -> ContractSpec:
    try:
        return resolve(text)
    except MicrofutError as e:
        raise ParseProblem(str(e)) from None


def _side(word: str) -> str:
    side = {"buy": "buy", "long": "buy", "sell": "sell", "short": "sell"}.get(word)
    if side is None:
        raise ParseProblem(f"side must be buy or sell, was '{word}'")
    return side


_FLAGS = {"reduce": "reduce_only", "ro": "reduce_only", "mark": "mark"}
_TIF = {"ioc": "IOC", "fok": "FOK", "post": "post_only", "gtc": "GTC"}
_VALUED = {
    "limit": "price", "at": "price", "@": "price", "price": "price",
    "trigger": "trigger", "stop": "stop", "sl": "stop", "tp": "tp",
    "lev": "lev", "leverage": "lev", "trail": "trail", "tag": "tag",
}  # fmt: skip


def _options(w: _Words) -> dict[str, object]:
    opts: dict[str, object] = {}
    while w.more():
        word = w.take("option").lower()
        if word in _FLAGS:
            opts[_FLAGS[word]] = True
        elif word in _TIF:
            opts["tif"] = _TIF[word]
        elif word in ("cross", "isolated"):
            opts["mode"] = word
        elif word == "market":
            opts["market"] = True
        elif word in _VALUED:
            key = _VALUED[word]
            if key in opts:
                raise ParseProblem(f"'{word}' was given twice")
            value = w.take(f"value after '{word}'")
            opts[key] = value if key == "tag" else number(value, word)
        else:
            raise ParseProblem(f"unknown word '{word}'; try: {HELP}")
    return opts


def _order_type(opts: dict[str, object]) -> tuple[str, Decimal | None, Decimal | None]:
    """Order type, limit price and trigger price from the options (exits use stop/tp words)."""
    price = opts.get("price")
    trigger = opts.get("trigger")
    if "trail" in opts:
        return "trailing_stop_market", None, trigger  # type: ignore[return-value]
    if opts.get("reduce_only") and trigger is None and price is None:
        if "stop" in opts and "tp" in opts:
            raise ParseProblem("a reduce order takes stop or tp, not both; send two orders")
        if "stop" in opts:
            return "stop_market", None, opts.pop("stop")  # type: ignore[return-value]
        if "tp" in opts:
            return "take_profit_market", None, opts.pop("tp")  # type: ignore[return-value]
    if trigger is not None:
        return ("stop_limit" if price is not None else "stop_market"), price, trigger  # type: ignore[return-value]
    if price is not None:
        return "limit", price, None  # type: ignore[return-value]
    return "market", None, None


def _check_bracket(side: str, ref: Decimal | None, stop: object, tp: object) -> None:
    if ref is None:
        return
    if stop is not None:
        wrong = stop >= ref if side == "buy" else stop <= ref  # type: ignore[operator]
        if wrong:
            where = "below" if side == "buy" else "above"
            raise ParseProblem(f"a {side} entry's stop must lie {where} {ref}, was {stop}")
    if tp is not None:
        wrong = tp <= ref if side == "buy" else tp >= ref  # type: ignore[operator]
        if wrong:
            where = "above" if side == "buy" else "below"
            raise ParseProblem(f"a {side} entry's take-profit must lie {where} {ref}, was {tp}")


def _place(w: _Words, resolve: Resolve, side_word: str, ts_ms: int) -> Orders:
    side = _side(side_word)
    contracts = w.num("contracts")
    spec = _spec(resolve, w.take("symbol"))
    opts = _options(w)
    order_type, price, trigger = _order_type(opts)
    stop, tp = opts.get("stop"), opts.get("tp")
    _check_bracket(side, price or trigger, stop, tp)  # type: ignore[arg-type]
    order = PlaceOrder(
        ts_ms=ts_ms,
        venue=spec.venue,
        symbol=spec.symbol,
        side=side,  # type: ignore[arg-type]
        order_type=order_type,
        contracts=contracts,
        price=price,
        trigger_price=trigger,
        trigger_source="mark" if opts.get("mark") else "last",
        callback_pct=opts.get("trail"),  # type: ignore[arg-type]
        time_in_force=str(opts.get("tif", "GTC")),
        reduce_only=bool(opts.get("reduce_only", False)),
        leverage=opts.get("lev"),  # type: ignore[arg-type]
        margin_mode=opts.get("mode"),  # type: ignore[arg-type]
        stop_loss=stop,  # type: ignore[arg-type]
        take_profit=tp,  # type: ignore[arg-type]
        tag=opts.get("tag"),  # type: ignore[arg-type]
    )
    return Orders((order,))


def ladder(
    spec: ContractSpec, side: str, contracts: Decimal, first: Decimal, last: Decimal, rungs: int
) -> list[tuple[Decimal, Decimal]]:
    """Split ``contracts`` into ``rungs`` limit orders evenly spaced from ``first`` to ``last``.

    Prices are rounded to the tick; each rung gets the total / rungs floored to the amount step
    and the last rung takes the remainder, so the ladder adds up to exactly ``contracts``.
    """
    if rungs < 1 or rungs > 100:
        raise ParseProblem(f"rungs must be between 1 and 100, was {rungs}")
    if not is_multiple(contracts, spec.amount_step):
        raise ParseProblem(
            f"contracts must be a multiple of the amount step {spec.amount_step} "
            f"for {spec.symbol}, was {contracts}"
        )
    each = floor_to_step(contracts / rungs, spec.amount_step)
    smallest = spec.min_amount or spec.amount_step
    if each < smallest or each <= ZERO:
        raise ParseProblem(
            f"{contracts} contracts in {rungs} rungs gives {each} per rung, below the minimum "
            f"{smallest} for {spec.symbol}; use fewer rungs"
        )
    gap = (last - first) / (rungs - 1) if rungs > 1 else ZERO
    out: list[tuple[Decimal, Decimal]] = []
    for i in range(rungs):
        price = spec.round_price(first + gap * i, ROUND_HALF_UP)
        size = each if i < rungs - 1 else contracts - each * (rungs - 1)
        out.append((price, size))
    return out


def _scale(w: _Words, resolve: Resolve, ts_ms: int) -> Orders:
    side = _side(w.take("side (buy or sell)").lower())
    contracts = w.num("contracts")
    spec = _spec(resolve, w.take("symbol"))
    values: dict[str, str] = {}
    while w.more():
        word = w.take("option").lower()
        if word not in ("from", "to", "in"):
            raise ParseProblem(f"unknown word '{word}'; scale takes: from P1 to P2 in K")
        values[word] = w.take(f"value after '{word}'")
    missing = [k for k in ("from", "to", "in") if k not in values]
    if missing:
        raise ParseProblem(f"scale needs {' '.join(missing)}: scale buy 10 BTC from P1 to P2 in K")
    rungs_text = values["in"]
    if not rungs_text.isdigit():
        raise ParseProblem(f"rungs after 'in' must be a whole number, was '{rungs_text}'")
    rungs = ladder(
        spec, side, contracts, number(values["from"], "from"), number(values["to"], "to"),
        int(rungs_text),
    )  # fmt: skip
    orders = tuple(
        PlaceOrder(
            ts_ms=ts_ms,
            venue=spec.venue,
            symbol=spec.symbol,
            side=side,  # type: ignore[arg-type]
            order_type="limit",
            contracts=size,
            price=price,
            tag=f"scale {i + 1}/{len(rungs)}",
        )
        for i, (price, size) in enumerate(rungs)
    )
    return Orders(orders)


def _amend(w: _Words, ts_ms: int) -> AmendOrder:
    order_id = w.take("order id")
    changes: dict[str, Decimal] = {}
    keys = {"price": "price", "limit": "price", "trigger": "trigger_price", "stop": "trigger_price",
            "contracts": "contracts", "qty": "contracts", "size": "contracts"}  # fmt: skip
    while w.more():
        word = w.take("field").lower()
        if word not in keys:
            raise ParseProblem(f"amend changes price, trigger or contracts, was '{word}'")
        changes[keys[word]] = w.num(word)
    if not changes:
        raise ParseProblem("amend needs what to change: amend ID price P")
    return AmendOrder(ts_ms=ts_ms, order_id=order_id, **changes)


def _size(w: _Words, resolve: Resolve) -> SizeRequest:
    spec = _spec(resolve, w.take("symbol"))
    vals: dict[str, Decimal] = {}
    names = {"stop": "stop", "sl": "stop", "entry": "entry", "at": "entry", "risk": "risk_pct",
             "lev": "leverage", "leverage": "leverage"}  # fmt: skip
    while w.more():
        word = w.take("option").lower()
        if word not in names:
            raise ParseProblem(f"size takes stop P [entry P] [risk PCT] [lev L], was '{word}'")
        vals[names[word]] = w.num(word)
    if "stop" not in vals:
        raise ParseProblem("size needs a stop: size BTC stop 69300")
    return SizeRequest(symbol=spec.symbol, **vals)


def _hedge(w: _Words, resolve: Resolve) -> HedgeRequest:
    notional = number(w.take("notional to hedge"), "notional", positive=False)
    if notional == 0:
        raise ParseProblem("notional to hedge must not be 0")
    if w.take("'beta'").lower() != "beta":
        raise ParseProblem("hedge takes: hedge NOTIONAL beta B [SYMBOL]")
    beta = w.num("beta")
    symbol = _spec(resolve, w.take("symbol")).symbol if w.more() else None
    if w.more():
        raise ParseProblem(f"unexpected '{w.take('x')}' after the hedge symbol")
    return HedgeRequest(notional=notional, beta=beta, symbol=symbol)


def _pace(verb: str, w: _Words) -> Pace:
    if verb == "speed":
        return Pace(verb, w.num("speed (× real time)"))
    if verb == "step":
        bars = w.num("bars") if w.more() else None
        if bars is not None and bars != bars.to_integral_value():
            raise ParseProblem(f"step takes a whole number of bars, was {bars:f}")
        return Pace(verb, bars)
    return Pace(verb)


def _dispatch(verb: str, w: _Words, resolve: Resolve, ts_ms: int) -> Intent:
    if verb in ("buy", "sell", "long", "short"):
        return _place(w, resolve, verb, ts_ms)
    if verb == "scale":
        return _scale(w, resolve, ts_ms)
    if verb == "close":
        return ClosePosition(_spec(resolve, w.take("symbol")).symbol)
    if verb == "cancel":
        return CancelOrder(ts_ms=ts_ms, order_id=w.take("order id"))
    if verb == "amend":
        return _amend(w, ts_ms)
    if verb in ("lev", "leverage"):
        spec = _spec(resolve, w.take("symbol"))
        lev = w.num("leverage")
        return SetLeverage(ts_ms=ts_ms, venue=spec.venue, symbol=spec.symbol, leverage=lev)
    if verb == "mode":
        spec = _spec(resolve, w.take("symbol"))
        mode = w.take("margin mode").lower()
        if mode not in ("cross", "isolated"):
            raise ParseProblem(f"margin mode must be cross or isolated, was '{mode}'")
        return SetMode(spec.symbol, mode)
    if verb == "size":
        return _size(w, resolve)
    if verb == "hedge":
        return _hedge(w, resolve)
    if verb in ("help", "?", "quit", "exit"):
        return Simple("quit" if verb == "exit" else verb.replace("?", "help"))
    raise ParseProblem(f"unknown command '{verb}'; try: {HELP}")


def parse(line: str, resolve: Resolve, ts_ms: int) -> Intent:
    """Turn one typed line into an intent; never raises for bad input (gives :class:`Invalid`)."""
    words = line.strip().split()
    if not words:
        return Invalid(f"type a command; {HELP}")
    w = _Words(words[1:])
    try:
        verb = words[0].lower()
        intent = _pace(verb, w) if verb in PACE_WORDS else _dispatch(verb, w, resolve, ts_ms)
        if w.more():
            raise ParseProblem(f"unexpected '{w.take('word')}' at the end")
    except ParseProblem as e:
        return Invalid(str(e))
    return intent
