"""Shared fixtures: the recorded-data folder (skips when absent) and a CLI runner."""

from __future__ import annotations

import io
import os
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

SHARED_DATA = Path(
    os.environ.get(
        "MICROFUT_TEST_SHARED_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"
    )
)


@pytest.fixture(autouse=True, scope="session")
def _data_home(tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test writes into the real user data folder: the data home is a temporary one."""
    os.environ["MICROFUT_HOME"] = str(tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real recorded exchange data (../shared/data); the test skips when it is absent."""
    if not (SHARED_DATA / "README.md").exists():
        pytest.skip(
            f"recorded exchange data not found at {SHARED_DATA} (CI has it beside the repo)"
        )
    return SHARED_DATA


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def run_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Run `microfut ARGS...` in-process as a user would; the data home is tmp_path/data."""
    monkeypatch.setenv("MICROFUT_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("MICROFUT_DATA__DIRS", f'["{SHARED_DATA}"]')
    monkeypatch.setenv("COLUMNS", "200")

    def run(*args: str) -> CliResult:
        from sim.cli import main as cli_main
        from sim.cli import render

        out, err = io.StringIO(), io.StringIO()
        code = 0
        with redirect_stdout(out), redirect_stderr(err):
            render.stdout.file = out
            render.stderr.file = err
            try:
                cli_main.main(list(args))
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
            finally:
                render.stdout.file = None  # type: ignore[assignment]
                render.stderr.file = None  # type: ignore[assignment]
        return CliResult(code, out.getvalue(), err.getvalue())

    return run


@pytest.fixture
def wait_for_row():
    """Poll a journal another process is writing until ``sql`` counts a row (or time runs out).

    The file can exist before its schema does, so "no such table" just means "not yet".
    """
    import sqlite3
    import time
    from contextlib import closing

    def wait(db: Path, sql: str, timeout_s: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            time.sleep(0.1)
            if not db.exists():
                continue
            try:
                with closing(sqlite3.connect(db)) as con:
                    if con.execute(sql).fetchone()[0]:
                        return True
            except sqlite3.OperationalError:
                continue
        return False

    return wait


PACED_BREAKOUT = '''"""Breakout pausing $PAUSE_AFTER_BAR_S seconds after each bar (for tests)."""

import os
import time

from sim.strategy.examples.breakout import Breakout


class PacedBreakout(Breakout):
    name = "breakout"  # the same rule and account: only the pace differs

    def on_bar(self, ctx, bar):
        super().on_bar(ctx, bar)
        time.sleep(float(os.environ.get("PAUSE_AFTER_BAR_S", "0")))
'''


@pytest.fixture
def paced_breakout(tmp_path: Path) -> Path:
    """A strategy file: breakout slowed down by $PAUSE_AFTER_BAR_S for runs a test interrupts.

    The real one plays a month in about a second, so a signal sent "mid-run" could arrive after
    the run ended on a fast machine; unset, the pause is zero and results equal breakout's.
    """
    path = tmp_path / "paced_breakout.py"
    path.write_text(PACED_BREAKOUT, encoding="utf-8")
    return path
