"""Parameter sweeps: run every combination of a grid, in parallel processes, and rank the results.

The local process pool is the default; ``scheduler`` runs the same tasks on a Dask distributed
cluster instead (optional extra ``cluster``), with identical results.

Each combination is a complete, independent replay (the same code path as ``microfut run``)
with its own journal file ``run-NNN.sqlite`` in the output folder, so any row can be reviewed
with ``microfut journal report --db OUT/run-NNN.sqlite``. ``sweep.json`` in the folder lists
the parameters and summary of each run. A run whose strategy raises is reported in its row
(the others go on); its journal holds everything up to the failure.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from adapters.specs import SpecBook
from sim.errors import FeedError, InputError, MicrofutError
from sim.strategy import loader
from sim.strategy import params as P
from sim.strategy.run import RunOptions, run_replay
from sim.strategy.summary import METRICS, RunSummary

MAX_RUNS = 1000


@dataclass(frozen=True, slots=True)
class SweepTask:
    """One combination to run (picklable: the worker reloads the strategy from ``ref``)."""

    index: int
    ref: str
    overrides: dict[str, Any]
    options: RunOptions
    book: SpecBook
    data: Path
    since_ms: int | None
    until_ms: int | None


@dataclass
class SweepRow:
    """The outcome of one combination; ``error`` is set when the strategy raised."""

    index: int
    params: dict[str, str]
    journal: str
    account: str = ""
    summary: RunSummary | None = None
    error: str | None = None
    rank: int | None = None


@dataclass
class SweepResult:
    strategy: str
    metric: str
    out: str
    rows: list[SweepRow]
    axes: list[str]  # the swept parameters, in the order given

    @property
    def failed(self) -> list[SweepRow]:
        return [r for r in self.rows if r.error is not None]


def run_task(task: SweepTask) -> SweepRow:
    """Run one combination (in a worker process); a failure becomes the row's ``error``."""
    db = task.options.db
    row = SweepRow(task.index, P.as_text(task.overrides), str(db))
    try:
        loaded = loader.load(task.ref)
        result = run_replay(
            loaded,
            task.overrides,
            task.options,
            task.book,
            task.data,
            since_ms=task.since_ms,
            until_ms=task.until_ms,
        )
    except loader.StrategyError as e:
        row.error = str(e)
        return row
    except MicrofutError as e:
        row.error = f"{type(e).__name__}: {e}"
        return row
    row.account, row.summary = result.account, result.summary
    row.params = result.params
    return row


def _key(metric: str) -> Callable[[SweepRow], tuple[int, Decimal]]:
    higher = METRICS[metric]

    def key(row: SweepRow) -> tuple[int, Decimal]:
        value = getattr(row.summary, metric, None) if row.summary is not None else None
        if value is None:
            return (1, Decimal(0))
        value = Decimal(value)
        return (0, -value if higher else value)

    return key


def rank(rows: list[SweepRow], metric: str) -> list[SweepRow]:
    """Rows best first by ``metric`` (ties keep grid order); failed runs last, unranked."""
    ordered = sorted(rows, key=lambda r: (*_key(metric)(r), r.index))
    n = 0
    for row in ordered:
        if row.summary is not None:
            n += 1
            row.rank = n
    return ordered


def prepare_out(out: Path) -> Path:
    """Create the output folder; refuse one that already holds files (journals would mix)."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(f"--out {out} is not an empty folder; name a new one")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"cannot create --out {out}: {e.strerror}") from None
    return out


def run_sweep(
    ref: str,
    grid: list[dict[str, Any]],
    options: RunOptions,
    book: SpecBook,
    data: Path,
    out: Path,
    *,
    jobs: int = 1,
    metric: str = "net_pnl",
    since_ms: int | None = None,
    until_ms: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    scheduler: str | None = None,
) -> SweepResult:
    """Run each combination of ``grid`` (``jobs`` processes at once, or on the Dask cluster
    at ``scheduler``) and rank by ``metric``."""
    if metric not in METRICS:
        raise InputError(f"--metric must be one of {', '.join(METRICS)}, was {metric!r}")
    if not 1 <= len(grid) <= MAX_RUNS:
        raise InputError(f"a sweep runs 1 to {MAX_RUNS} combinations, the grid has {len(grid)}")
    if jobs < 1:
        raise InputError(f"--jobs must be at least 1, was {jobs}")
    loaded = loader.load(ref)
    for combo in grid:
        loaded.cls(**combo)  # bad values stop the sweep before anything runs
    prepare_out(out)
    tasks = [
        SweepTask(
            i + 1,
            loaded.ref,
            combo,
            replace(options, db=out / f"run-{i + 1:03d}.sqlite"),
            book,
            data,
            since_ms,
            until_ms,
        )
        for i, combo in enumerate(grid)
    ]
    rows: list[SweepRow] = []
    if scheduler is not None:
        rows = _run_on_cluster(scheduler, tasks, progress)
    elif jobs == 1:
        for task in tasks:
            rows.append(run_task(task))
            if progress is not None:
                progress(len(rows), len(tasks))
    else:
        with ProcessPoolExecutor(max_workers=min(jobs, len(tasks))) as pool:
            futures = [pool.submit(run_task, t) for t in tasks]
            for fut in as_completed(futures):
                rows.append(fut.result())
                if progress is not None:
                    progress(len(rows), len(tasks))
    axes = list(grid[0])
    result = SweepResult(loaded.cls.strategy_name(), metric, str(out), rank(rows, metric), axes)
    _write_index(out, result)
    return result


def _run_on_cluster(
    scheduler: str, tasks: list[SweepTask], progress: Callable[[int, int], None] | None
) -> list[SweepRow]:
    """Run the tasks on a Dask distributed cluster (``pip install -e ".[cluster]"``).

    Workers run the same ``run_task`` as the local pool, so the rows are identical; they must
    see the same files (strategy, data, the ``--out`` folder) at the same paths, e.g. a shared
    filesystem. ``scheduler`` is an address (``tcp://host:8786``).
    """
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise InputError(
            'sweep --scheduler needs Dask distributed: pip install -e ".[cluster]"'
        ) from None
    try:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError, ValueError) as e:
        raise FeedError(f"cannot reach the Dask scheduler at {scheduler}: {e}") from None
    rows: list[SweepRow] = []
    try:
        futures = [client.submit(run_task, t, pure=False) for t in tasks]
        for fut in as_completed(futures):
            rows.append(fut.result())
            if progress is not None:
                progress(len(rows), len(tasks))
    finally:
        client.close()
    return rows


CONNECT_TIMEOUT_S = 5


def _write_index(out: Path, result: SweepResult) -> None:
    data = {**asdict(result), "failed": len(result.failed)}
    text = json.dumps(data, indent=2, default=str)  # Decimals keep their exact text
    (out / "sweep.json").write_text(text, encoding="utf-8")
