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

    from config.settings import Settings
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


def _print_sweep(result: SweepResult) -> None:
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


def _run_on_replay(
    loaded: loader.LoadedStrategy,
    overrides: dict[str, Any],
    options: RunOptions,
    replay: Path,
    window: tuple[int | None, int | None],
) -> RunResult:
    """The strategy over recorded candles, with a progress bar over the bars."""
    from adapters.specs import load_spec_book
    from sim.strategy.run import run_replay

    book = load_spec_book(options.exchange, context.settings())
    with _progress(f"{loaded.cls.strategy_name()} replay") as bar:
        task = bar.add_task("bars", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return run_replay(
            loaded,
            overrides,
            options,
            book,
            replay,
            since_ms=window[0],
            until_ms=window[1],
            progress=advance,
        )


def _interrupted(db: Path | None, strategy: str, started_ms: int) -> str:
    """Where an interrupted run stopped: the last input the journal committed (each batch is
    committed with its account snapshot, so the journal is whole up to there)."""
    from sqlalchemy import text

    from sim.cli.replay_render import interrupt_message
    from sim.errors import MicrofutError
    from sim.journal.store import Journal

    if db is None or not db.exists():
        return "interrupted before the run started; nothing was journaled"
    query = text(
        "SELECT account, params, id FROM sessions WHERE kind = 'strategy' AND started_ms >= :t "
        "ORDER BY id DESC"
    )
    try:
        with Journal.open(db) as journal:
            rows = [r for r in journal.query(query, {"t": started_ms}) if strategy in r[1]]
            if not rows:
                return "interrupted before the run started; nothing was journaled"
            journal.set_session_status(int(rows[0][2]), "interrupted")  # also a live run's
            snapshot = journal.latest_snapshot(rows[0][0])
    except MicrofutError as e:
        return f"interrupted; the journal {db} could not be read back ({e})"
    ts_ms = int(snapshot["now_ms"]) if snapshot else None
    return interrupt_message(ts_ms, rows[0][0], db)


def _mark_completed(db: Path | None, session_id: int | None) -> None:
    """A live run that ended by --minutes (or the feed's end) is a completed session; the
    replay path marks its own session, a Ctrl-C is marked by ``_interrupted``."""
    from sim.journal.store import Journal

    if db is not None and session_id is not None:
        with Journal.open(db) as journal:
            journal.set_session_status(session_id, "completed")


def _fail_with_traceback(e: loader.StrategyError) -> None:
    if e.user_traceback:
        render.stderr.print(e.user_traceback.rstrip(), highlight=False, markup=False)


def _options(exchange: str | None, balance: str | None, db: Path | None) -> RunOptions:
    from sim.strategy.run import RunOptions

    settings = context.settings()
    ex = exchange or settings.exchange.default
    return RunOptions.from_settings(settings, ex, parse_balance(balance), db)


def _replay_data(replay: Path | None, settings: Settings) -> Path:
    """``--replay`` as given, else the first data folder with trade candles (bundled last)."""
    if replay is not None:
        return replay
    from adapters.candles import default_root

    return default_root(settings.data.data_dirs)


def register(app: typer.Typer) -> None:
    """Attach `microfut run` and `microfut sweep` to the root app."""

    @app.command("run")
    def run(
        strategy: Annotated[
            str, typer.Argument(help="STRATEGY.py, or an example: breakout, hedged_bag")
        ],
        replay: Annotated[
            Path | None,
            typer.Option(
                "--replay", help="recorded candle file or folder (default: the data folders)"
            ),
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

        if replay is not None and live:
            raise InputError("pass --replay DATA or --live, not both")
        loaded = loader.load(strategy)
        overrides = P.parse_pairs(loaded.cls, param or [])
        settings = context.settings()
        replay = replay if live else _replay_data(replay, settings)
        options = _options(exchange, balance, db or settings.data.journal_path)
        started_ms = int(datetime.now(tz=UTC).timestamp() * 1000) - 1000
        try:
            if replay is not None:
                window = (parse_time(since, "--from"), parse_time(until, "--until"))
                result = _run_on_replay(loaded, overrides, options, replay, window)
            else:
                from sim.strategy.live import run_live

                book = load_spec_book(options.exchange, settings, endpoint=endpoint)
                result = run_live(loaded, overrides, options, book, settings, endpoint, minutes)
                _mark_completed(options.db, result.session_id)
        except loader.StrategyError as e:
            _fail_with_traceback(e)
            raise
        except KeyboardInterrupt:  # typer would exit 130 without a word
            line = _interrupted(options.db, loaded.cls.strategy_name(), started_ms)
            render.stderr.print(line, markup=False, soft_wrap=True)
            raise typer.Exit(130) from None
        if as_json:
            render.print_json(_run_json(result))
        else:
            _print_run(result)

    @app.command("sweep")
    def sweep(
        strategy: Annotated[
            str, typer.Argument(help="STRATEGY.py, or an example: breakout, hedged_bag")
        ],
        replay: Annotated[
            Path | None,
            typer.Option(
                "--replay", help="recorded candle file or folder (default: the data folders)"
            ),
        ] = None,
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
        replay = _replay_data(replay, settings)
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
