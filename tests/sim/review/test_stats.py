"""Statistics against hand-computed values on the five-trade journal (see builders.py)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.review import frames, stats
from tests.sim.journal.builders import build_review_journal

D = Decimal


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> stats.AccountReport:
    journal = build_review_journal(tmp_path_factory.mktemp("j") / "j.sqlite")
    trades = frames.trades_frame(journal)
    locks, denials = frames.guard_times(journal, "main")
    journal.close()
    return stats.account_report(trades, "main", D(1000), D(1), locks, denials)


def test_results_match_the_hand_computed_summary(report: stats.AccountReport) -> None:
    s = report.summary

    assert (s.trades, s.wins, s.losses, s.breakeven) == (5, 2, 3, 0)
    assert s.win_rate == D("0.4")  # 2 of 5
    assert s.average_win == D("9.00")  # (6.00 + 12.00) / 2
    assert s.average_loss == D("-3.00")  # (-3.00 - 4.50 - 1.50) / 3
    assert s.expectancy == D("1.80")  # 9.00 / 5
    assert s.profit_factor == D(2)  # 18.00 / 9.00
    assert (s.gross_pnl, s.fees, s.funding, s.net_pnl) == (
        D("10.50"), D("1.80"), D("0.30"), D("9.00"),
    )  # fmt: skip
    assert s.fee_share == D("1.80") / D("10.50")
    assert s.funding_share == D("-0.30") / D("10.50")  # funding was received: a negative cost


def test_equity_and_max_drawdown(report: stats.AccountReport) -> None:
    s = report.summary

    assert [e for _, e in report.equity_curve] == [
        D("1006.00"), D("1003.00"), D("998.50"), D("1010.50"), D("1009.00"),
    ]  # fmt: skip
    assert s.max_drawdown == D("7.50")  # 1006.00 → 998.50
    assert s.max_drawdown_pct.quantize(D("0.0001")) == D("0.7455")  # 7.50 / 1006 × 100
    assert s.ending_equity == D("1009.00")


def test_r_multiples_are_exact_and_binned(report: stats.AccountReport) -> None:
    assert report.r_multiples == [(1, D(2)), (2, D(-1)), (4, D("0.8")), (5, D("-0.25"))]
    assert report.summary.average_r == D("0.3875")  # (2 - 1 + 0.8 - 0.25) / 4
    assert dict(report.r_distribution) == {
        "< -2R": 0, "-2R..-1R": 0, "-1R..0R": 2, "0R..1R": 1, "1R..2R": 0, "2R..3R": 1,
        ">= 3R": 0,
    }  # fmt: skip


def test_results_by_symbol_tag_weekday_hour_and_leverage(report: stats.AccountReport) -> None:
    def table(groups: list[stats.GroupResult]) -> dict[str, tuple[int, int, Decimal]]:
        return {g.key: (g.trades, g.wins, g.net_pnl) for g in groups}

    assert table(report.by_symbol) == {
        "BTC/USDT:USDT": (3, 2, D("13.50")),
        "ETH/USDT:USDT": (2, 0, D("-4.50")),
    }
    assert table(report.by_tag) == {"(none)": (3, 0, D("-9.00")), "breakout": (2, 2, D("18.00"))}
    assert table(report.by_weekday) == {
        "Mon": (2, 1, D("3.00")),
        "Tue": (2, 1, D("7.50")),
        "Thu": (1, 0, D("-1.50")),
    }
    assert table(report.by_hour) == {
        "9": (2, 1, D("1.50")),
        "13": (1, 1, D("12.00")),
        "14": (1, 0, D("-3.00")),
        "16": (1, 0, D("-1.50")),
    }
    assert list(table(report.by_leverage)) == ["5x", "10x", "20x"]
    assert (report.summary.average_leverage, report.summary.max_leverage) == (D(11), D(20))


def test_discipline_review(report: stats.AccountReport) -> None:
    d = report.discipline

    assert d.over_risk == [4]  # risked 15.00 > 1 % of 998.50
    assert d.without_stop == [3]
    assert d.liquidated == [3]
    assert d.after_loss_lock == [4]  # first entry after the daily-loss lock
    assert d.guard_denials == 1


def test_report_on_an_account_without_trades_is_empty_not_an_error(
    tmp_path: Path,
) -> None:
    journal = build_review_journal(tmp_path / "j.sqlite")
    trades = frames.trades_frame(journal, account="nobody")
    journal.close()

    rep = stats.account_report(trades, "nobody", D(500), D(1))

    assert (rep.summary.trades, rep.summary.win_rate, rep.summary.max_drawdown) == (0, None, 0)
    assert rep.summary.ending_equity == D(500)


@given(st.lists(st.decimals(min_value=-50, max_value=50, places=2), max_size=30))
def test_drawdown_never_exceeds_the_peak_and_curve_ends_at_start_plus_net(
    nets: list[Decimal],
) -> None:
    start = D(1000)

    curve = stats.equity_curve(start, nets)
    dd, _ = stats.max_drawdown(start, curve)

    assert (curve[-1] if curve else start) == start + sum(nets, D(0))
    assert D(0) <= dd <= max([start, *curve]) - min([start, *curve])
