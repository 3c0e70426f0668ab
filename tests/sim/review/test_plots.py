"""Charts: PNG files on disk and plotext text, from the five-trade journal."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from sim.review import frames, plots, stats
from tests.sim.journal.builders import build_review_journal

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> stats.AccountReport:
    journal = build_review_journal(tmp_path_factory.mktemp("j") / "j.sqlite")
    trades = frames.trades_frame(journal)
    journal.close()
    return stats.account_report(trades, "main", Decimal(1000), Decimal(1))


def test_series_are_the_equity_drawdown_and_per_trade_results(
    report: stats.AccountReport,
) -> None:
    data = plots.series(report)

    assert data["equity"] == [1000.0, 1006.0, 1003.0, 998.5, 1010.5, 1009.0]
    assert data["drawdown"] == [0.0, 0.0, -3.0, -7.5, 0.0, -1.5]
    assert data["net"] == [6.0, -3.0, -4.5, 12.0, -1.5]
    assert data["r"] == [2.0, -1.0, 0.8, -0.25]


def test_pngs_are_written(report: stats.AccountReport, tmp_path: Path) -> None:
    paths = plots.write_pngs(report, tmp_path)

    assert [p.name.split("-")[1] for p in paths] == ["equity", "pnl", "r"]
    assert all(p.read_bytes().startswith(PNG_MAGIC) for p in paths)


def test_terminal_charts_are_text_with_titles(report: stats.AccountReport) -> None:
    text = plots.terminal(report, width=80, height=15)

    assert "main: equity" in text
    assert "net P&L per trade" in text
    assert "R-multiples" in text
