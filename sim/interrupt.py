"""Ctrl-C between two inputs: a replay stops where its account and its journal agree."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
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
