"""Ctrl-C between two inputs, and never inside a journal write.

A replay of orders stops where its account and its journal agree (:class:`DeferredInterrupt`,
installed for the whole run). Everything else that writes a journal (strategy runs, the desk)
gets the narrower guarantee of ``interrupts_deferred``, entered by every journal write: a
KeyboardInterrupt raised inside SQLAlchemy or sqlite3 makes SQLAlchemy drop the connection, so
the open group transaction (and the rollback of a half-written batch) failed with "Cannot
operate on a closed database" and the run could neither commit its finished batches nor mark
itself interrupted. Only the main thread owns signal handlers, and a handler someone else
installed (a web server's, DeferredInterrupt's) is left to do its job.
"""

from __future__ import annotations

import _signal  # the C module under `signal`: its wrappers' enum conversions cost 10 us a write
import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType, TracebackType
from typing import Any


class DeferredInterrupt:
    """Ctrl-C waits for the input being applied (and its journal commit) to finish.

    Outside :meth:`one_input` a SIGINT raises KeyboardInterrupt at once (reading data, setting
    up); inside, it is remembered and raised right after the input.
    """

    def __init__(self) -> None:
        self.busy = False
        self.pending = False
        self._previous: Any = None

    def __enter__(self) -> DeferredInterrupt:
        with contextlib.suppress(ValueError):  # not the main thread: keep the default
            self._previous = signal.signal(signal.SIGINT, self._on_sigint)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)

    def _on_sigint(self, signum: int, frame: object) -> None:
        if not self.busy:
            raise KeyboardInterrupt
        self.pending = True

    @contextlib.contextmanager
    def one_input(self) -> Iterator[None]:
        """Apply one input; a Ctrl-C that arrived meanwhile is raised once it is done."""
        self.busy = True
        try:
            yield
        finally:
            self.busy = False
            if self.pending:
                self.pending = False
                raise KeyboardInterrupt


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
