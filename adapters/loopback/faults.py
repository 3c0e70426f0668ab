"""Faults the loopback exchange injects on demand: drop, garble, gap (skipped diff), silence, cut.

Tests call ``ex.faults.drop()`` etc.; the CLI passes a spec such as ``drop@200,silence@400:3``
(``kind@N[:seconds]``: fire before the N-th replayed frame, counted across the server).
``cut@N`` is a REST fault: the server closes the connection instead of answering the N-th
history request (klines, mark klines, funding rates), as a network failing mid-download does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sim.errors import InputError

FaultKind = Literal["drop", "garble", "gap", "silence", "cut"]
KINDS: tuple[FaultKind, ...] = ("drop", "garble", "gap", "silence", "cut")
GARBLED = '{"stream":"garbled","data":{"e":"trade","p":'  # truncated JSON, as a broken proxy sends


@dataclass(frozen=True, slots=True)
class Fault:
    """One fault: fire before frame number ``at`` (None = at the next frame)."""

    kind: FaultKind
    at: int | None = None
    seconds: float = 0.0


def parse_fault_spec(spec: str) -> list[Fault]:
    """Parse ``drop@200,garble@50,gap@300,silence@400:5``; InputError for anything else."""
    faults: list[Fault] = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        kind, sep, rest = part.partition("@")
        when, _, arg = rest.partition(":")
        if kind not in KINDS or not sep or not when.isdigit():
            raise InputError(
                f"fault {part!r} is not kind@N with kind one of {', '.join(KINDS)} "
                "(e.g. 'drop@200' or 'silence@400:5')"
            )
        seconds = 0.0
        if kind == "silence":
            try:
                seconds = float(arg or "5")
            except ValueError:
                raise InputError(f"fault {part!r}: seconds must be a number, was {arg!r}") from None
            if not 0 < seconds <= 3600:
                raise InputError(f"fault {part!r}: seconds must be in (0, 3600], was {arg!r}")
        elif arg:
            raise InputError(f"fault {part!r}: only silence takes ':seconds'")
        faults.append(Fault(kind, int(when), seconds))  # type: ignore[arg-type]
    return faults


class Faults:
    """Pending faults and a log of those fired: ``(frame number, kind)``."""

    def __init__(self, scheduled: list[Fault] | None = None) -> None:
        self._pending: list[Fault] = list(scheduled or [])
        self.fired: list[tuple[int, FaultKind]] = []

    def drop(self) -> None:
        """Cut every websocket connection at the next frame (clients must reconnect)."""
        self._pending.append(Fault("drop"))

    def garble(self) -> None:
        """Send one unparseable message before the next frame."""
        self._pending.append(Fault("garble"))

    def gap(self) -> None:
        """Withhold the next depth diff (a sequence gap the client must resync from)."""
        self._pending.append(Fault("gap"))

    def silence(self, seconds: float) -> None:
        """Send nothing for ``seconds`` from the next frame on (connections stay open)."""
        self._pending.append(Fault("silence", None, seconds))

    def cut(self, at: int | None = None) -> None:
        """Close the connection of the ``at``-th history request (None = the next one)."""
        self._pending.append(Fault("cut", at))

    def take_cut(self, request_no: int) -> bool:
        """True (once) when a ``cut`` fault falls on history request number ``request_no``."""
        for f in self._pending:
            if f.kind == "cut" and (f.at is None or f.at <= request_no):
                self._pending.remove(f)
                self.fired.append((request_no, "cut"))
                return True
        return False

    def due(self, frame_no: int, is_diff: bool) -> list[Fault]:
        """Take the faults that fire before frame ``frame_no``; a gap waits for a depth diff."""
        fire: list[Fault] = []
        keep: list[Fault] = []
        for f in self._pending:
            if f.kind == "cut":  # a REST fault: frames never fire it
                keep.append(f)
                continue
            ready = f.at is None or f.at <= frame_no
            if ready and (f.kind != "gap" or is_diff):
                fire.append(f)
                self.fired.append((frame_no, f.kind))
            else:
                keep.append(f)
        self._pending = keep
        return fire

    @property
    def pending(self) -> int:
        return len(self._pending)
