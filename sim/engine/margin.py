"""Initial and maintenance margin, PnL, average entry and margin ratio (pure, Decimal).

Linear amounts are in the quote/settle currency (USDT); inverse amounts are in the coin. Formulas:
exchange-mechanics.md §A.1 (maintenance margin by tier), §A.3 (COIN-M initial margin, inverse
PnL), §A.5 (Bybit inverse PnL and average entry). No account state lives here: the account
engine sums these per position. ``MarginCache`` keeps those results between marks (derived
numbers, not state: dropping it changes nothing but the time).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING

from sim.engine.money import ZERO
from sim.engine.spec import ContractSpec, MarginTier
from sim.engine.venues.base import Exposure, MarginContext, VenueRules
from sim.errors import InputError

if TYPE_CHECKING:
    from sim.engine.account import Account
    from sim.engine.positions import Position

INFINITE_RATIO = Decimal("Infinity")


def initial_margin(pos: Exposure, price: Decimal, leverage: Decimal) -> Decimal:
    """Notional at ``price`` divided by leverage (USDT for linear, coin for inverse).

    Binance COIN-M FAQ: 10 contracts × 100 USD at 9,800, 20x → 0.0051 BTC.
    """
    if leverage <= 0:
        raise InputError(f"leverage must be positive, was {leverage}")
    return pos.notional(price) / leverage


def maintenance_margin(pos: Exposure, price: Decimal, tier: MarginTier) -> Decimal:
    """Notional × MMR − cum with the given tier (Binance "Maintenance Amount" / Bybit deduction)."""
    return tier.maintenance_margin(pos.notional(price))


def tier_at(spec: ContractSpec, pos: Exposure, price: Decimal) -> MarginTier:
    """The maintenance-margin tier the position's notional at ``price`` falls in."""
    return spec.tier_for(pos.notional(price))


def maintenance_margin_by_tier(spec: ContractSpec, pos: Exposure, price: Decimal) -> Decimal:
    """Maintenance margin with the tier chosen by the notional at ``price`` (tax-bracket rule)."""
    return maintenance_margin(pos, price, tier_at(spec, pos, price))


def liquidation_price(
    rules: VenueRules, pos: Exposure, ctx: MarginContext, tiers: tuple[MarginTier, ...] = ()
) -> tuple[Decimal | None, MarginTier]:
    """The venue's liquidation price and the bracket it was computed with.

    THE liquidation price: ``calc liq``, ``calc size``, the position views and the engine's
    mark check all call this. Binance's FAQ (exchange-mechanics.md §A.1/§A.2) takes the
    maintenance bracket of the notional *at the liquidation price*: each bracket's price is
    tried, ``ctx.tier`` first, and the one whose [floor, cap) holds the notional at its own
    price wins (maintenance margin is continuous in the notional, so one always does unless the
    position can never be liquidated). Long 5.001 BTC at 60,000, 10x isolated: 300,060 at
    entry is bracket 2, but the price is 54,216.87 with bracket 1 (54,211.07 with bracket 2).
    Venues whose formula uses the entry value (Bybit) take the bracket of the entry notional.
    ``tiers`` empty (or a ``ctx.tier`` holding every notional, as ``--mmr``): ``ctx.tier`` only.
    """
    if tiers and not rules.tier_at_liquidation:
        tier = next((t for t in tiers if t.holds(pos.notional(pos.entry_price))), tiers[-1])
        if tier is not ctx.tier:
            ctx = replace(ctx, tier=tier)
        return rules.liquidation_price(pos, ctx), ctx.tier
    first = rules.liquidation_price(pos, ctx)
    if not tiers or (first is not None and ctx.tier.holds(pos.notional(first))):
        return first, ctx.tier
    for tier in tiers:
        if tier is ctx.tier:
            continue
        price = rules.liquidation_price(pos, replace(ctx, tier=tier))
        if price is not None and tier.holds(pos.notional(price)):
            return price, tier
    return first, ctx.tier


def pnl(pos: Exposure, exit_price: Decimal) -> Decimal:
    """Profit of closing ``pos`` at ``exit_price``; positive is a gain for the holder.

    Linear: s·N·(P − EP) in quote. Inverse: s·N·CS·(1/EP − 1/P) in coin
    (Bybit: 1,000 contracts long 5,000 → 5,500 = 0.0181818… BTC).
    """
    if exit_price <= 0:
        raise InputError(f"price must be positive, was {exit_price}")
    if pos.linear:
        return pos.side * pos.qty * (exit_price - pos.entry_price)
    return pos.side * pos.qty * (1 / pos.entry_price - 1 / exit_price)


def unrealized_pnl(pos: Exposure, mark: Decimal) -> Decimal:
    """PnL of the open position marked at ``mark`` (the exchanges use mark price)."""
    return pnl(pos, mark)


def margin_balance(wallet: Decimal, upnl: Decimal) -> Decimal:
    """Wallet balance plus unrealized PnL: what the maintenance margin is compared with."""
    return wallet + upnl


def margin_ratio(maint: Decimal, balance: Decimal) -> Decimal:
    """Maintenance margin / margin balance; liquidation when it reaches 1 (Bybit UTA rule).

    A balance at or below zero gives an infinite ratio: the account is past liquidation.
    """
    if balance <= 0:
        return INFINITE_RATIO
    return maint / balance


def _check_fills(fills: list[tuple[Decimal, Decimal]]) -> None:
    if not fills:
        raise InputError("average entry needs at least one fill")
    for qty, price in fills:
        if qty <= 0 or price <= 0:
            raise InputError(f"fill quantity and price must be positive, was {qty} @ {price}")


def avg_entry_linear(fills: Iterable[tuple[Decimal, Decimal]]) -> Decimal:
    """Σ(qty·price) / Σqty for (qty, price) fills (0.5@5,000 + 0.3@6,000 → 5,375)."""
    rows = list(fills)
    _check_fills(rows)
    return sum((q * p for q, p in rows), ZERO) / sum((q for q, _ in rows), ZERO)


def avg_entry_inverse(fills: Iterable[tuple[Decimal, Decimal]]) -> Decimal:
    """Σcontracts / Σ(contracts/price): the harmonic mean inverse contracts need.

    Bybit: 1,000@5,000 + 2,000@6,000 → 5,625.
    """
    rows = list(fills)
    _check_fills(rows)
    return sum((q for q, _ in rows), ZERO) / sum((q / p for q, p in rows), ZERO)


def check_leverage(spec: ContractSpec, notional: Decimal, leverage: Decimal) -> str | None:
    """Reason why ``leverage`` is not allowed for a position of ``notional``; None when it is.

    The limit is the max leverage of the tier the resulting notional falls in (or the market's
    max leverage when the spec has no tiers). The engine turns the reason into an OrderRejected;
    the calculators raise it as an InputError.
    """
    if leverage <= 0:
        return f"leverage must be positive, was {leverage}"
    limit = spec.max_leverage_for(notional)
    if limit is not None and leverage > limit:
        return (
            f"leverage {leverage}x is above the maximum {limit}x for a notional of "
            f"{notional.normalize():f} {spec.settle} on {spec.venue} {spec.symbol}"
        )
    return None


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

    def _wallet(self, acct: Account, currency: str) -> _Wallet:
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

    def cross(self, acct: Account, currency: str) -> CrossTerms:
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
