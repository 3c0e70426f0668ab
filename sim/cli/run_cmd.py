"""`microfut run` and `microfut sweep`: a strategy on recorded or live paper data, and its grids.

A strategy that raises stops the run: its own traceback goes to stderr, the journal keeps every
event committed before the error, and the exit code is 1 (see ``sim/strategy/loader.py``).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from sim.cli import context, render, run_render
from sim.cli.flags import ExchangeOpt, JsonOpt, MakerFeeOpt, TakerFeeOpt
from sim.engine.money import dec
from sim.errors import InputError

if TYPE_CHECKING:
    from config.settings import Settings
    from sim.strategy import loader
    from sim.strategy.run import RunOptions, RunResult

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
    with run_render.progress(f"{loaded.cls.strategy_name()} replay") as bar:
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
        "SELECT account, params, id FROM sessions WHERE kind = 'strategy' ORDER BY id DESC"
    )

    def ours(params: str) -> bool:  # this process's session (a resumed one started earlier)
        try:
            doc = json.loads(params)
        except ValueError:
            return False
        return doc.get("pid") == os.getpid() and doc.get("strategy") == strategy

    try:
        with Journal.open(db) as journal:
            rows = [r for r in journal.query(query) if ours(r[1])]
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


def _options(
    exchange: str | None,
    balance: str | None,
    db: Path | None,
    fees: tuple[str | None, str | None] = (None, None),
    every_bar: bool = False,
    resume: bool = False,
) -> RunOptions:
    from dataclasses import replace

    from sim.cli.replay_cmd import fee_rate
    from sim.strategy.run import RunOptions

    settings = context.settings()
    ex = exchange or settings.exchange.default
    options = RunOptions.from_settings(settings, ex, parse_balance(balance), db)
    maker, taker = fee_rate("--maker-fee", fees[0]), fee_rate("--taker-fee", fees[1])
    return replace(options, maker_fee=maker, taker_fee=taker, every_bar=every_bar, resume=resume)


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
        maker_fee: MakerFeeOpt = None,
        taker_fee: TakerFeeOpt = None,
        every_bar: Annotated[
            bool,
            typer.Option(
                "--every-bar", help="replay: play every bar's path (no skipping; same results)"
            ),
        ] = False,
        resume: Annotated[
            bool,
            typer.Option(
                "--resume",
                help="continue the interrupted replay run of these same settings (a plain "
                "rerun does too; --resume fails when there is nothing to continue)",
            ),
        ] = False,
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
        journal = db or settings.data.journal_path
        options = _options(
            exchange, balance, journal, (maker_fee, taker_fee), every_bar=every_bar, resume=resume
        )
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
            render.print_json(run_render.run_json(result))
        else:
            run_render.print_run(result)

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
        scheduler: Annotated[
            str | None,
            typer.Option(
                "--scheduler",
                help="Dask scheduler address (tcp://host:8786): run the grid on that cluster "
                '(pip install -e ".[cluster]"; workers must see the same files)',
            ),
        ] = None,
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
        with run_render.progress(f"sweep {loaded.cls.strategy_name()}") as bar:
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
                scheduler=scheduler,
            )
        if as_json:
            render.print_json(result)
        else:
            run_render.print_sweep(result)
        if result.failed:
            raise typer.Exit(loader.STRATEGY_EXIT_CODE)
