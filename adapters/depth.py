"""A price-level order book (price → contracts per side) shared by the venue book syncers."""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from enum import Enum

from adapters.slots import fast_new
from sim.engine.market import BookDepth, BookTop

Level = tuple[Decimal, Decimal]
RawLevel = tuple[str, str]  # the wire's strings (checked by adapters/wire_errors.py)
AnyLevel = RawLevel | Level


class Sync(Enum):
    """What a diff or snapshot did to a book."""

    APPLIED = "applied"  # the book changed and is in sync
    BUFFERED = "buffered"  # kept (or ignored) until a snapshot arrives
    STALE = "stale"  # older than the book, dropped
    GAP = "gap"  # a sequence gap: rebuild from a new snapshot (resync)


class SideView(Mapping[Decimal, Decimal]):
    """One side of a ``LevelBook`` seen as Decimals without copying it (Decimals per access)."""

    def __init__(self, side: dict[float, AnyLevel]) -> None:
        self._side = side

    def __getitem__(self, price: Decimal) -> Decimal:
        try:
            return Decimal(self._side[float(price)][1])
        except (KeyError, TypeError, ValueError):
            raise KeyError(price) from None

    def __contains__(self, price: object) -> bool:
        try:
            return float(price) in self._side  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return False

    def __iter__(self) -> Iterator[Decimal]:
        return (Decimal(level[0]) for level in self._side.values())

    def __len__(self) -> int:
        return len(self._side)


class LevelBook:
    """Both sides of one symbol's book; a level with quantity 0 is removed.

    Levels are kept as the wire gave them (strings, or Decimals from tests and other feeds),
    keyed and sorted by their float price: a float only *orders* the levels (no two exchange
    prices share a float), it never decides a fill. Decimals are made only for the levels
    that leave the book (``top``, ``depth``), and remembered by the level's texts.
    """

    def __init__(self, venue: str, symbol: str) -> None:
        self.venue = venue
        self.symbol = symbol
        self.clear()

    @property
    def bids(self) -> SideView:
        """Bid levels as a read-only Decimal mapping (price → contracts), O(1) per lookup."""
        return SideView(self._bids)

    @property
    def asks(self) -> SideView:
        """Ask levels as a read-only Decimal mapping (price → contracts), O(1) per lookup."""
        return SideView(self._asks)

    def bid_qty(self, price: Decimal) -> Decimal | None:
        """The bid quantity at ``price`` (None: no level), without building the whole side."""
        level = self._bids.get(float(price))
        return None if level is None else Decimal(level[1])

    def ask_qty(self, price: Decimal) -> Decimal | None:
        """The ask quantity at ``price`` (None: no level), without building the whole side."""
        level = self._asks.get(float(price))
        return None if level is None else Decimal(level[1])

    def replace(
        self, bids: Iterable[AnyLevel], asks: Iterable[AnyLevel], parsed: Parsed | None = None
    ) -> None:
        """Start over from a full snapshot (``parsed``: its levels' floats, see ``Parsed``)."""
        self.clear()
        bids, asks, bf, af = _floats(bids, asks, parsed)
        for side, keys, levels, floats in (
            (self._bids, self._bid_keys, bids, bf),
            (self._asks, self._ask_keys, asks, af),
        ):
            for level, (key, qty) in zip(levels, floats, strict=True):
                if qty == 0:
                    side.pop(key, None)
                else:
                    side[key] = level
            keys[:] = sorted(side)

    def apply(
        self, bids: Iterable[AnyLevel], asks: Iterable[AnyLevel], parsed: Parsed | None = None
    ) -> None:
        """Apply changed levels: the quantity is the new absolute size, 0 deletes.

        ``parsed`` are the levels' float (price, qty) made when the wire was checked (used
        only when they belong to these very ``bids`` and ``asks``).
        """
        bids, asks, bf, af = _floats(bids, asks, parsed)
        if bf:
            _apply_side(self._bids, self._bid_keys, bids, bf)
        if af:
            _apply_side(self._asks, self._ask_keys, asks, af)
        # a side's shown levels stay valid while no change reached its deepest shown level
        if bf and max(bf)[0] >= self._bid_floor:
            self._shown_bids = None
        if af and min(af)[0] <= self._ask_ceil:
            self._shown_asks = None

    def clear(self) -> None:
        self._bids: dict[float, AnyLevel] = {}
        self._asks: dict[float, AnyLevel] = {}
        self._bid_keys: list[float] = []  # ascending: best bid last
        self._ask_keys: list[float] = []  # ascending: best ask first
        self._dec = _DecimalLevels()
        self._shown_bids: tuple[Level, ...] | None = None  # for ``_shown_levels`` levels
        self._shown_asks: tuple[Level, ...] | None = None
        self._shown_levels = -1
        self._bid_floor, self._ask_ceil = _INF, -_INF

    def top(self, ts_ms: int) -> BookTop | None:
        """Best bid and ask, or None while either side is empty."""
        if not self._bid_keys or not self._ask_keys:
            return None
        bid, bid_qty = self._dec[self._bids[self._bid_keys[-1]]]
        ask, ask_qty = self._dec[self._asks[self._ask_keys[0]]]
        return _BOOK_TOP(self.venue, self.symbol, ts_ms, bid, bid_qty, ask, ask_qty)

    def depth(self, ts_ms: int, levels: int) -> BookDepth:
        """The best ``levels`` levels per side, best first (a side is redrawn only when a
        change reached its shown levels)."""
        if levels != self._shown_levels:
            self._shown_levels, self._shown_bids, self._shown_asks = levels, None, None
        if len(self._dec) > _MAX_DECIMALS:
            self._dec.clear()
        dec = self._dec.__getitem__
        bids, asks = self._shown_bids, self._shown_asks
        if bids is None:
            keys = self._bid_keys[: -levels - 1 : -1] if levels > 0 else []
            bids = self._shown_bids = tuple(map(dec, map(self._bids.__getitem__, keys)))
            # a change at or above the deepest shown bid (anywhere, when short) redraws
            self._bid_floor = keys[-1] if keys and len(keys) == levels else -_INF
        if asks is None:
            keys = self._ask_keys[:levels]
            asks = self._shown_asks = tuple(map(dec, map(self._asks.__getitem__, keys)))
            self._ask_ceil = keys[-1] if keys and len(keys) == levels else _INF
        return _BOOK_DEPTH(self.venue, self.symbol, ts_ms, bids, asks)


class _DecimalLevels(dict[AnyLevel, Level]):
    """Wire level → its Decimals, made on first use. Keyed by the level's value (its texts),
    so it never goes stale: a changed level is another key."""

    def __missing__(self, raw: AnyLevel) -> Level:
        level = self[raw] = (Decimal(raw[0]), Decimal(raw[1]))
        return level


_INF = float("inf")
_MAX_DECIMALS = 20_000  # per book; cleared and refilled when exceeded
_BOOK_TOP = fast_new(BookTop)
_BOOK_DEPTH = fast_new(BookDepth)


def _apply_side(
    side: dict[float, AnyLevel], keys: list[float], levels: Sequence[AnyLevel], floats: Floats
) -> None:
    """Apply levels to one side (``floats``: the levels' float (price, qty))."""
    for level, (key, qty) in zip(levels, floats, strict=True):
        if qty == 0:
            if side.pop(key, None) is not None:
                del keys[bisect_left(keys, key)]
        else:
            if key not in side:
                insort(keys, key)
            side[key] = level


# A message's levels with their float (price, qty) pairs, made once when the wire was checked:
# (bids, asks, bid floats, ask floats). A book uses the floats only for the very level
# sequences they were made from (identity), else it parses the levels again.
Floats = Sequence[tuple[float, float]]
Parsed = tuple[Sequence[AnyLevel], Sequence[AnyLevel], Floats, Floats]


def _floats(
    bids: Iterable[AnyLevel], asks: Iterable[AnyLevel], parsed: Parsed | None
) -> tuple[Sequence[AnyLevel], Sequence[AnyLevel], Floats, Floats]:
    if parsed is not None and parsed[0] is bids and parsed[1] is asks:
        return parsed
    b, a = [tuple(lv) for lv in bids], [tuple(lv) for lv in asks]  # hashable: see _DecimalLevels
    return b, a, [(float(p), float(q)) for p, q in b], [(float(p), float(q)) for p, q in a]
