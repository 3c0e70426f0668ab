"""Liquidation on mark: the price every screen shows is the price this module acts on.

Isolated positions use their own margin; cross positions share the wallet balance minus the
isolated margins, with the other cross positions' maintenance margin and unrealized PnL at mark
(Binance TMM1/UPNL1). The venue's rules class gives the liquidation price, the close price and
fee; a cross liquidation closes every cross position in that wallet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from sim.engine.events import PositionLiquidated
from sim.engine.margin import margin_ratio, pnl
from sim.engine.money import ZERO
from sim.engine.spec import ContractSpec, MarginTier
from sim.engine.venues.base import Exposure, MarginContext

if TYPE_CHECKING:
    from sim.engine.account import Account
    from sim.engine.positions import Position


@dataclass(frozen=True, slots=True)
class Closeout:
    """How one position is closed by liquidation: price, gross PnL and fee."""

    close_price: Decimal
    realized_pnl: Decimal
    fee: Decimal


def cross_wallet(acct: Account, currency: str) -> Decimal:
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


@dataclass(frozen=True, slots=True)
class CrossTerms:
    """One cross wallet at the current marks: its balance and each position's two terms.

    ``terms`` holds (symbol, maintenance margin, unrealized PnL) in symbol order. Built once,
    it serves every position's context and the wallet's margin ratio (a screen of n cross
    positions would otherwise recompute the n terms n times).
    """

    wallet: Decimal
    terms: tuple[tuple[str, Decimal, Decimal], ...]


def cross_terms(acct: Account, currency: str) -> CrossTerms:
    """The cross wallet of ``currency`` and its positions' maintenance and uPnL at mark."""
    return acct.margin_cache.cross(acct, currency)


def context(acct: Account, symbol: str, cross: CrossTerms | None = None) -> MarginContext | None:
    """The formula inputs for ``symbol``'s position at the current marks; None when flat.

    ``cross``: the wallet's terms when the caller already has them (same numbers).
    """
    pos = acct.positions_by_symbol.get(symbol)
    mark = acct.mark(symbol)
    if pos is None or pos.contracts == 0 or mark is None:
        return None
    spec = acct.specs[symbol]
    slot = acct.margin_cache.slot(symbol, pos, spec, mark)
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
    acct: Account, symbol: str, cross: CrossTerms | None = None
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
    lp = acct.rules.liquidation_price(pos.exposure(spec), ctx)
    slot.lp, slot.lp_fresh, slot.lp_basis = lp, True, basis
    slot.lp_leverage, slot.lp_mode, slot.lp_rules = pos.leverage, pos.margin_mode, acct.rules
    return lp


def crossed(side: int, mark: Decimal, lp: Decimal | None) -> bool:
    """Long liquidates when mark ≤ LP, short when mark ≥ LP."""
    if lp is None:
        return False
    return mark <= lp if side > 0 else mark >= lp


def closeout(acct: Account, symbol: str, ctx: MarginContext) -> Closeout:
    """Close price, gross PnL and fee of liquidating ``symbol`` with the venue's rule.

    Isolated: the loss (fee included) never exceeds the position's margin; when the venue's
    numbers would take more, the fee is cut so the margin is the whole loss.
    """
    pos = acct.positions_by_symbol[symbol]
    spec = acct.specs[symbol]
    exp = pos.exposure(spec)
    mark = acct.mark(symbol) or exp.entry_price
    price = spec.round_price(acct.rules.liquidation_close_price(exp, ctx, mark))
    gross = pnl(exp, price)
    fee = max(ZERO, acct.rules.liquidation_fee(exp, ctx, price))
    if ctx.mode == "isolated" and fee - gross > ctx.wallet:
        fee = max(ZERO, ctx.wallet + gross)
        if -gross > ctx.wallet:
            # Rounding the close price to the tick can step past bankruptcy; cap at the margin.
            gross = -ctx.wallet
    return Closeout(price, gross, fee)


def to_liquidate(acct: Account, symbol: str) -> list[str]:
    """Symbols to close because ``symbol``'s mark crossed its liquidation price.

    Isolated: that position alone. Cross: every cross position sharing the wallet (the
    account-level margin ratio reached 100 %).
    """
    pos = acct.positions_by_symbol.get(symbol)
    mark = acct.mark(symbol)
    if pos is None or pos.contracts == 0 or mark is None:
        return []
    if not crossed(pos.side, mark, liquidation_price(acct, symbol)):
        return []
    if pos.margin_mode == "isolated":
        return [symbol]
    settle = acct.specs[symbol].settle
    # The position whose mark crossed goes first, at the price it showed; then the others.
    return [symbol] + [
        s
        for s, p in sorted(acct.positions_by_symbol.items())
        if s != symbol
        and p.contracts != 0
        and p.margin_mode == "cross"
        and acct.specs[s].settle == settle
    ]


def liquidate(acct: Account, symbol: str, source: str) -> None:
    """Close ``symbol``'s position by the venue rule; cancel its orders; emit the inputs."""
    pos = acct.position(symbol)
    spec = acct.specs[symbol]
    ctx = context(acct, symbol)
    lp = liquidation_price(acct, symbol)
    if ctx is None or pos.contracts == 0:
        return
    for order in acct.working_orders(symbol):
        acct.cancel_order(order, "liquidation")
    out = closeout(acct, symbol, ctx)
    wallet = acct.balances.get(spec.settle, ZERO) + out.realized_pnl - out.fee
    acct.balances[spec.settle] = wallet
    side = pos.side
    acct.emit(
        PositionLiquidated,
        symbol,
        side="long" if side > 0 else "short",
        contracts=abs(pos.contracts),
        entry_price=pos.entry_price or ZERO,
        mark_price=acct.mark(symbol) or ZERO,
        liquidation_price=lp or ZERO,
        close_price=out.close_price,
        margin_mode=pos.margin_mode,
        leverage=pos.leverage,
        tier=ctx.tier.tier,
        mmr=ctx.tier.mmr,
        cum=ctx.tier.cum,
        wallet_before=ctx.wallet,
        loss=out.fee - out.realized_pnl,
        fee=out.fee,
        currency=spec.settle,
        rule=f"{acct.rules.name} · {pos.margin_mode}",
        realized_pnl=out.realized_pnl,
        trigger_source=source,
    )
    pos.exits.append((abs(pos.contracts), out.close_price))
    pos.realized += out.realized_pnl
    pos.fees += out.fee
    pos.contracts, pos.entry_price = ZERO, None
    acct.close_trade(pos, "liquidation")


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
    upnl: Decimal | None = None  # None when the price is not positive (pnl refuses it)
    row: tuple[str, Decimal, Decimal] | None = None
    lp: Decimal | None = None
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
        self.upnl = pnl(exp, price) if price > 0 else None
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
    row: tuple[str, Decimal, Decimal] | None = None  # the slot's row in the wallet's terms
    cross: bool = False  # open and cross
    isolated: bool = False  # open and isolated


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

    __slots__ = ("_positions", "_n", "_specs", "slots", "wallets")

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
        positions, marks = acct.positions_by_symbol, acct.marks
        same = w.terms is not None
        rows = []
        for m in w.members:
            p = positions[m.symbol]
            if (
                p is not m.pos
                or p.contracts is not m.contracts
                or p.margin_mode is not m.mode
                or p.isolated_margin is not m.iso
            ):
                m.pos, m.contracts, m.mode, m.iso = p, p.contracts, p.margin_mode, p.isolated_margin
                m.cross = p.contracts != 0 and p.margin_mode == "cross"
                m.isolated = p.contracts != 0 and p.margin_mode == "isolated"
                same = False
            if not m.cross:
                continue
            mark = marks.get(m.symbol) or acct.mark(m.symbol) or p.entry_price or ZERO
            slot = m.slot
            if (
                slot.price is not mark
                or slot.pos is not p
                or slot.contracts is not p.contracts
                or slot.entry is not p.entry_price
                or slot.spec is not m.spec
            ):
                slot.fill(p, m.spec, mark)  # type: ignore[arg-type]
                same = False
            if slot.row is None:
                pnl(slot.exp, mark)  # type: ignore[arg-type]  # raises as cross_terms did
            if slot.row is not m.row:
                m.row, same = slot.row, False
            rows.append(slot.row)
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
