"""Risk numbers of one account: the margin cache, cross terms, liquidation prices, equity.

Everything here reads the account (any :class:`Holdings`: the ``AccountState``) and writes only
the margin cache, which keeps per-position numbers and per-wallet cross terms between marks
(derived numbers, not state: dropping it changes nothing but the time). The formulas are
``margin.py``'s; the liquidation price is ``margin.liquidation_price`` (bracket at that price),
so the price every screen shows is the price the mark check acts on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from sim.engine.commands import LIMIT_TYPES
from sim.engine.fills import Book
from sim.engine.margin import liquidation_price as solve_liquidation
from sim.engine.margin import margin_ratio, pnl
from sim.engine.money import ZERO
from sim.engine.orders import Order
from sim.engine.positions import Position
from sim.engine.spec import ContractSpec, MarginTier
from sim.engine.venues.base import Exposure, MarginContext, VenueRules


class Holdings(Protocol):
    """What the risk numbers read of an account (``AccountState`` has it all)."""

    specs: dict[str, ContractSpec]
    balances: dict[str, Decimal]
    positions_by_symbol: dict[str, Position]
    marks: dict[str, Decimal]
    rules: VenueRules
    upnl_price: str
    margin_cache: MarginCache

    def mark(self, symbol: str) -> Decimal | None: ...
    def position(self, symbol: str) -> Position: ...
    def working_orders(self, symbol: str | None = None) -> list[Order]: ...
    def book(self, symbol: str) -> Book: ...


@dataclass(frozen=True, slots=True)
class CrossTerms:
    """One cross wallet at the current marks: its balance and each position's two terms.

    ``terms`` holds (symbol, maintenance margin, unrealized PnL) in symbol order. Built once,
    it serves every position's context and the wallet's margin ratio (a screen of n cross
    positions would otherwise recompute the n terms n times).
    """

    wallet: Decimal
    terms: tuple[tuple[str, Decimal, Decimal], ...]


# ---- the margin cache: numbers kept between marks ---------------------------------------------
# Every input of a cached number is compared by identity (``is``): Decimals are immutable, so the
# same object is the same number, and any new value (even an equal one written differently)
# recomputes. Nothing has to tell the cache that the account changed: fills, funding, direct
# writes in tests all replace the objects the cache compares.


@dataclass(slots=True, eq=False)
class Slot:
    """One open position's margin numbers at one price, and its last liquidation price."""

    symbol: str
    pos: object = None
    contracts: Decimal | None = None
    entry: Decimal | None = None
    spec: ContractSpec | None = None
    price: Decimal | None = None
    exp: Exposure | None = None
    notional: Decimal = ZERO
    tier: MarginTier | None = None
    maint: Decimal = ZERO
    upnl: Decimal | None = None  # None where pnl would raise (price ≤ 0, inverse flat)
    row: tuple[str, Decimal, Decimal] | None = None
    lp: Decimal | None = None
    lp_tier: MarginTier | None = None  # the bracket ``lp`` was computed with
    lp_fresh: bool = False
    lp_basis: object = None
    lp_leverage: Decimal | None = None
    lp_mode: str | None = None
    lp_rules: object = None
    ratio: Decimal | None = None  # isolated margin ratio, for ``ratio_basis``
    ratio_basis: Decimal | None = None
    version: int = 0  # bumped by every ``fill``: what a cached view was built from
    view: object = None
    view_key: tuple[object, ...] | None = None

    def fill(self, pos: Position, spec: ContractSpec, price: Decimal) -> None:
        """Recompute at ``price`` exactly as ``cross_terms`` and the views did (same order)."""
        exp = pos.exposure(spec)
        notional = exp.notional(price)
        tier = spec.tier_for(notional)
        self.pos, self.contracts, self.entry, self.spec, self.price = (
            pos,
            pos.contracts,
            pos.entry_price,
            spec,
            price,
        )
        self.exp, self.notional, self.tier = exp, notional, tier
        self.maint = tier.maintenance_margin(notional)
        self.upnl = pnl(exp, price) if price > 0 and (exp.linear or exp.entry_price) else None
        self.row = None if self.upnl is None else (self.symbol, self.maint, self.upnl)
        self.lp_fresh = False
        self.ratio_basis = None
        self.version += 1


@dataclass(slots=True, eq=False)
class _Member:
    """A position of one settle currency as the wallet's terms last saw it."""

    symbol: str
    spec: ContractSpec
    slot: Slot
    pos: object = None
    contracts: Decimal | None = None
    mode: str | None = None
    iso: Decimal | None = None
    entry: Decimal | None = None
    row: tuple[str, Decimal, Decimal] | None = None  # the slot's row in the wallet's terms
    cross: bool = False  # open and cross
    isolated: bool = False  # open and isolated

    def reshape(self, p: Position) -> None:
        """Remember the position's new state; its row is checked against the slot again."""
        self.pos, self.contracts, self.mode = p, p.contracts, p.margin_mode
        self.iso, self.entry, self.row = p.isolated_margin, p.entry_price, None
        self.cross = p.contracts != 0 and p.margin_mode == "cross"
        self.isolated = p.contracts != 0 and p.margin_mode == "isolated"


@dataclass(slots=True, eq=False)
class _Wallet:
    """One settle currency: its positions in symbol and in insertion order, and its terms."""

    members: list[_Member]
    inserted: list[_Member]
    balance: Decimal | None = None
    wallet: Decimal = ZERO
    terms: CrossTerms | None = None
    totals: tuple[Decimal, Decimal] | None = None  # Σ maintenance, Σ uPnL of ``terms``
    ratio: Decimal | None = None
    others: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)


class MarginCache:
    """Per-symbol margin numbers and per-wallet cross terms of one account, kept between marks.

    A mark changes one position's numbers; the others are reused, so the liquidation check of
    a cross position and the views a screen reads after it cost one pass of identity checks
    and the sums, not every position's formulas again.
    """

    __slots__ = ("_n", "_positions", "_specs", "slots", "wallets")

    def __init__(self) -> None:
        self._positions: object = None
        self._n = -1
        self._specs: object = None
        self.slots: dict[str, Slot] = {}
        self.wallets: dict[str, _Wallet] = {}

    def slot(self, symbol: str, pos: Position, spec: ContractSpec, price: Decimal) -> Slot:
        """The numbers of ``symbol``'s open position at ``price`` (recomputed when stale)."""
        slot = self.slots.get(symbol)
        if slot is None:
            slot = self.slots[symbol] = Slot(symbol)
        if (
            slot.price is not price
            or slot.pos is not pos
            or slot.contracts is not pos.contracts
            or slot.entry is not pos.entry_price
            or slot.spec is not spec
        ):
            slot.fill(pos, spec, price)
        return slot

    def _wallet(self, acct: Holdings, currency: str) -> _Wallet:
        positions = acct.positions_by_symbol
        if positions is not self._positions or len(positions) != self._n:
            self._positions, self._n = positions, len(positions)
            self.wallets = {}
        if acct.specs is not self._specs:
            self._specs, self.wallets, self.slots = acct.specs, {}, {}
        found = self.wallets.get(currency)
        if found is None:
            inserted = [
                _Member(s, acct.specs[s], self.slots.setdefault(s, Slot(s)))
                for s in positions
                if acct.specs[s].settle == currency
            ]
            found = _Wallet(sorted(inserted, key=lambda m: m.symbol), inserted)
            self.wallets[currency] = found
        return found

    def cross(self, acct: Holdings, currency: str) -> CrossTerms:
        """The wallet's terms: one identity pass, the marked position recomputed, the sum kept."""
        w = self._wallet(acct, currency)
        positions, marks_get = acct.positions_by_symbol, acct.marks.get
        same = w.terms is not None
        rows = []
        for m in w.members:
            p = positions[m.symbol]
            if (
                p is not m.pos
                or p.contracts is not m.contracts
                or p.margin_mode is not m.mode
                or p.isolated_margin is not m.iso
                or p.entry_price is not m.entry
            ):
                m.reshape(p)
                same = False
            if not m.cross:
                continue
            mark = marks_get(m.symbol) or acct.mark(m.symbol) or p.entry_price or ZERO
            slot = m.slot
            row = slot.row
            if mark is not slot.price or row is not m.row or row is None:
                # Something moved: this position's mark, or its numbers were refilled elsewhere.
                row = self.slot(m.symbol, p, m.spec, mark).row  # type: ignore[arg-type]
                if row is None:
                    pnl(slot.exp, mark)  # type: ignore[arg-type]  # raises as cross_terms did
                m.row, same = row, False
            rows.append(row)
        balance = acct.balances.get(currency, ZERO)
        if same and balance is w.balance and w.terms is not None:
            return w.terms
        if not same or balance is not w.balance:
            iso = ZERO
            for m in w.inserted:
                if m.isolated:
                    iso = iso + m.iso  # type: ignore[operator]
            w.balance, w.wallet = balance, balance - iso
        w.terms = CrossTerms(w.wallet, tuple(rows))  # type: ignore[arg-type]
        w.totals, w.ratio, w.others = None, None, {}
        return w.terms

    def others(self, currency: str, cross: CrossTerms, symbol: str) -> tuple[Decimal, Decimal]:
        """Σ maintenance and Σ uPnL of the wallet's other cross positions (TMM1, UPNL1)."""
        w = self.wallets.get(currency)
        if w is not None and w.terms is cross:
            found = w.others.get(symbol)
            if found is not None:
                return found
        other_maint = ZERO
        other_upnl = ZERO
        for s, maint, upnl in cross.terms:
            if s != symbol:
                other_maint += maint
                other_upnl += upnl
        if w is not None and w.terms is cross:
            w.others[symbol] = (other_maint, other_upnl)
        return other_maint, other_upnl

    def totals(self, currency: str, cross: CrossTerms) -> tuple[Decimal, Decimal]:
        """Σ maintenance and Σ uPnL over the whole wallet (its margin ratio's two sums)."""
        w = self.wallets.get(currency)
        if w is not None and w.terms is cross and w.totals is not None:
            return w.totals
        maint = ZERO
        upnl = ZERO
        for _, m, u in cross.terms:
            maint += m
            upnl += u
        if w is not None and w.terms is cross:
            w.totals = (maint, upnl)
        return maint, upnl

    def ratio(self, currency: str, cross: CrossTerms) -> Decimal:
        """The cross wallet's margin ratio: Σ maintenance / (wallet + Σ uPnL)."""
        w = self.wallets.get(currency)
        if w is not None and w.terms is cross and w.ratio is not None:
            return w.ratio
        maint, upnl = self.totals(currency, cross)
        ratio = margin_ratio(maint, cross.wallet + upnl)
        if w is not None and w.terms is cross:
            w.ratio = ratio
        return ratio


# ---- account-level numbers ---------------------------------------------------------------------
def cross_wallet(acct: Holdings, currency: str) -> Decimal:
    """Wallet balance left for cross positions: the wallet minus isolated margins in it."""
    iso = sum(
        (
            p.isolated_margin
            for s, p in acct.positions_by_symbol.items()
            if p.contracts != 0 and p.margin_mode == "isolated" and acct.specs[s].settle == currency
        ),
        ZERO,
    )
    return acct.balances.get(currency, ZERO) - iso


def cross_terms(acct: Holdings, currency: str) -> CrossTerms:
    """The cross wallet of ``currency`` and its positions' maintenance and uPnL at mark."""
    return acct.margin_cache.cross(acct, currency)


def cross_ratio(acct: Holdings, currency: str, cross: CrossTerms | None = None) -> Decimal:
    """Account margin ratio of the cross wallet: Σ maintenance / (cross wallet + Σ uPnL)."""
    cross = cross or cross_terms(acct, currency)
    return acct.margin_cache.ratio(currency, cross)


def context(acct: Holdings, symbol: str, cross: CrossTerms | None = None) -> MarginContext | None:
    """The formula inputs for ``symbol``'s position at the current marks; None when flat.

    ``cross``: the wallet's terms when the caller already has them (same numbers).
    """
    pos = acct.positions_by_symbol.get(symbol)
    mark = acct.mark(symbol)
    if pos is None or pos.contracts == 0 or mark is None:
        return None
    spec = acct.specs[symbol]
    slot = acct.margin_cache.slot(symbol, pos, spec, mark)
    assert slot.tier is not None
    if pos.margin_mode == "isolated":
        return MarginContext(
            "isolated", pos.isolated_margin, pos.leverage, slot.tier, spec.taker_fee
        )
    if cross is None:
        cross = cross_terms(acct, spec.settle)
    other_maint, other_upnl = acct.margin_cache.others(spec.settle, cross, symbol)
    return MarginContext(
        "cross", cross.wallet, pos.leverage, slot.tier, spec.taker_fee, other_maint, other_upnl
    )


def liquidation_price(
    acct: Holdings, symbol: str, cross: CrossTerms | None = None
) -> Decimal | None:
    """The mark price at which ``symbol``'s position is liquidated now (None: flat or never).

    Kept on the position's slot while its numbers, its margin (isolated) or the wallet's terms
    (cross), its leverage and the rules are the same objects: the mark path and the screens
    then share one computation.
    """
    pos = acct.positions_by_symbol.get(symbol)
    mark = acct.mark(symbol)
    if pos is None or pos.contracts == 0 or mark is None:
        return None
    spec = acct.specs[symbol]
    slot = acct.margin_cache.slot(symbol, pos, spec, mark)
    if pos.margin_mode == "cross" and cross is None:
        cross = cross_terms(acct, spec.settle)
    basis = cross if pos.margin_mode == "cross" else pos.isolated_margin
    if (
        slot.lp_fresh
        and slot.lp_basis is basis
        and slot.lp_leverage is pos.leverage
        and slot.lp_mode is pos.margin_mode
        and slot.lp_rules is acct.rules
    ):
        return slot.lp
    ctx = context(acct, symbol, cross)
    if ctx is None:
        return None
    lp, tier = solve_liquidation(acct.rules, pos.exposure(spec), ctx, spec.tiers)
    slot.lp, slot.lp_tier, slot.lp_fresh, slot.lp_basis = lp, tier, True, basis
    slot.lp_leverage, slot.lp_mode, slot.lp_rules = pos.leverage, pos.margin_mode, acct.rules
    return lp


def crossed(side: int, mark: Decimal, lp: Decimal | None) -> bool:
    """Long liquidates when mark ≤ LP, short when mark ≥ LP."""
    if lp is None:
        return False
    return mark <= lp if side > 0 else mark >= lp


def unrealized(acct: Holdings, symbol: str) -> Decimal:
    """Unrealized PnL at mark (or last, per ``upnl_price``)."""
    pos = acct.positions_by_symbol.get(symbol)
    if pos is None or pos.contracts == 0:
        return ZERO
    price = acct.book(symbol).last if acct.upnl_price == "last" else acct.mark(symbol)
    price = price or pos.entry_price
    return pnl(pos.exposure(acct.specs[symbol]), price) if price else ZERO


def equity(acct: Holdings, currency: str) -> Decimal:
    """Wallet balance plus the unrealized PnL of the positions settled in ``currency``."""
    upnl = sum(
        (unrealized(acct, s) for s in acct.positions_by_symbol if acct.specs[s].settle == currency),
        ZERO,
    )
    return acct.balances.get(currency, ZERO) + upnl


def available(acct: Holdings, currency: str) -> Decimal:
    """What new orders may use: cross wallet + cross uPnL − cross margin − open-order margin."""
    total = cross_wallet(acct, currency)
    for s, pos in acct.positions_by_symbol.items():
        spec = acct.specs[s]
        if spec.settle != currency or pos.contracts == 0 or pos.margin_mode != "cross":
            continue
        mark = acct.mark(s) or pos.entry_price or ZERO
        exp = pos.exposure(spec)
        total += pnl(exp, mark) - exp.notional(mark) / pos.leverage
    for o in acct.working_orders():
        # cheap order fields first: most working orders are reduce-only stops
        if o.order_type not in LIMIT_TYPES or o.reduce_only or not o.price:
            continue
        spec = acct.specs[o.symbol]
        if spec.settle == currency:
            total -= spec.notional(o.remaining, o.price) / acct.position(o.symbol).leverage
    return total
