"""How `microfut run` and `microfut sweep` show their results: tables, JSON, a progress bar."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.cli import render

if TYPE_CHECKING:
    from rich.progress import Progress

    from sim.strategy.run import RunResult
    from sim.strategy.summary import RunSummary
    from sim.strategy.sweep import SweepResult


def progress(title: str) -> Progress:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        TextColumn(title),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=render.stderr,
        transient=True,
    )


def _summary_rows(s: RunSummary) -> list[tuple[str, Any]]:
    cur = s.currency
    pct = f" ({render.fmt(s.max_drawdown_pct, 2)} %)" if s.max_drawdown_pct is not None else ""
    return [
        ("trades (won / lost)", f"{s.trades} ({s.wins} / {s.losses})"),
        (f"net P&L of closed trades {cur}", render.fmt(s.net_pnl, 2)),
        (
            f"equity change {cur}",
            f"{render.fmt(s.equity_change, 2)} ({render.fmt(s.return_pct, 2)} %)",
        ),
        (f"ending equity {cur}", render.fmt(s.ending_equity, 2)),
        (f"max drawdown at closes {cur}", render.fmt(s.max_drawdown, 2) + pct),
        (f"fees {cur}", render.fmt(s.fees, 2)),
        (f"funding {cur} (+ received)", render.fmt(s.funding, 2)),
        ("liquidations", str(s.liquidations)),
        ("guard denials / rejections", f"{s.denials} / {s.rejections}"),
        ("open positions at the end", str(s.open_positions)),
    ]


def print_run(r: RunResult) -> None:
    params = ", ".join(f"{k}={v}" for k, v in r.params.items())
    render.stdout.print(
        render.kv_table(
            f"{r.strategy} on {r.exchange} ({r.source}) · account {r.account}",
            [("parameters", params), ("bars", str(r.bars)), *_summary_rows(r.summary)],
        )
    )
    for line in r.messages:
        render.stdout.print(f"{r.strategy}: {line}", highlight=False)
    if r.journal:
        render.stdout.print(
            f"review: microfut journal report --db {r.journal} --account {r.account}",
            highlight=False,
        )
    for note in r.notes:
        render.stderr.print(f"note: {note}", highlight=False)


def run_json(r: RunResult) -> dict[str, Any]:
    return {
        "strategy": r.strategy,
        "params": r.params,
        "exchange": r.exchange,
        "source": r.source,
        "account": r.account,
        "journal": r.journal,
        "bars": r.bars,
        "summary": r.summary,
        "messages": r.messages,
        "notes": r.notes,
    }


# optional sweep columns, dropped in this order when the table is wider than the terminal
_SWEEP_OPTIONAL = ("equity chg", "funding", "liq.", "fees")


def _sweep_cells(result: SweepResult) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the sweep table (journal as its run name, e.g. run-003)."""
    names = list(result.axes)
    columns = ["rank", *names, "trades", "net P&L", "equity chg", "max DD", "fees", "funding"]
    columns += ["liq.", "journal"]
    rows = []
    for row in result.rows:
        s = row.summary
        values = [str(row.params.get(n, "")) for n in names]
        run = Path(row.journal).stem
        if s is None:
            rows.append(["-", *values, "error", "", "", "", "", "", "", run])
            continue
        money = [s.net_pnl, s.equity_change, s.max_drawdown, s.fees, s.funding]
        cells = [str(row.rank), *values, str(s.trades), *(render.fmt(m, 2) for m in money)]
        rows.append([*cells, str(s.liquidations), run])
    return columns, rows


def _fit_columns(columns: list[str], rows: list[list[str]], width: int) -> list[int] | None:
    """Indexes of the columns that fit ``width`` unabridged, or None when even the core won't."""
    keep = list(range(len(columns)))
    widths = [max([len(columns[i]), *(len(r[i]) for r in rows)]) for i in keep]

    def needed() -> int:
        return sum(widths[i] for i in keep) + 3 * (len(keep) - 1)  # " │ " without the bar

    for name in _SWEEP_OPTIONAL:
        if needed() <= width:
            break
        keep.remove(columns.index(name))
    return keep if needed() <= width else None


def _pack(pairs: list[str], width: int) -> list[str]:
    """``pairs`` joined by two spaces into lines of at most ``width`` (never split a pair)."""
    lines: list[str] = []
    for pair in pairs:
        if lines and len(lines[-1]) + 2 + len(pair) <= width:
            lines[-1] += "  " + pair
        else:
            lines.append(pair if not lines else "    " + pair)
    return lines


def print_sweep(result: SweepResult) -> None:
    from rich import box
    from rich.table import Table

    columns, rows = _sweep_cells(result)
    title = f"sweep of {result.strategy}, ranked by {result.metric}"
    keep = _fit_columns(columns, rows, render.stdout.width)
    if keep is None:  # too narrow for a table: one block per run
        render.stdout.print(title, highlight=False)
        for r in rows:
            pairs = [f"{columns[i]} {r[i]}" for i in range(len(columns)) if r[i]]
            for line in _pack(pairs, render.stdout.width):
                render.stdout.print(line, highlight=False, soft_wrap=True)
    else:
        table = Table(
            title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False
        )
        for i in keep:
            right = columns[i] not in ("journal", *result.axes)
            table.add_column(columns[i], justify="right" if right else "left", no_wrap=True)
        for r in rows:
            table.add_row(*(r[i] for i in keep))
        render.stdout.print(table)
    render.stdout.print(f"journals: {result.out}/run-NNN.sqlite", highlight=False, soft_wrap=True)
    for row in result.failed:
        render.warn(f"run {row.index} ({row.params}) failed: {row.error}")
