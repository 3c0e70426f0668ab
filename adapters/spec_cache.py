"""A compact cache of offline spec books, so `calc` and `specs` start without importing ccxt.

Offline specs come out of ccxt's own parsers (``adapters/specs.py``), which costs the ccxt import
(about 1 s) on every command. The parsed book is saved once as plain JSON in the data home
(``cache/specs/``) under a key made of everything it was built from: the source file's bytes, the
tier file's bytes and the ccxt version. A changed file or another ccxt gives another key, so a
stale cache is never read; a damaged cache file is ignored and rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, fields
from decimal import Decimal
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from sim.engine.spec import ContractSpec, MarginTier

FORMAT = 1
_DECIMALS = frozenset(
    f.name for f in fields(ContractSpec) if "Decimal" in str(f.type) and f.name != "tiers"
)


def _ccxt_version() -> str:
    try:
        return version("ccxt")
    except PackageNotFoundError:
        return "none"


def cache_key(exchange_id: str, files: list[Path | None]) -> str:
    """The key of a book built from ``files`` (None: a file that was absent) by this ccxt."""
    h = hashlib.sha256(f"{FORMAT}|{exchange_id}|{_ccxt_version()}".encode())
    for f in files:
        h.update(b"|" + (f.read_bytes() if f is not None else b"-"))
    return h.hexdigest()[:24]


def _path(home: Path, exchange_id: str, key: str) -> Path:
    return home / "cache" / "specs" / f"{exchange_id}-{key}.json"


def _text(v: Any) -> Any:
    return str(v) if isinstance(v, Decimal) else v


def _spec_dict(spec: ContractSpec) -> dict[str, Any]:
    d = {k: _text(v) for k, v in asdict(spec).items() if k != "tiers"}
    d["tiers"] = [{k: _text(v) for k, v in asdict(t).items()} for t in spec.tiers]
    return d


def _tier(d: dict[str, Any]) -> MarginTier:
    return MarginTier(
        tier=int(d["tier"]),
        floor=Decimal(d["floor"]),
        cap=None if d["cap"] is None else Decimal(d["cap"]),
        mmr=Decimal(d["mmr"]),
        cum=Decimal(d["cum"]),
        max_leverage=Decimal(d["max_leverage"]),
    )


def _spec(d: dict[str, Any], tiers_source: str) -> ContractSpec:
    values = {k: (Decimal(v) if k in _DECIMALS and v is not None else v) for k, v in d.items()}
    values["tiers"] = tuple(_tier(t) for t in d["tiers"])
    if values["tiers"]:
        values["tiers_source"] = tiers_source
    return ContractSpec(**values)


def load(
    home: Path, exchange_id: str, key: str, tiers_source: str
) -> tuple[list[ContractSpec], list[str]] | None:
    """(specs, skipped) cached under ``key``, or None when absent or unreadable."""
    try:
        with _path(home, exchange_id, key).open("rb") as f:
            data = json.load(f)
        specs = [_spec(d, tiers_source) for d in data["specs"]]
        return specs, list(data.get("skipped", []))
    except (OSError, ValueError, KeyError, TypeError, ArithmeticError):
        return None


def save(
    home: Path, exchange_id: str, key: str, specs: list[ContractSpec], skipped: list[str]
) -> None:
    """Write the book atomically; a read-only or full home just leaves it uncached."""
    target = _path(home, exchange_id, key)
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        body = {"specs": [_spec_dict(s) for s in specs], "skipped": skipped}
        tmp.write_text(json.dumps(body, separators=(",", ":")))
        os.replace(tmp, target)
    except OSError:
        tmp.unlink(missing_ok=True)
