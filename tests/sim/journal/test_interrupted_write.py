"""Ctrl-C during a journal write waits for the write (sim/interrupt.py): SQLAlchemy drops a
connection a KeyboardInterrupt passes through, and an interrupted run then could neither commit
nor mark itself interrupted (it ended with "internal error", exit 70)."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest

from sim.interrupt import interrupts_deferred
from sim.journal.store import Journal


def test_sigint_inside_a_write_is_raised_when_the_write_is_done(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.sqlite")
    steps: list[str] = []

    def write() -> None:
        with journal.translated():
            os.kill(os.getpid(), signal.SIGINT)
            steps.append("after the signal")  # the write goes on

    with pytest.raises(KeyboardInterrupt):
        write()
    assert steps == ["after the signal"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored
    journal.close()


def test_nested_blocks_raise_once_at_the_outermost_end() -> None:
    steps: list[str] = []

    def write() -> None:
        with interrupts_deferred:
            with interrupts_deferred:
                os.kill(os.getpid(), signal.SIGINT)
                steps.append("inner")
            steps.append("outer")

    with pytest.raises(KeyboardInterrupt):
        write()
    assert steps == ["inner", "outer"]
    with interrupts_deferred:  # nothing pending any more
        steps.append("again")
    assert steps[-1] == "again"


def test_a_handler_someone_else_installed_is_left_alone() -> None:
    seen: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: seen.append(signum))
    try:
        with interrupts_deferred:
            os.kill(os.getpid(), signal.SIGINT)
        assert seen == [signal.SIGINT]
    finally:
        signal.signal(signal.SIGINT, previous)


def test_other_threads_write_without_touching_signals() -> None:
    before = signal.getsignal(signal.SIGINT)
    seen: list[object] = []

    def write() -> None:
        with interrupts_deferred:
            seen.append(signal.getsignal(signal.SIGINT))

    worker = threading.Thread(target=write)
    worker.start()
    worker.join()
    assert seen == [before]
