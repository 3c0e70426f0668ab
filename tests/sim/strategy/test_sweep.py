"""Sweeps: every combination runs apart, in parallel processes, and equals the single run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapters.specs import SpecBook
from sim.errors import InputError
from sim.strategy import loader
from sim.strategy import params as P
from sim.strategy.run import RunOptions, run_replay
from sim.strategy.sweep import rank, run_sweep
from tests.sim.strategy.conftest import SLICE_FROM_MS, SLICE_UNTIL_MS, with_db


def test_sweep_rows_equal_the_single_runs_of_the_same_parameters(
    candles_dir: Path, book: SpecBook, options: RunOptions, tmp_path: Path
) -> None:
    grid = P.parse_grid(loader.load("breakout").cls, ["lookback=10,30", "reward=1,3"])
    out = tmp_path / "sweep"

    result = run_sweep(
        "breakout",
        grid,
        with_db(options, None),
        book,
        candles_dir,
        out,
        jobs=2,
        since_ms=SLICE_FROM_MS,
        until_ms=SLICE_UNTIL_MS,
    )

    assert len(result.rows) == 4
    assert not result.failed
    for row in result.rows:
        combo = grid[row.index - 1]
        single = run_replay(
            loader.load("breakout"),
            combo,
            with_db(options, None),
            book,
            candles_dir,
            since_ms=SLICE_FROM_MS,
            until_ms=SLICE_UNTIL_MS,
        )
        assert row.summary == single.summary
        assert Path(row.journal) == out / f"run-{row.index:03d}.sqlite"
        assert Path(row.journal).exists()
    nets = [row.summary.net_pnl for row in result.rows]  # type: ignore[union-attr]
    assert nets == sorted(nets, reverse=True)
    assert [row.rank for row in result.rows] == [1, 2, 3, 4]
    index = json.loads((out / "sweep.json").read_text())
    assert len(index["rows"]) == 4


def test_a_failing_combination_is_reported_in_its_row_and_the_others_rank(
    candles_dir: Path, book: SpecBook, options: RunOptions, tmp_path: Path
) -> None:
    grid = [{"direction": "both"}, {"direction": "sideways"}]

    result = run_sweep(
        "breakout",
        grid,
        options,
        book,
        candles_dir,
        tmp_path / "out",
        since_ms=SLICE_FROM_MS,
        until_ms=SLICE_FROM_MS + 1_800_000,
    )

    assert [r.rank for r in result.rows] == [1, None]
    failed = result.rows[1]
    assert failed.error is not None
    assert "raised ValueError in on_start" in failed.error
    assert "direction must be both, long or short, was 'sideways'" in failed.error


def test_sweep_refuses_an_unknown_metric_and_a_used_output_folder(
    candles_dir: Path, book: SpecBook, options: RunOptions, tmp_path: Path
) -> None:
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "run-001.sqlite").write_bytes(b"")

    with pytest.raises(InputError, match="--metric must be one of net_pnl"):
        run_sweep("breakout", [{}], options, book, candles_dir, tmp_path / "x", metric="luck")
    with pytest.raises(InputError, match="is not an empty folder"):
        run_sweep("breakout", [{}], options, book, candles_dir, tmp_path / "used")


def test_rank_puts_lower_drawdown_first() -> None:
    from decimal import Decimal

    from sim.strategy.summary import RunSummary
    from sim.strategy.sweep import SweepRow

    def row(i: int, dd: str) -> SweepRow:
        fields = dict.fromkeys(RunSummary.__dataclass_fields__, Decimal(0))
        fields.update(max_drawdown=Decimal(dd), currency="USDT")
        return SweepRow(i, {}, "", summary=RunSummary(**fields))  # type: ignore[arg-type]

    ordered = rank([row(1, "50"), row(2, "10"), row(3, "30")], "max_drawdown")

    assert [r.index for r in ordered] == [2, 3, 1]


def _comparable(result: object) -> list[tuple]:
    rows = result.rows  # type: ignore[attr-defined]
    return [(r.index, r.rank, r.params, r.account, r.summary, r.error) for r in rows]


def test_sweep_on_a_dask_cluster_equals_the_local_run(
    candles_dir: Path, book: SpecBook, options: RunOptions, tmp_path: Path
) -> None:
    distributed = pytest.importorskip("distributed")
    grid = P.parse_grid(loader.load("breakout").cls, ["lookback=10,30", "reward=1,3"])
    common = dict(since_ms=SLICE_FROM_MS, until_ms=SLICE_UNTIL_MS)

    local = run_sweep("breakout", grid, options, book, candles_dir, tmp_path / "a", **common)
    with distributed.LocalCluster(
        n_workers=2, processes=False, threads_per_worker=1, dashboard_address=None
    ) as cluster:
        remote = run_sweep(
            "breakout",
            grid,
            options,
            book,
            candles_dir,
            tmp_path / "b",
            scheduler=cluster.scheduler_address,
            **common,
        )

    assert _comparable(remote) == _comparable(local)
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == sorted(
        p.name for p in (tmp_path / "a").iterdir()
    )


def test_an_unreachable_scheduler_is_a_network_error(
    candles_dir: Path, book: SpecBook, options: RunOptions, tmp_path: Path
) -> None:
    pytest.importorskip("distributed")
    from sim.errors import FeedError

    with pytest.raises(FeedError, match="cannot reach the Dask scheduler"):
        run_sweep(
            "breakout",
            [{}],
            options,
            book,
            candles_dir,
            tmp_path / "c",
            scheduler="tcp://127.0.0.1:9",
        )
