"""`microfut run` and `microfut sweep`: a strategy on recorded or live paper data, and its grids.

A strategy that raises stops the run: its own traceback goes to stderr, the journal keeps every
event committed before the error, and the exit code is 1 (see ``sim/strategy/loader.py``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from sim.cli import context, render
from sim.engine.money import dec
from sim.errors import InputError

if TYPE_CHECKING:
    from rich.progress import Progress

    from sim.strategy import loader
    from sim.strategy.run import RunOptions, RunResult
    from sim.strategy.summary import RunSummary
    from sim.strategy.sweep import SweepResult

# The names of sim.strategy.summary.METRICS, for --help without importing the strategy package
# (tests/cli/test_run_cli.py checks the two lists agree).
METRIC_NAMES = (
    "net_pnl",
    "equity_change",
    "return_pct",
    "win_rate",
    "profit_factor",
    "trades",
    "max_drawdown",
    "fees",
    "funding",
)

ParamOpt = Annotated[
    list[str] | None,
    typer.Option("--param", "-p", help="strategy parameter name=value (repeatable)"),
]
ExchangeOpt = Annotated[
    str | None,
    typer.Option("--exchange", "-e", help="ccxt id \\[default: from config: exchange.default]"),
]
BalanceOpt = Annotated[
    str | None,
    typer.Option(
        "--balance", help="opening balance \\[default: from config: account.starting_balance]"
    ),
]
FromOpt = Annotated[
    str | None, typer.Option("--from", help="replay bars from this UTC time (ISO, e.g. 2025-05-04)")
]
UntilOpt = Annotated[
    str | None, typer.Option("--until", help="replay bars before this UTC time (ISO)")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output", metavar="")]


def parse_time(text: str | None, flag: str) -> int | None:
    """ISO date or date-time (UTC when no zone is given) → epoch ms."""
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(
            f"{flag} expects an ISO date like 2025-05-04T18:00, was {text!r}"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


def parse_balance(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        amount = dec(text)
    except InputError:
        raise InputError(f"--balance expects a number, was {text!r}") from None
    if amount <= 0:
        raise InputError(f"--balance must be > 0, was {text}")
    return amount


def _progress(title: str) -> Progress:
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
        (f"max drawdown {cur}", render.fmt(s.max_drawdown, 2) + pct),
        (f"fees {cur}", render.fmt(s.fees, 2)),
        (f"funding {cur} (+ received)", render.fmt(s.funding, 2)),
        ("liquidations", str(s.liquidations)),
        ("guard denials / rejections", f"{s.denials} / {s.rejections}"),
        ("open positions at the end", str(s.open_positions)),
    ]


def _print_run(r: RunResult) -> None:
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


def _run_json(r: RunResult) -> dict[str, Any]:
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


def _print_sweep(result: SweepResult) -> None:
    names = result.axes
    columns = [
        "rank",
        *names,
        "trades",
        "net P&L",
        "equity chg",
        "max DD",
        "fees",
        "funding",
        "liq.",
        "journal",
    ]
    rows = []
    for row in result.rows:
        s = row.summary
        values = [row.params.get(n, "") for n in names]
        if s is None:
            rows.append(["-", *values, "error", "", "", "", "", "", "", Path(row.journal).name])
            continue
        rows.append(
            [
                str(row.rank),
                *values,
                str(s.trades),
                render.fmt(s.net_pnl, 2),
                render.fmt(s.equity_change, 2),
                render.fmt(s.max_drawdown, 2),
                render.fmt(s.fees, 2),
                render.fmt(s.funding, 2),
                str(s.liquidations),
                Path(row.journal).name,
            ]
        )
    title = f"sweep of {result.strategy}, ranked by {result.metric} · journals in {result.out}"
    render.stdout.print(render.grid_table(title, columns, rows))
    for row in result.failed:
        render.warn(f"run {row.index} ({row.params}) failed: {row.error}")


def _fail_with_traceback(e: loader.StrategyError) -> None:
    if e.user_traceback:
        render.stderr.print(e.user_traceback.rstrip(), highlight=False, markup=False)


def _options(exchange: str | None, balance: str | None, db: Path | None) -> RunOptions:
    from sim.strategy.run import RunOptions

    settings = context.settings()
    ex = exchange or settings.exchange.default
    return RunOptions.from_settings(settings, ex, parse_balance(balance), db)


def register(app: typer.Typer) -> None:
    """Attach `microfut run` and `microfut sweep` to the root app."""

    @app.command("run")
    def run(
        strategy: Annotated[
            str, typer.Argument(help="STRATEGY.py, or an example: breakout, hedged_bag")
        ],
        replay: Annotated[
            Path | None, typer.Option("--replay", help="recorded candle file or folder")
        ] = None,
        live: Annotated[
            bool, typer.Option("--live", help="run on the live paper feed", metavar="")
        ] = False,
        endpoint: Annotated[
            str | None, typer.Option("--endpoint", help="live: compatible exchange base URL")
        ] = None,
        minutes: Annotated[
            float | None, typer.Option("--minutes", help="live: stop after this many minutes")
        ] = None,
        param: ParamOpt = None,
        exchange: ExchangeOpt = None,
        balance: BalanceOpt = None,
        db: Annotated[
            Path | None,
            typer.Option("--db", help="journal file \\[default: from config: data.journal]"),
        ] = None,
        since: FromOpt = None,
        until: UntilOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Run a strategy on recorded candles (--replay) or the live paper feed (--live)."""
        from adapters.specs import load_spec_book
        from sim.strategy import loader
        from sim.strategy import params as P
        from sim.strategy.run import run_replay

        if (replay is None) == (not live):
            raise InputError("pass exactly one of --replay DATA or --live")
        loaded = loader.load(strategy)
        overrides = P.parse_pairs(loaded.cls, param or [])
        settings = context.settings()
        options = _options(exchange, balance, db or settings.data.journal_path)
        try:
            if replay is not None:
                book = load_spec_book(options.exchange, settings)
                with _progress(f"{loaded.cls.strategy_name()} replay") as bar:
                    task = bar.add_task("bars", total=None)

                    def advance(done: int, total: int) -> None:
                        bar.update(task, completed=done, total=total)

                    result = run_replay(
                        loaded,
                        overrides,
                        options,
                        book,
                        replay,
                        since_ms=parse_time(since, "--from"),
                        until_ms=parse_time(until, "--until"),
                        progress=advance,
                    )
            else:
                from sim.strategy.live import run_live

                book = load_spec_book(options.exchange, settings, endpoint=endpoint)
                result = run_live(loaded, overrides, options, book, settings, endpoint, minutes)
        except loader.StrategyError as e:
            _fail_with_traceback(e)
            raise
        if as_json:
            render.print_json(_run_json(result))
        else:
            _print_run(result)

    @app.command("sweep")
    def sweep(
        strategy: Annotated[
            str, typer.Argument(help="STRATEGY.py, or an example: breakout, hedged_bag")
        ],
        replay: Annotated[Path, typer.Option("--replay", help="recorded candle file or folder")],
        param: Annotated[
            list[str] | None,
            typer.Option(
                "--param", "-p", help="name=v1,v2,... (repeatable; every combination runs)"
            ),
        ] = None,
        jobs: Annotated[int, typer.Option("--jobs", "-j", help="runs at once (processes)")] = 1,
        metric: Annotated[
            str, typer.Option("--metric", help=f"rank by: {', '.join(METRIC_NAMES)}")
        ] = "net_pnl",
        out: Annotated[
            Path | None, typer.Option("--out", help="empty folder for the run journals")
        ] = None,
        exchange: ExchangeOpt = None,
        balance: BalanceOpt = None,
        since: FromOpt = None,
        until: UntilOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Run every combination of --param values (in parallel) and rank them by --metric."""
        from adapters.specs import load_spec_book
        from sim.strategy import loader
        from sim.strategy import params as P
        from sim.strategy.sweep import run_sweep

        loaded = loader.load(strategy)
        grid = P.parse_grid(loaded.cls, param or [])
        settings = context.settings()
        options = _options(exchange, balance, None)
        book = load_spec_book(options.exchange, settings)
        if out is None:
            stamp = datetime.now(tz=UTC).strftime("%Y%m%d-%H%M%S")
            out = settings.data.write_path / "sweeps" / f"{loaded.cls.strategy_name()}-{stamp}"
        with _progress(f"sweep {loaded.cls.strategy_name()}") as bar:
            task = bar.add_task("runs", total=len(grid))

            def advance(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            result = run_sweep(
                loaded.ref,
                grid,
                options,
                book,
                replay,
                out,
                jobs=jobs,
                metric=metric,
                since_ms=parse_time(since, "--from"),
                until_ms=parse_time(until, "--until"),
                progress=advance,
            )
        if as_json:
            render.print_json(result)
        else:
            _print_sweep(result)
        if result.failed:
            raise typer.Exit(loader.STRATEGY_EXIT_CODE)
