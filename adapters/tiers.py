"""Maintenance-margin tiers: ccxt leverage tiers → MarginTier, with ``cum`` from the venue or
the recurrence (exchange-mechanics.md §A.1), and the recorded Binance USDⓈ-M brackets.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from adapters.datadirs import load_json
from sim.engine.money import ZERO, dec, opt_dec
from sim.engine.spec import MarginTier
from sim.errors import DataError

BINANCE_TIERS_FILE = "leverage_tiers/binance_leverage_tiers_freqtrade-2026.9.json"
# Venues whose recorded tiers file covers their symbols.
RECORDED_TIERS = {"binanceusdm": BINANCE_TIERS_FILE}

_parsed_files: dict[Path, dict[str, Any]] = {}


def num(value: object) -> Decimal:
    """A ccxt float or wire string as Decimal, no exponent or float tail ('300000.0' → 300000)."""
    d = dec(value)
    if d == d.to_integral_value():
        return d.quantize(Decimal(1))
    return Decimal(format(d.normalize(), "f"))


def opt_num(value: object) -> Decimal | None:
    """Like :func:`num`; None and "" mean missing."""
    return None if opt_dec(value) is None else num(value)


def cum_by_recurrence(brackets: Sequence[tuple[Decimal, Decimal]]) -> list[Decimal]:
    """Maintenance amounts from (floor, mmr) pairs in tier order.

    Binance: cum_1 = 0, cum_i = cum_{i-1} + floor_i × (mmr_i − mmr_{i-1}); this makes the
    maintenance margin continuous at every tier boundary (checked on all 7,276 real tiers).
    """
    out: list[Decimal] = []
    prev_mmr = ZERO
    for i, (floor, mmr) in enumerate(brackets):
        out.append(ZERO if i == 0 else out[-1] + floor * (mmr - prev_mmr))
        prev_mmr = mmr
    return out


def _venue_cum(info: Any) -> Decimal | None:
    """The venue's own maintenance amount, when its raw tier carries one."""
    if not isinstance(info, Mapping):
        return None
    for key in ("cum", "mmDeduction"):
        value = opt_num(info.get(key))
        if value is not None:
            return value
    return None


def tiers_from_ccxt(rows: Iterable[Mapping[str, Any]]) -> tuple[MarginTier, ...]:
    """Typed tiers from ccxt ``fetch_leverage_tiers`` rows for one symbol, sorted by floor.

    ``cum`` comes from the raw ``info`` (Binance ``cum``, Bybit ``mmDeduction``) when present,
    else from :func:`cum_by_recurrence`.
    """
    ordered = sorted(rows, key=lambda r: dec(r.get("minNotional") or 0))
    floors = [num(r.get("minNotional") or 0) for r in ordered]
    mmrs = [num(r["maintenanceMarginRate"]) for r in ordered]
    derived = cum_by_recurrence(list(zip(floors, mmrs, strict=True)))
    tiers = []
    for i, row in enumerate(ordered):
        venue_cum = _venue_cum(row.get("info"))
        tiers.append(
            MarginTier(
                tier=int(row.get("tier") or i + 1),
                floor=floors[i],
                cap=opt_num(row.get("maxNotional")),
                mmr=mmrs[i],
                cum=derived[i] if venue_cum is None else venue_cum,
                max_leverage=num(row["maxLeverage"]),
            )
        )
    return tuple(tiers)


def _tiers_file(path: Path) -> dict[str, Any]:
    """The parsed tiers JSON, read once per process (3 MB; ~30 ms)."""
    if path not in _parsed_files:
        data = load_json(path)
        if not isinstance(data, dict):
            raise DataError(f"{path} is not a ccxt leverage-tiers map (symbol → tiers)")
        _parsed_files[path] = data
    return _parsed_files[path]


def _find(relpath: str, dirs: Sequence[Path]) -> Path | None:
    for d in dirs:
        if (d / relpath).is_file():
            return d / relpath
    return None


def find_tier_file(venue: str, data_dirs: Sequence[Path]) -> Path | None:
    """The recorded tier file for ``venue`` in the data folders (first wins), if any."""
    relpath = RECORDED_TIERS.get(venue)
    return _find(relpath, data_dirs) if relpath else None


def recorded_tiers(
    venue: str, symbols: Iterable[str], data_dirs: Sequence[Path]
) -> dict[str, tuple[tuple[MarginTier, ...], str]]:
    """Recorded tiers for the asked symbols: {symbol: (tiers, source path)}; absent ones left out.

    Only the symbols asked are converted; the file is parsed once per process.
    """
    path = find_tier_file(venue, data_dirs)
    if path is None:
        return {}
    data = _tiers_file(path)
    out: dict[str, tuple[tuple[MarginTier, ...], str]] = {}
    for symbol in symbols:
        rows = data.get(symbol)
        if rows:
            try:
                out[symbol] = (tiers_from_ccxt(rows), str(path))
            except (KeyError, TypeError, ArithmeticError) as e:
                raise DataError(f"bad tier row for {symbol} in {path}: {e!r}") from None
    return out
