"""Read events back as the exact engine dataclasses, and find where a paper account resumes.

Resume = the latest snapshot (written in the same transaction as its events, so it never lags a
committed batch) handed to ``Account.restore``, plus any events committed after it (a batch
appended without a snapshot), which the runner replays into the restored account.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import sys
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sim.engine.events as events_module
from sim.engine.events import Event
from sim.errors import JournalError
from sim.journal.writer import DECIMAL_TAG

# Modules that define Event subclasses outside sim/engine/events.py (guard locks and warnings).
EVENT_MODULES = ("sim.engine.events", "sim.guards")


def event_classes() -> dict[str, type[Event]]:
    """Every Event subclass known to this process, by class name (the stored ``kind``).

    ``@dataclass(slots=True)`` replaces each class with a new one; the discarded original still
    shows in ``__subclasses__``, so only the class its module exports under that name counts.
    """
    for name in EVENT_MODULES:
        if name not in sys.modules:
            importlib.import_module(name)
    found: dict[str, type[Event]] = {}
    stack: list[type[Event]] = [Event]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            module = sys.modules.get(sub.__module__)
            if getattr(module, sub.__qualname__, None) is sub:
                found.setdefault(sub.__name__, sub)
            stack.append(sub)
    return found


def decode_value(value: Any) -> Any:
    """Inverse of ``writer.encode_value``: tagged Decimals back to Decimal, recursively."""
    if isinstance(value, dict):
        if len(value) == 1 and DECIMAL_TAG in value:
            return Decimal(value[DECIMAL_TAG])
        return {k: decode_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode_value(v) for v in value]
    return value


def decode_event(kind: str, payload: str, classes: dict[str, type[Event]] | None = None) -> Event:
    """Rebuild the frozen dataclass of ``kind`` from its stored JSON payload.

    A field added to the dataclass since the row was written takes its default; a stored field
    the dataclass no longer has, or an unknown kind, is an error (resuming would lose it).
    """
    cls = (classes or event_classes()).get(kind) or getattr(events_module, kind, None)
    if cls is None:
        raise JournalError(
            f"journal holds event kind '{kind}' unknown to this microfut; upgrade microfut"
        )
    data = {k: decode_value(v) for k, v in json.loads(payload).items()}
    names = {f.name: f for f in dataclasses.fields(cls)}
    extra = sorted(set(data) - set(names))
    if extra:
        raise JournalError(
            f"journal event {kind} has fields {', '.join(extra)} unknown to this microfut; "
            "upgrade microfut"
        )
    for name, value in data.items():
        if isinstance(value, list) and "tuple" in str(names[name].type):
            data[name] = tuple(value)
    return cls(**data)


@dataclass(frozen=True, slots=True)
class ResumePoint:
    """Where an account stands in the journal: its snapshot and what came after it."""

    account: str
    snapshot: dict[str, Any] | None
    snapshot_seq: int  # 0 when there is no snapshot
    last_seq: int  # highest committed seq (0 for a new account)
    events_after_snapshot: list[Event]

    @property
    def next_seq(self) -> int:
        """The seq the account's next event must carry."""
        return self.last_seq + 1


def resume_point(journal: Any, account: str) -> ResumePoint:
    """Load the latest snapshot of ``account`` and the events committed after it."""
    snap = journal.latest_snapshot_row(account)
    snapshot, snap_seq = (snap[0], snap[1]) if snap else (None, 0)
    later = journal.events(account, since_seq=snap_seq)
    return ResumePoint(
        account=account,
        snapshot=snapshot,
        snapshot_seq=snap_seq,
        last_seq=journal.last_seq(account),
        events_after_snapshot=later,
    )
