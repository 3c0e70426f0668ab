"""A journal with a damaged page is refused before anything writes to it.

A real journal (a replay of the recorded BTC candles) is copied and 3,000 bytes of its page 4
overwritten; ``PRAGMA quick_check`` then reports "Page 4: btreeInitPage() returns error code 11".
Every command that opens it exits 5 in one line, the file's sha256 is unchanged and no
``-wal``/``-shm`` appears beside it.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from sim.errors import JournalError
from sim.journal.store import Journal
from tests.faults.conftest import DATA, write_orders

PAGE = 4096


def _damaged_copy(journal: Path, folder: Path) -> Path:
    folder.mkdir()
    bad = folder / "journal.sqlite"
    shutil.copyfile(journal, bad)
    with bad.open("r+b") as f:
        f.seek(3 * PAGE)  # page 4 (pages count from 1)
        f.write(b"\xa5" * 3000)
    return bad


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_damaged_page_is_refused_by_every_command_and_never_modified(
    run_cli, real_journal: Path, shared_data: Path, tmp_path: Path
) -> None:
    bad = _damaged_copy(real_journal, tmp_path / "bad")
    before = _sha(bad)
    orders = write_orders(tmp_path)
    commands = [
        ("journal", "list", "--db", str(bad)),
        ("journal", "note", "1", "hello", "--db", str(bad)),
        ("journal", "report", "--db", str(bad)),
        ("replay", "--data", str(shared_data / DATA), "--orders", str(orders), "--db", str(bad)),
    ]
    for args in commands:
        result = run_cli(*args)
        assert result.exit_code == 5, (args, result.stdout, result.stderr)
        line = result.stderr.strip()
        assert "\n" not in line
        assert "Traceback" not in line
        assert "is corrupt (Page 4: btreeInitPage() returns error code 11)" in line, line
        assert "not modified" in line
        assert _sha(bad) == before
        assert sorted(p.name for p in bad.parent.iterdir()) == ["journal.sqlite"]


def test_the_undamaged_copy_opens_and_a_clean_check_leaves_no_files(
    real_journal: Path, tmp_path: Path
) -> None:
    from sim.journal.migrations import LATEST
    from sim.journal.sqlite_file import inspect_file

    folder = tmp_path / "good"
    folder.mkdir()
    good = folder / "journal.sqlite"
    shutil.copyfile(real_journal, good)
    before = _sha(good)

    assert inspect_file(good) == LATEST  # read without a trace
    assert _sha(good) == before
    assert sorted(p.name for p in folder.iterdir()) == ["journal.sqlite"]
    with Journal.open(good) as journal:
        assert [a.name for a in journal.accounts()] == ["main"]


def test_api_open_of_a_damaged_journal_raises_journal_error(
    real_journal: Path, tmp_path: Path
) -> None:
    bad = _damaged_copy(real_journal, tmp_path / "bad")
    before = _sha(bad)
    with pytest.raises(JournalError, match=r"corrupt \(Page 4: btreeInitPage"):
        Journal.open(bad)
    assert _sha(bad) == before
    assert sorted(p.name for p in bad.parent.iterdir()) == ["journal.sqlite"]
