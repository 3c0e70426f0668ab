"""Help and list output a user reads at 80 columns: no `<bool>` after flags, the real journal
default, and market symbols never cut (they are what the user types)."""

from __future__ import annotations

from pathlib import Path

import pytest


def test_help_shows_no_bool_metavar_and_the_real_db_default(run_cli) -> None:
    text = run_cli("journal", "list", "--help").stdout
    flat = " ".join(text.split())

    assert "<bool>" not in text
    assert "<path>" in text  # value-taking options keep their type
    assert "journal.sqlite in the data home" in flat
    assert "[data] home setting" in flat
    assert "(default: journal)" not in flat


@pytest.fixture
def at_80(run_cli):
    """The stdout console at 80 columns, restored afterwards."""
    from sim.cli import render

    old = render.stdout._width
    render.stdout.width = 80
    yield run_cli
    render.stdout._width = old


def test_specs_list_keeps_whole_symbols_at_80_columns(at_80, shared_data: Path) -> None:
    result = at_80("specs", "list", "--exchange", "binanceusdm")

    assert result.exit_code == 0, result.stderr
    assert all(len(line) <= 80 for line in result.stdout.splitlines())
    for symbol in ("BTC/USDT:USDT", "ETH/USDT:USDT", "BTC/USDT:USDT-220325"):
        assert f" {symbol} " in result.stdout
