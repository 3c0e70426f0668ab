"""Contract specs: ccxt markets (live, a user snapshot, or the recorded files) → ContractSpec.

Every spec comes out of ccxt's own parser for the venue; nothing here is a hand-written spec.
Offline sources, in order: the newest ``data/specs/<exchange>/*.json`` written by
``microfut specs refresh``, then the recorded real data in the configured data folders:

* binanceusdm: ``binanceusdm/fapi_v1_exchangeInfo_2022-02-19.json`` served to the real
  ``ccxt.binanceusdm`` in-process (``adapters/loopback/rest.py``), i.e. ``load_markets``.
* bybit: ``bybit/v5_instruments_info_items.json`` served the same way (linear and inverse).
* binancecoinm, weex: the raw ``info`` blocks of ``ccxt_static_markets/ccxt_static_subset.json``
  through the venue's ``parse_market`` (the fixture's own ``precision`` for binance is in the old
  decimal-places form, 1 = 0.1; re-parsing ``info`` yields the TICK_SIZE form ccxt 4.5.90 uses).
* mexc: ccxt has no ``parse_market`` for it, so the fixture's market dict goes in through
  ``set_markets`` as is (its precision is already tick-sized: price 0.1, amount 1 contract).
* bingx: the raw ``info`` blocks of ``ccxt_static_markets/bingx_swap_subset.json`` through
  ``parse_market`` (the fixture's own top-level contractSize 0 is an old parse and is ignored).

The data folders end with the sample bundled in the package, so every venue above has specs
on a fresh install with no other data.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from adapters import spec_cache
from adapters.datadirs import load_json
from adapters.exchanges import check_exchange_id, make_exchange
from adapters.tiers import (
    find_tier_file,
    num,
    opt_num,
    recorded_tiers,
    tiers_from_ccxt,
)
from config.settings import Settings
from sim.engine.spec import ContractSpec, MarginTier
from sim.errors import DataError, FeedError, InputError, SpecError

RECORDED_SERVED = {
    "binanceusdm": "binanceusdm/fapi_v1_exchangeInfo_2022-02-19.json",
    "bybit": "bybit/v5_instruments_info_items.json",
}
STATIC_FILE = "ccxt_static_markets/ccxt_static_subset.json"
BINGX_FILE = "ccxt_static_markets/bingx_swap_subset.json"
# venue -> (fixture file, the venue's key inside it)
RECORDED_STATIC = {
    "binancecoinm": (STATIC_FILE, "binance"),
    "mexc": (STATIC_FILE, "mexc"),
    "weex": (STATIC_FILE, "weex"),
    "bingx": (BINGX_FILE, "bingx"),
}
SNAPSHOT_DIR = "specs"
# Venues whose ccxt amounts are base units although ccxt reports a contractSize != 1.
# weex: ccxt sends the amount as the order ``quantity`` unchanged and its parse_position computes
# entry = openValue / size (its DOGE example: 27.969 / 300 = 0.0932 USDT per DOGE), so sizes are
# in coin; minOrderSize equals contractVal (0.0001 BTC = one contract). microfut amounts are
# contracts everywhere, so step and limits are divided by contractSize for these venues.
AMOUNTS_IN_BASE = frozenset({"weex"})
# Binance's exchangeInfo carries no funding interval; 8 h is the default (fundingInfo lists
# the exceptions, which microfut does not record).
DEFAULT_FUNDING_H = {"binanceusdm": Decimal(8), "binancecoinm": Decimal(8)}


def snapshot_dir(exchange_id: str, settings: Settings) -> Path:
    """Where ``specs refresh`` writes this venue's dated snapshots."""
    return settings.data.write_path / SNAPSHOT_DIR / exchange_id


def newest_snapshot(exchange_id: str, settings: Settings) -> Path | None:
    """The newest user snapshot (names are UTC dates, so the last in sort order)."""
    folder = snapshot_dir(exchange_id, settings)
    files = sorted(folder.glob("*.json")) if folder.is_dir() else []
    return files[-1] if files else None


def recorded_source(exchange_id: str, data_dirs: Sequence[Path]) -> Path | None:
    """The recorded file this venue's offline specs come from, when one exists here."""
    rel = RECORDED_SERVED.get(exchange_id) or (
        RECORDED_STATIC[exchange_id][0] if exchange_id in RECORDED_STATIC else None
    )
    for d in data_dirs if rel else ():
        if (d / rel).is_file():
            return d / rel
    return None


def _funding_interval_h(exchange_id: str, market: dict[str, Any]) -> Decimal | None:
    if market.get("type") != "swap":
        return None
    info = market.get("info") or {}
    minutes = opt_num(info.get("fundingInterval")) if isinstance(info, dict) else None
    if minutes is not None and minutes > 0:
        return num(minutes / 60)
    return DEFAULT_FUNDING_H.get(exchange_id)


def spec_from_market(
    exchange_id: str,
    market: dict[str, Any],
    tiers: Sequence[MarginTier] | None,
    tiers_source: str = "none",
) -> ContractSpec:
    """Type one ccxt market dict (TICK_SIZE precision) into a ContractSpec."""
    symbol = market.get("symbol", "?")
    precision = market.get("precision") or {}
    limits = market.get("limits") or {}
    tick, step = opt_num(precision.get("price")), opt_num(precision.get("amount"))
    if tick is None or step is None:
        raise SpecError(f"{symbol} on {exchange_id} has no price tick or amount step in its market")
    contract_size = num(market.get("contractSize") or 1)
    amounts = limits.get("amount") or {}
    min_amount, max_amount = opt_num(amounts.get("min")), opt_num(amounts.get("max"))
    if exchange_id in AMOUNTS_IN_BASE and contract_size != 1:
        step = num(step / contract_size)
        min_amount = None if min_amount is None else num(min_amount / contract_size)
        max_amount = None if max_amount is None else num(max_amount / contract_size)
    tiers = tuple(tiers or ())
    max_lev = opt_num((limits.get("leverage") or {}).get("max"))
    if max_lev is None and tiers:
        max_lev = max(t.max_leverage for t in tiers)
    linear = market.get("linear")
    return ContractSpec(
        venue=exchange_id,
        symbol=symbol,
        venue_id=str(market.get("id")),
        base=market.get("base") or "",
        quote=market.get("quote") or "",
        settle=market.get("settle") or "",
        linear=bool(linear) if linear is not None else not market.get("inverse", False),
        kind="future" if market.get("future") else "swap",
        contract_size=contract_size,
        price_tick=tick,
        amount_step=step,
        min_amount=min_amount,
        max_amount=max_amount,
        min_notional=opt_num((limits.get("cost") or {}).get("min")),
        max_leverage=max_lev,
        maker_fee=num(market.get("maker") or 0),
        taker_fee=num(market.get("taker") or 0),
        expiry_ms=market.get("expiry"),
        funding_interval_h=_funding_interval_h(exchange_id, market),
        tiers=tiers,
        tiers_source=tiers_source if tiers else "none",
        active=market.get("active") is not False,
    )


@dataclass
class SpecBook:
    """All contract specs of one venue, looked up by unified symbol, venue id or bare base."""

    exchange: str
    specs: list[ContractSpec]
    source: str
    skipped: list[str] = field(default_factory=list)
    _by_symbol: dict[str, ContractSpec] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_symbol = {s.symbol: s for s in self.specs}

    def get(self, symbol: str) -> ContractSpec:
        """The spec for ``symbol``; InputError with the closest symbols when unknown."""
        wanted = symbol.strip()
        if wanted in self._by_symbol:
            return self._by_symbol[wanted]
        upper = wanted.upper()
        for s in self.specs:
            if upper in (s.symbol.upper(), s.venue_id.upper()):
                return s
        base_match = self._by_base(upper)
        if base_match is not None:
            return base_match
        raise InputError(self._unknown(wanted))

    def _by_base(self, base: str) -> ContractSpec | None:
        """A bare base picks the perpetual: linear USDT first, then other linear, then inverse."""
        perps = [s for s in self.specs if s.base.upper() == base and s.kind == "swap"]

        def rank(s: ContractSpec) -> tuple[int, int, str]:
            return (0 if s.linear else 1, 0 if s.settle == "USDT" else 1, s.symbol)

        return min(perps, key=rank) if perps else None

    def _unknown(self, wanted: str) -> str:
        names = [s.symbol for s in self.specs] + [s.venue_id for s in self.specs]
        close = difflib.get_close_matches(wanted, names, n=1, cutoff=0.5)
        if close:
            spec = self.get(close[0])
            hint = f"did you mean '{spec.symbol}'?"
        else:
            count = len(self.specs)
            markets = "market" if count == 1 else "markets"
            hint = (
                f"`microfut specs list --exchange {self.exchange}` lists the {count} contract "
                f"{markets} it has"
            )
        return f"unknown symbol '{wanted}' on {self.exchange}; {hint}"


def _contract_markets(markets: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in markets if m.get("contract") and m.get("type") in ("swap", "future")]


def book_from_markets(
    exchange_id: str,
    markets: Sequence[dict[str, Any]],
    source: str,
    data_dirs: Sequence[Path],
    snapshot_tiers: dict[str, list[dict[str, Any]]] | None = None,
) -> SpecBook:
    """Build the book; tiers from the snapshot when it has them, else the recorded files."""
    contracts = _contract_markets(markets)
    symbols = [m["symbol"] for m in contracts]
    recorded = recorded_tiers(exchange_id, symbols, data_dirs)
    specs, skipped = [], []
    for m in contracts:
        if not (m.get("precision") or {}).get("price") or not m["precision"].get("amount"):
            skipped.append(m["symbol"])  # a market ccxt could not size cannot be traded here
            continue
        tiers: tuple[MarginTier, ...] = ()
        tiers_source = "none"
        rows = (snapshot_tiers or {}).get(m["symbol"])
        if rows:
            tiers, tiers_source = tiers_from_ccxt(rows), source
        elif m["symbol"] in recorded:
            tiers, tiers_source = recorded[m["symbol"]]
        specs.append(spec_from_market(exchange_id, m, tiers, tiers_source))
    return SpecBook(exchange_id, specs, source, skipped)


def _served_markets(exchange_id: str, data_dirs: Sequence[Path]) -> list[dict[str, Any]]:
    """Run the real ccxt ``load_markets`` against the recorded payloads, in-process."""
    import ccxt

    from adapters.loopback.rest import IN_PROCESS_BASE, attach_recorded

    ex = make_exchange(exchange_id, endpoint=IN_PROCESS_BASE)
    attach_recorded(ex, exchange_id, data_dirs)
    try:
        return list(ex.load_markets().values())
    except ccxt.BaseError as e:
        raise DataError(f"recorded {exchange_id} markets could not be parsed by ccxt: {e}") from e


def _static_markets(exchange_id: str, path: Path) -> list[dict[str, Any]]:
    """The fixture entries for this venue, re-parsed from ``info`` where ccxt can."""
    import ccxt

    data = load_json(path)
    key = RECORDED_STATIC[exchange_id][1]
    entries = data.get(key) if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        raise DataError(f"{path} has no '{key}' markets")
    ex = make_exchange(exchange_id)
    out: list[dict[str, Any]] = []
    for entry in entries.values():
        try:
            parsed = ex.parse_market(entry["info"])
        except ccxt.NotSupported:
            parsed = entry
        out.extend(parsed if isinstance(parsed, list) else [parsed])
    ex.set_markets(out)
    return list(ex.markets.values())


def read_snapshot(path: Path, exchange_id: str) -> dict[str, Any]:
    """A snapshot written by ``specs refresh``; DataError naming the file if it is not one."""
    data = load_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("markets"), list):
        raise DataError(f"{path} is not a microfut specs snapshot (no 'markets' list)")
    if data.get("exchange", exchange_id) != exchange_id:
        raise DataError(f"{path} holds {data['exchange']} markets, not {exchange_id}; move it")
    return data


def load_spec_book(
    exchange_id: str, settings: Settings, *, endpoint: str | None = None
) -> SpecBook:
    """The venue's specs: live from ``endpoint`` if given, else the newest offline source.

    An offline book is read from the spec cache when one was built from the same files by the
    same ccxt (no ccxt import then), and cached after it is parsed.
    """
    dirs = settings.data.data_dirs
    if endpoint:
        check_exchange_id(exchange_id)
        live = fetch_live(exchange_id, endpoint=endpoint, settings=settings)
        return book_from_markets(exchange_id, live.markets, endpoint, dirs, live.tiers)
    snap = newest_snapshot(exchange_id, settings)
    src = snap or recorded_source(exchange_id, dirs)
    if src is None:
        check_exchange_id(exchange_id)
        raise SpecError(_no_specs(exchange_id, dirs))
    tier_file = find_tier_file(exchange_id, dirs)
    home = settings.data.home_path
    key = spec_cache.cache_key(exchange_id, [src, tier_file])
    cached = spec_cache.load(home, exchange_id, key, str(tier_file))
    if cached is not None:
        return SpecBook(exchange_id, cached[0], str(src), cached[1])
    check_exchange_id(exchange_id)
    book = _parse_offline(exchange_id, src, dirs, is_snapshot=snap is not None)
    spec_cache.save(home, exchange_id, key, book.specs, book.skipped)
    return book


def _no_specs(exchange_id: str, dirs: Sequence[Path]) -> str:
    hint = ""
    if exchange_id in RECORDED_SERVED or exchange_id in RECORDED_STATIC:
        where = ", ".join(str(d) for d in dirs) or "no data folder"
        hint = f" (recorded data not found in {where})"
    return (
        f"no recorded specs for {exchange_id}{hint}; "
        f"run `microfut specs refresh --exchange {exchange_id}` online"
    )


def _parse_offline(
    exchange_id: str, src: Path, dirs: Sequence[Path], *, is_snapshot: bool
) -> SpecBook:
    """Parse a snapshot or a recorded file with ccxt (the slow path the cache saves)."""
    import ccxt

    if is_snapshot:
        data = read_snapshot(src, exchange_id)
        try:
            ex = make_exchange(exchange_id)
            ex.set_markets(data["markets"])
            markets = list(ex.markets.values())
        except (ccxt.BaseError, KeyError, TypeError, AttributeError) as e:
            raise DataError(f"{src} holds markets ccxt cannot read: {e!r}") from None
        return book_from_markets(exchange_id, markets, str(src), dirs, data.get("tiers") or {})
    if exchange_id in RECORDED_SERVED:
        markets = _served_markets(exchange_id, dirs)
    else:
        markets = _static_markets(exchange_id, src)
    return book_from_markets(exchange_id, markets, str(src), dirs)


def offline_source_text(exchange_id: str, settings: Settings) -> str:
    """Where offline specs for the venue would come from, for messages."""
    snap = newest_snapshot(exchange_id, settings)
    src = snap or recorded_source(exchange_id, settings.data.data_dirs)
    return str(src) if src else "nowhere (no snapshot or recorded specs for this venue)"


def _first_line(e: BaseException) -> str:
    """One short line for a ccxt error, with the OS reason ([Errno 111] ...) when one is chained."""
    text = (str(e).splitlines() or [type(e).__name__])[0][:160]
    cause: BaseException | None = e
    while cause is not None:
        found = re.search(r"\[Errno -?\d+\][^'\")]*", str(cause))
        if found:
            return f"{text} ({found.group(0).strip()})"
        cause = cause.__cause__ or cause.__context__
    return text


# Venues whose ccxt leverage tiers are public (no API key); binance's are private.
PUBLIC_TIERS = {"bybit": ("linear", "inverse")}


@dataclass
class LiveMarkets:
    """What a live fetch returned; ``warnings`` says which tiers could not be fetched."""

    markets: list[dict[str, Any]]
    tiers: dict[str, list[dict[str, Any]]]
    warnings: list[str]


def fetch_live(exchange_id: str, *, endpoint: str | None, settings: Settings) -> LiveMarkets:
    """Contract markets and public leverage tiers, live through ccxt; FeedError when unreachable.

    A tier failure does not fail the fetch (markets alone are useful): it becomes a warning.
    """
    import ccxt

    ex = make_exchange(exchange_id, endpoint=endpoint)
    try:
        markets = _contract_markets(list(ex.load_markets().values()))
    except ccxt.BaseError as e:
        reason = "network unreachable" if isinstance(e, ccxt.NetworkError) else "exchange error"
        first = _first_line(e)
        raise FeedError(
            f"cannot reach {exchange_id} ({reason}): {first}; "
            f"offline specs still come from {offline_source_text(exchange_id, settings)}"
        ) from e
    tiers: dict[str, list[dict[str, Any]]] = {}
    warnings: list[str] = []
    for sub_type in PUBLIC_TIERS.get(exchange_id, ()):
        try:
            fetched = ex.fetch_leverage_tiers(None, {"subType": sub_type})
        except (ccxt.BaseError, IndexError, KeyError, TypeError) as e:
            # ccxt 4.5.90's bybit pager indexes an empty answer (IndexError); tiers are optional
            first = _first_line(e)
            warnings.append(f"{sub_type} leverage tiers not fetched: {first}")
            continue
        tiers.update({k: v for k, v in fetched.items() if v})
    return LiveMarkets(markets, tiers, warnings)
