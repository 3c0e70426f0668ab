"""`microfut run` and `microfut sweep` as a user types them."""

from __future__ import annotations

import json
from decimal import Decimal
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
    assert [a["status"] for a in json.loads(report.stdout)["accounts"]] == ["completed"]


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
        (("run", "breakout", "--replay", "X", "--live"), "pass --replay DATA or --live, not both"),
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


def test_run_shows_the_timeframe_it_used(cli, shared_data: Path) -> None:
    res = cli("run", "breakout", "--replay", candles(shared_data), *SLICE, "--json")
    table = cli("run", "breakout", "--replay", candles(shared_data), *SLICE)

    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout)["params"]["timeframe"] == "1m"
    assert "timeframe=1m," in table.stdout.replace("\n", "").replace("│", "").replace(" ", "")
    assert "timeframe=," not in table.stdout


@pytest.fixture
def width(cli):
    """Set the stdout console width for one test, restored afterwards."""
    from sim.cli import render

    old = render.stdout._width

    def set_width(columns: int):
        render.stdout.width = columns
        return cli

    yield set_width
    render.stdout._width = old


@pytest.mark.parametrize("columns", [80, 40])
def test_sweep_table_is_readable_on_a_narrow_terminal(
    width, shared_data: Path, tmp_path: Path, columns: int
) -> None:
    from sim.cli import render

    cli = width(columns)
    args = ("sweep", "breakout", "--replay", candles(shared_data), *SLICE)
    grid = ("-p", "lookback=10,30", "-p", "reward=1,2")

    res = cli(*args, *grid, "--out", str(tmp_path / "t"))
    data = json.loads(cli(*args, *grid, "--out", str(tmp_path / "j"), "--json").stdout)

    assert res.exit_code == 0, res.stderr
    assert "…" not in res.stdout
    assert all(len(line) <= columns for line in res.stdout.splitlines() if "journals:" not in line)
    for row in data["rows"]:
        assert Path(row["journal"]).stem in res.stdout
        assert render.fmt(Decimal(row["summary"]["net_pnl"]), 2) in res.stdout


def test_ctrl_c_says_where_the_run_stopped_and_the_journal_reports(
    cli, shared_data: Path, tmp_path: Path, wait_for_row, paced_breakout: Path
) -> None:
    import contextlib
    import os
    import signal
    import sqlite3
    import subprocess
    import sys

    db = tmp_path / "j.sqlite"
    env = {**os.environ, "MICROFUT_HOME": str(tmp_path / "data"), "PAUSE_AFTER_BAR_S": "0.002"}
    cmd = [sys.executable, "-c", "from sim.cli.main import main; main()", "run"]
    cmd += [str(paced_breakout), "--replay", candles(shared_data), "--db", str(db)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        # wait for the first committed trade
        wait_for_row(db, "SELECT count(*) FROM events WHERE kind = 'OrderFilled'")
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()

    assert proc.returncode == 130
    line = err.strip().splitlines()[-1]
    assert line.startswith("interrupted at 2025-")
    assert line.endswith(
        " UTC; the journal holds everything up to there (account breakout); "
        "rerun the same command (or add --resume) to continue"
    )
    with contextlib.closing(sqlite3.connect(db)) as con:
        now_ms = json.loads(con.execute("SELECT data FROM snapshots").fetchone()[0])["now_ms"]
    from sim.cli.render import ts_text

    assert line.startswith(f"interrupted at {ts_text(now_ms)} UTC;")
    report = cli("journal", "report", "--db", str(db), "--json")
    assert report.exit_code == 0, report.stderr
    assert [a["status"] for a in json.loads(report.stdout)["accounts"]] == ["interrupted"]
    with contextlib.closing(sqlite3.connect(db)) as con:
        params = json.loads(con.execute("SELECT params FROM sessions").fetchone()[0])
    assert params["status"] == "interrupted"
    text = cli("journal", "report", "--db", str(db))
    assert "journal report: breakout (interrupted)" in text.stdout
