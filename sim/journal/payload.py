"""An event's stored payload: every dataclass field as compact JSON, keys sorted, Decimals
tagged as exact text (``{"$d": "61800.20"}``), byte for byte as stored since v1 (a retried
batch is compared by this text)."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from typing import Any

from sim.engine.events import Event
from sim.errors import InvariantError

DECIMAL_TAG = "$d"


def encode_value(value: Any) -> Any:
    """JSON-safe form of a field value; a Decimal becomes ``{"$d": "<exact text>"}``."""
    if isinstance(value, Decimal):
        return {DECIMAL_TAG: str(value)}
    if isinstance(value, list | tuple):
        return [encode_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): encode_value(v) for k, v in value.items()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise InvariantError(f"event field value {value!r} has no journal encoding")


def encode_payload(event: Event) -> str:
    """Every dataclass field of ``event`` as compact JSON (keys sorted), as stored since v1.

    Compiled once per event type (the fields' text joined in key order); a value other than
    a Decimal, str, int, bool or None sends the event to the general encoder.
    """
    fast = _PAYLOADS.get(type(event))
    if fast is None:
        fast = _PAYLOADS[type(event)] = _compile_payload(type(event))
    try:
        return fast(event)
    except _Unusual:
        return _encode_fields(event)


def _encode_fields(event: Event) -> str:
    names = _FIELD_NAMES.get(type(event))
    if names is None:
        names = _FIELD_NAMES[type(event)] = sorted(f.name for f in dataclasses.fields(event))
    fields = {}
    for name in names:
        value = getattr(event, name)
        kind = type(value)
        if kind is Decimal:
            fields[name] = {DECIMAL_TAG: str(value)}
        elif kind is str or kind is int or value is None:
            fields[name] = value
        else:
            fields[name] = encode_value(value)
    return _COMPACT.encode(fields)


class _Unusual(Exception):
    """A field value the compiled payload encoder leaves to the general one."""


def _field_text(value: Any) -> str:
    kind = type(value)
    if kind is Decimal:  # str(Decimal) is digits, sign, '.', 'E' or NaN/Infinity: no escapes
        return '{"$d":"' + str(value) + '"}'
    if kind is str:
        return _ESCAPE(value)
    if value is None:
        return "null"
    if kind is int:
        return int.__repr__(value)
    if kind is bool:
        return "true" if value else "false"
    raise _Unusual


def _compile_payload(kind: type) -> Any:
    names = sorted(f.name for f in dataclasses.fields(kind))
    if not all(n.isidentifier() and n.isascii() for n in names):
        return _encode_fields
    parts = [f"{_ESCAPE(n)}:' + t(e.{n})" for n in names]
    code = "def payload(e):\n    return '{" + " + ',".join(parts) + " + '}'\n"
    env: dict[str, Any] = {"t": _field_text}
    exec(compile(code, f"<payload {kind.__name__}>", "exec"), env)
    return env["payload"]


_ESCAPE = json.encoder.encode_basestring_ascii  # type: ignore[attr-defined]
_PAYLOADS: dict[type, Any] = {}
_FIELD_NAMES: dict[type, list[str]] = {}
_COMPACT = json.JSONEncoder(separators=(",", ":"), sort_keys=True)  # as stored since v1
