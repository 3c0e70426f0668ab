"""Ctrl-C waits for the journal write in progress.

A KeyboardInterrupt raised inside SQLAlchemy or sqlite3 makes SQLAlchemy drop the connection,
so the group's open transaction (and the rollback of the half-written batch) fails with
"Cannot operate on a closed database": the interrupted run could neither mark itself
interrupted nor commit the batches it had finished. While a journal write runs, SIGINT is
only noted; it is raised as the usual KeyboardInterrupt the moment the write is done, so an
interrupted run still stops at once, between two batches.

Only the main thread can own signal handlers, and a handler someone else installed (a web
server's, a test runner's) is left alone: those cases keep Python's default behaviour.
"""

from __future__ import annotations

import _signal  # the C module under `signal`: its wrappers' enum conversions cost 10 us a write
import signal
import threading
from types import FrameType, TracebackType

_pending = False


def _note(signum: int, frame: FrameType | None) -> None:
    global _pending
    _pending = True


class InterruptsDeferred:
    """``with interrupts_deferred:`` holds SIGINT until the block ends, then raises it.

    Nested blocks find ``_note`` installed and simply run: the outermost one raises.
    """

    __slots__ = ("_owner",)

    def __init__(self) -> None:
        self._owner: list[bool] = []

    def __enter__(self) -> None:
        global _pending
        if threading.current_thread() is not threading.main_thread():
            return  # signals belong to the main thread; the stack too
        owns = _signal.getsignal(signal.SIGINT) is signal.default_int_handler
        self._owner.append(owns)
        if owns:
            _pending = False
            _signal.signal(signal.SIGINT, _note)

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        global _pending
        if threading.current_thread() is threading.main_thread() and self._owner.pop():
            _signal.signal(signal.SIGINT, signal.default_int_handler)
            if _pending:
                _pending = False
                raise KeyboardInterrupt


interrupts_deferred = InterruptsDeferred()
