"""Strategy parameters: typed class attributes, parsed and checked from ``--param k=v`` text.

A parameter is any annotated class attribute of a strategy with a default (not a ``ClassVar``,
not starting with ``_``). Types: ``int``, ``Decimal``, ``str``, ``bool``; money and prices are
Decimal, so a float parameter is refused. Bounds come from ``Annotated[int, Range(1, 500)]``.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from itertools import product
from typing import Any, ClassVar, get_args, get_origin

from sim.errors import InputError

TYPES: dict[type, str] = {int: "int", Decimal: "Decimal", str: "str", bool: "bool"}
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


@dataclass(frozen=True, slots=True)
class Range:
    """Inclusive bounds of a numeric parameter, used as ``Annotated[int, Range(1, 500)]``."""

    min: Decimal | int | None = None
    max: Decimal | int | None = None


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One declared parameter: name, type, default and optional bounds."""

    name: str
    type: type
    default: Any
    bounds: Range | None = None

    @property
    def type_name(self) -> str:
        return TYPES[self.type]


def declared(cls: type) -> dict[str, ParamSpec]:
    """The parameters ``cls`` declares (its own and inherited), in declaration order."""
    try:
        hints = typing.get_type_hints(cls, include_extras=True)
    except Exception as e:  # a bad annotation in user code: NameError, TypeError, SyntaxError
        raise InputError(f"strategy {cls.__name__}: cannot read its annotations ({e})") from None
    names: list[str] = []
    for klass in reversed(cls.__mro__):
        for name in vars(klass).get("__annotations__", {}):
            if name not in names:
                names.append(name)
    out: dict[str, ParamSpec] = {}
    for name in names:
        hint = hints.get(name)
        if name.startswith("_") or hint is None or get_origin(hint) is ClassVar:
            continue
        bounds = None
        if get_origin(hint) is typing.Annotated:
            hint, *extra = get_args(hint)
            bounds = next((x for x in extra if isinstance(x, Range)), None)
        if hint not in TYPES:
            raise InputError(
                f"strategy {cls.__name__}: parameter '{name}' has type {hint!r}; use int, "
                "Decimal, str or bool (prices and money are Decimal)"
            )
        if not hasattr(cls, name):
            raise InputError(f"strategy {cls.__name__}: parameter '{name}' needs a default value")
        spec = ParamSpec(name, hint, getattr(cls, name), bounds)
        out[name] = spec
        check(cls.__name__, spec, spec.default)
    return out


def coerce(spec: ParamSpec, text: str) -> Any:
    """Turn the text of ``--param name=text`` into the parameter's type (InputError if not)."""
    raw = text.strip()
    if spec.type is str:
        return raw
    if spec.type is bool:
        low = raw.lower()
        if low in _TRUE | _FALSE:
            return low in _TRUE
        raise InputError(f"--param {spec.name} expects true or false, was {text!r}")
    try:
        if spec.type is int:
            return int(raw)
        value = Decimal(raw)
        if not value.is_finite():
            raise InvalidOperation
        return value
    except (ValueError, InvalidOperation):
        raise InputError(f"--param {spec.name} expects {spec.type_name}, was {text!r}") from None


def check(owner: str, spec: ParamSpec, value: Any) -> Any:
    """Refuse a value of the wrong type or outside the parameter's bounds."""
    ok = isinstance(value, spec.type) and not (spec.type is int and isinstance(value, bool))
    if not ok:
        raise InputError(
            f"strategy {owner}: parameter '{spec.name}' must be {spec.type_name}, was {value!r}"
        )
    b = spec.bounds
    if b is not None and (
        (b.min is not None and value < b.min) or (b.max is not None and value > b.max)
    ):
        low = "-inf" if b.min is None else b.min
        high = "inf" if b.max is None else b.max
        raise InputError(f"--param {spec.name} must be between {low} and {high}, was {value}")
    return value


def _split(pair: str) -> tuple[str, str]:
    name, sep, value = pair.partition("=")
    if not sep or not name.strip():
        raise InputError(f"--param expects name=value, was {pair!r}")
    return name.strip(), value


def _spec_of(cls: type, specs: dict[str, ParamSpec], name: str) -> ParamSpec:
    if name not in specs:
        known = ", ".join(specs) or "none"
        raise InputError(f"strategy {cls.__name__} has no parameter '{name}'; it has: {known}")
    return specs[name]


def parse_pairs(cls: type, pairs: list[str]) -> dict[str, Any]:
    """``["k=v", ...]`` → typed, checked overrides of ``cls``'s parameters."""
    specs = declared(cls)
    out: dict[str, Any] = {}
    for pair in pairs:
        name, text = _split(pair)
        spec = _spec_of(cls, specs, name)
        out[name] = check(cls.__name__, spec, coerce(spec, text))
    return out


def parse_grid(cls: type, pairs: list[str]) -> list[dict[str, Any]]:
    """``["k=v1,v2", "j=a"]`` → every combination, in the order the values were given."""
    specs = declared(cls)
    axes: dict[str, list[Any]] = {}
    for pair in pairs:
        name, text = _split(pair)
        spec = _spec_of(cls, specs, name)
        values = [check(cls.__name__, spec, coerce(spec, v)) for v in text.split(",")]
        axes[name] = list(dict.fromkeys(values))
    names = list(axes)
    return [dict(zip(names, combo, strict=True)) for combo in product(*axes.values())]


def resolve(cls: type, overrides: dict[str, Any]) -> dict[str, Any]:
    """Every parameter's value: the defaults with ``overrides`` (typed values) on top."""
    specs = declared(cls)
    values = {name: spec.default for name, spec in specs.items()}
    for name, value in overrides.items():
        spec = _spec_of(cls, specs, name)
        if isinstance(value, str) and spec.type is not str:
            value = coerce(spec, value)
        values[name] = check(cls.__name__, spec, value)
    return values


def as_text(values: dict[str, Any]) -> dict[str, str]:
    """Parameters as strings, for the journal and JSON (Decimal keeps its exact text)."""
    return {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in values.items()}
