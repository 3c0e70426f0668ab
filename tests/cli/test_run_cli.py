"""`microfut run` and `microfut sweep` as a user types them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.cli import run_cmd

SLICE = ("--from", "2025-05-04T16:00", "--until", "2025-05-04T18:00")


@pytest.fixture
def cli(run_cli, shared_data: Path):
    """run_cli for tests on the recorded candles (skipped without ../shared/data)."""
    return run_cli


def candles(shared_data: Path) -> str:
    return str(shared_data / "ohlcv" / "binance_usdm")


def test_run_breakout_by_name_prints_the_summary_as_json(
    cli, shared_data: Path, tmp_path: Path
) -> None:
    db = tmp_path / "j.sqlite"

    res = cli(
        "run", "breakout", "--replay", candles(shared_data), *SLICE, "--db", str(db), "--json"
    )

    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["strategy"] == "breakout"
    assert out["params"]["lookback"] == "20"
    assert out["bars"] == 120
    assert out["summary"]["trades"] == 1
    assert out["summary"]["liquidations"] == 0
    assert out["journal"] == str(db)
    report = cli("journal", "report", "--db", str(db), "--json")
    assert report.exit_code == 0, report.stderr


def test_run_table_shows_trades_pnl_drawdown_fees_funding_liquidations(
    cli, shared_data: Path
) -> None:
    res = cli("run", "breakout", "--replay", candles(shared_data), *SLICE, "-p", "lookback=30")

    assert res.exit_code == 0, res.stderr
    for label in (
        "trades (won / lost)",
        "net P&L",
        "max drawdown",
        "fees",
        "funding",
        "liquidations",
        "lookback=30",
    ):
        assert label in res.stdout


def test_a_strategy_error_prints_the_users_traceback_and_exits_1(
    cli, shared_data: Path, tmp_path: Path
) -> None:
    path = tmp_path / "boom.py"
    path.write_text(
        "from sim.strategy import Strategy\n\n"
        "class Boom(Strategy):\n"
        "    def on_bar(self, ctx, bar):\n"
        "        raise KeyError('no such indicator')\n",
        encoding="utf-8",
    )
    db = tmp_path / "j.sqlite"

    res = cli("run", str(path), "--replay", candles(shared_data), *SLICE, "--db", str(db))

    assert res.exit_code == 1
    assert "Traceback (most recent call last), in your strategy:" in res.stderr
    assert f'File "{path}", line 5, in on_bar' in res.stderr
    assert "error: strategy boom raised KeyError in on_bar" in res.stderr
    assert "session.py" not in res.stderr
    listing = cli("journal", "report", "--db", str(db))
    assert listing.exit_code == 0, listing.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("run", "breakout"), "pass exactly one of --replay DATA or --live"),
        (("run", "breakout", "--replay", "X", "-p", "lookback=1"), "between 2 and 1000"),
        (("run", "nothere.py", "--live"), "strategy file nothere.py was not found"),
        (("run", "breakout", "--replay", "X", "--from", "May 4"), "--from expects an ISO date"),
        (("run", "breakout", "--replay", "X", "--balance", "-5"), "--balance must be > 0"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli, args: tuple[str, ...], message: str) -> None:
    res = cli(*args)

    assert res.exit_code == 2
    assert message in res.stderr
    assert "Traceback" not in res.stderr


def test_sweep_ranks_the_grid_and_keeps_one_journal_per_run(
    cli, shared_data: Path, tmp_path: Path
) -> None:
    out = tmp_path / "sweep"

    res = cli(
        "sweep",
        "breakout",
        "--replay",
        candles(shared_data),
        *SLICE,
        "--param",
        "lookback=10,30",
        "--jobs",
        "2",
        "--out",
        str(out),
        "--json",
    )

    assert res.exit_code == 0, res.stderr
    data = json.loads(res.stdout)
    assert [row["rank"] for row in data["rows"]] == [1, 2]
    assert sorted(p.name for p in out.glob("run-*.sqlite")) == ["run-001.sqlite", "run-002.sqlite"]
    table = cli(
        "sweep",
        "breakout",
        "--replay",
        candles(shared_data),
        *SLICE,
        "--param",
        "lookback=10",
        "--out",
        str(tmp_path / "t"),
        "--metric",
        "max_drawdown",
    )
    assert table.exit_code == 0, table.stderr
    assert "ranked by max_drawdown" in table.stdout


def test_metric_names_in_help_match_the_summary_metrics() -> None:
    from sim.strategy.summary import METRICS

    assert tuple(METRICS) == run_cmd.METRIC_NAMES


def test_run_help_names_the_config_defaults(cli) -> None:
    result = cli("run", "--help")

    text = " ".join(result.stdout.split())
    assert result.exit_code == 0
    assert "[default: from config: data.journal]" in text
    assert "[default: from config: exchange.default]" in text
    assert "default: journal" not in text
