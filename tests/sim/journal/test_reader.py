"""The sqlite3-only reader behind `journal list`/`show`: same records as the review frames, and
the commands import neither ccxt, pandas nor SQLAlchemy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sim.journal import migrations
from sim.journal.reader import DECIMAL_COLUMNS, READ_VERSION, JournalReader
from sim.journal.tables import DecimalText
from sim.journal.writer import TABLES, TRADES
from sim.review import frames
from tests.sim.journal.builders import BTC, MON, build_review_journal

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def journal_path(tmp_path: Path) -> Path:
    path = tmp_path / "j.sqlite"
    journal = build_review_journal(path)
    journal.add_tag(1, "fomo")
    journal.add_note(3, "should have used a stop")
    journal.close()
    return path


def test_reader_knows_the_current_schema_and_its_decimal_columns() -> None:
    assert READ_VERSION == migrations.LATEST
    tables = {**TABLES, "trades": TRADES}
    for name, columns in DECIMAL_COLUMNS.items():
        table = tables[name]
        assert columns == {c.name for c in table.columns if isinstance(c.type, DecimalText)}


@pytest.mark.parametrize(
    "filters",
    [{}, {"account": "main"}, {"symbol": BTC}, {"tag": "fomo"}, {"since_ms": MON + 86_400_000}],
)
def test_trades_match_the_review_frame(journal_path: Path, filters: dict) -> None:
    from sim.journal import Journal

    with Journal.open(journal_path) as journal:
        expected = frames.trades_frame(journal, **filters).to_dict("records")
    reader = JournalReader.open(journal_path)
    assert reader is not None
    with reader:
        got = reader.trades(**filters)

    assert len(got) == len(expected) > 0
    for g, e in zip(got, expected, strict=True):
        assert {k: v for k, v in g.items() if k not in ("opened", "closed")} == {
            k: v for k, v in e.items() if k not in ("opened", "closed")
        }
        assert (g["opened"], g["closed"]) == (e["opened"], e["closed"])


@pytest.mark.parametrize("ref", ["1", "2", "3", "4", "5", "T3"])
def test_trade_story_matches_the_review_frames(journal_path: Path, ref: str) -> None:
    from sim.journal import Journal

    with Journal.open(journal_path) as journal:
        expected = frames.trade_story(journal, ref)
    reader = JournalReader.open(journal_path)
    assert reader is not None
    with reader:
        assert reader.trade_story(ref) == expected


def test_a_file_that_is_not_a_current_journal_takes_the_full_road(tmp_path: Path) -> None:
    (tmp_path / "text.sqlite").write_text("hello")
    assert JournalReader.open(tmp_path / "text.sqlite") is None
    assert JournalReader.open(tmp_path / "missing.sqlite") is None


@pytest.mark.parametrize("command", [["list"], ["show", "3"], ["list", "--json"]])
def test_journal_list_and_show_import_no_ccxt_pandas_or_sqlalchemy(
    journal_path: Path, command: list[str], tmp_path: Path
) -> None:
    code = (
        "import sys\n"
        f"sys.argv = ['microfut', 'journal', *{command!r}, '--db', {str(journal_path)!r}]\n"
        "from sim.cli.main import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('ccxt', 'pandas', 'sqlalchemy', 'sqlmodel') if m in sys.modules]\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MICROFUT_HOME": str(tmp_path / "home")}
    for _ in range(2):  # the first run may build the offline spec cache (prices to the tick)
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
        )

    assert "HEAVY []" in done.stderr, done.stderr
    assert "T3" in done.stdout or "liquidation" in done.stdout or "main" in done.stdout
    if "--json" in command:
        assert len(json.loads(done.stdout)["trades"]) == 5
