"""Venue rules registry: ccxt id → rules class, GenericRules for every other venue."""

from __future__ import annotations

from sim.engine.venues.base import Exposure, MarginContext, VenueRules
from sim.engine.venues.binance import BinanceRules
from sim.engine.venues.bybit import BybitRules
from sim.engine.venues.generic import GenericRules

RULES: dict[str, type[GenericRules]] = {
    "binanceusdm": BinanceRules,
    "binancecoinm": BinanceRules,
    "binance": BinanceRules,
    "bybit": BybitRules,
}


def rules_for(venue: str) -> VenueRules:
    """The rules for a ccxt exchange id; GenericRules (approximate) when microfut has none."""
    return RULES.get(venue, GenericRules)()


__all__ = [
    "RULES",
    "BinanceRules",
    "BybitRules",
    "Exposure",
    "GenericRules",
    "MarginContext",
    "VenueRules",
    "rules_for",
]
