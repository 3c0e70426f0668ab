"""`microfut trade` (the practice desk) and `microfut demo` (the scripted first session).

The desk (textual), the journal (sqlmodel), ccxt specs and pandas candles are imported inside
the commands, so registering them costs nothing for other commands.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from sim.cli import context, render
from sim.cli.flags import DbOpt, JsonOpt
from sim.cli.render import fmt, kv_table, ts_text
from sim.errors import InputError

if TYPE_CHECKING:
    from config.settings import Settings
    from sim.desk.demo import DemoResult
    from sim.desk.session import DeskSession

NO_TERMINAL = (
    "microfut trade needs an interactive terminal; use `microfut replay` or `microfut run` "
    "for scripted runs"
)


def has_terminal() -> bool:
    """True when both stdin and stdout are terminals (the desk is a full-screen app).

    Tests that drive the desk headless replace this hook (and ``DeskApp.run``).
    """
    return sys.stdin.isatty() and sys.stdout.isatty()


def register(app: typer.Typer) -> None:
    """Attach `trade` and `demo` to the root app."""
    app.command("trade")(trade)
    app.command("demo")(demo)


def _with_dirs(settings: Settings, first: Path) -> Settings:
    """Settings whose data folders start with ``first`` (specs come from the same recording)."""
    dirs = [str(first), *settings.data.dirs]
    return settings.model_copy(update={"data": settings.data.model_copy(update={"dirs": dirs})})


# ---- demo -------------------------------------------------------------------------------------
def _style(line: str) -> str:
    if line.startswith(">"):
        return "bold"
    if line.startswith("→"):
        return "cyan"
    if line.startswith(("LIQUIDATED", "DENIED", "LOCKED", "error")) or " refused: " in line:
        return "bold red"
    if line.startswith(("warning", "funding")):
        return "yellow"
    return ""


def _review_hint(result: DemoResult, settings: Settings) -> str:
    """The command that shows this demo's report again (--db only when not the default)."""
    db = "" if result.journal == settings.data.journal_path else f" --db {result.journal}"
    return f"microfut journal report -a {result.desk.options.account}{db}"


def _print_demo(result: DemoResult, settings: Settings) -> None:
    from sim.desk.describe import money

    account = result.desk.options.account
    out = render.stdout
    out.print(
        f"microfut demo: account '{account}' on {result.desk.book.exchange}, recorded BTC and "
        f"ETH 1h candles with the real 8h funding and mark series from {result.data}",
        markup=False, highlight=False,
    )  # fmt: skip
    for note in result.notes:
        render.warn(note)
    for scene in result.scenes:
        out.rule(f"{ts_text(scene.at_ms)} UTC", style="dim")
        out.print(scene.say, style="italic", markup=False, highlight=False)
        for line in scene.log:
            out.print(f"  {line}", style=_style(line), markup=False, highlight=False)
    desk = result.desk
    cur = desk.options.currency
    wallet = desk.account.wallets().get(cur)
    out.print(kv_table("account after the demo", [
        ("wallet", money(wallet, cur)),
        ("equity", money(desk.equity(), cur)),
        ("open positions", str(len(desk.account.positions()))),
        ("journal", str(result.journal)),
    ]))  # fmt: skip
    from sim.cli import journal_cmd

    journal_cmd.report(account=account, since=None, until=None, db=result.journal, as_json=False)
    out.print(f"review it again: {_review_hint(result, settings)}", markup=False)


def _of(events: Iterable[Any], kind: type) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


def _demo_json(result: DemoResult, settings: Settings) -> dict[str, Any]:
    from sim.engine.events import (
        FundingPaid,
        OrderDenied,
        OrderFilled,
        PositionLiquidated,
        TradeClosed,
    )
    from sim.guards import GuardLocked
    from sim.journal import Journal
    from sim.review import frames, stats

    account = result.desk.options.account
    with Journal.open(result.journal) as journal:
        trades = frames.trades_frame(journal, account)
        start = frames.starting_balances(journal).get(account)
        locks, denials = frames.guard_times(journal, account)
    report = stats.account_report(
        trades, account, start or result.desk.options.starting_balance, settings.risk.risk_pct,
        locks, denials,
    )  # fmt: skip
    ev = result.events
    cur = result.desk.options.currency
    return {
        "data": str(result.data),
        "journal": str(result.journal),
        "account": account,
        "notes": result.notes,
        "scenes": [
            {"at": ts_text(s.at_ms), "at_ms": s.at_ms, "say": s.say, "log": s.log}
            for s in result.scenes
        ],
        "fills": _of(ev, OrderFilled),
        "trades": _of(ev, TradeClosed),
        "funding": _of(ev, FundingPaid),
        "liquidations": _of(ev, PositionLiquidated),
        "locks": _of(ev, GuardLocked),
        "denied": _of(ev, OrderDenied),
        "wallet": result.desk.account.wallets().get(cur),
        "equity": result.desk.equity(),
        "report": report,
    }


def demo(
    data: Annotated[
        Path | None,
        typer.Option("--data", help="recorded data folder (default: the configured data.dirs)"),
    ] = None,
    db: Annotated[
        Path | None,
        typer.Option("--db", help="journal file (default: the journal in the data home)"),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Play a short scripted session on real recorded BTC/ETH prices, then the journal report."""
    from adapters.specs import load_spec_book
    from sim.desk.demo import ACCOUNT, find_demo_data, run_demo
    from sim.desk.session import DeskOptions
    from sim.journal import Journal

    started = time.monotonic()
    settings = context.settings()
    root = find_demo_data(data, settings.data.data_dirs)
    spec_settings = _with_dirs(settings, root) if data is not None else settings
    book = load_spec_book("binanceusdm", spec_settings)
    journal = db if db is not None else settings.data.journal_path
    account = ACCOUNT
    if journal.exists():
        with Journal.open(journal) as existing:
            account = existing.free_account_name(ACCOUNT)
    options = DeskOptions.from_settings(settings, account=account, exchange=book.exchange)
    result = run_demo(options, book, root, journal, fresh=False, account=account)
    if as_json:
        render.print_json(_demo_json(result, settings))
        return
    _print_demo(result, settings)
    render.stderr.print(f"demo played in {time.monotonic() - started:.1f} s", highlight=False)


# ---- trade ------------------------------------------------------------------------------------
def trade(
    exchange: Annotated[
        str | None,
        typer.Option("--exchange", "-e", help="ccxt id \\[default: from config: exchange.default]"),
    ] = None,
    symbols: Annotated[
        list[str] | None, typer.Option("--symbols", "-s", help="symbols to follow (BTC, ETH ...)")
    ] = None,
    account: Annotated[str | None, typer.Option("--account", "-a", help="paper account")] = None,
    replay: Annotated[
        Path | None,
        typer.Option(
            "--replay",
            help="practice offline on a recording or candles; 'auto' = the first data folder "
            "with candles for the symbols (downloads, then the bundled month)",
        ),
    ] = None,
    speed: Annotated[
        float,
        typer.Option(
            "--speed",
            min=0.0,
            help="replay pace, × real time; 0 = start paused (then at the desk: resume, "
            "speed N, step [N] bars, pause)",
        ),
    ] = 1.0,
    endpoint: Annotated[
        str | None, typer.Option("--endpoint", help="base URL of a compatible exchange")
    ] = None,
    db: DbOpt = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="on quit, print the account as JSON (else a table)", metavar=""
        ),
    ] = False,
    exchange_x: Annotated[str | None, typer.Option("-x", hidden=True)] = None,
) -> None:
    """Open the practice desk on live prices (default) or a recording played at ×N.

    The desk is full-screen: without a terminal on stdin and stdout it refuses (exit 2).
    """
    if not has_terminal():
        raise InputError(NO_TERMINAL)
    from adapters.specs import load_spec_book
    from sim.desk.replaying import desk_symbols, first_input, replay_path
    from sim.desk.session import DeskOptions, DeskSession

    settings = context.settings()
    venue = exchange or exchange_x or settings.exchange.default
    book = load_spec_book(venue, settings, endpoint=endpoint if replay is None else None)
    wanted = desk_symbols(book, symbols)
    recorded: Any = None
    replay = replay_path(replay, settings.data.data_dirs, wanted)
    if replay is not None:
        recorded, start_ms = first_input(replay, venue, wanted)
        pace = "paused" if speed == 0 else f"×{fmt(speed)}"
        where = f"replay {replay} {pace}"
    else:
        start_ms, where = int(time.time() * 1000), f"live {endpoint or venue}"
    if replay is None:
        _check_online(venue, settings, endpoint)
    options = DeskOptions.from_settings(
        settings, account=account, exchange=venue, mark_from_last=replay is not None
    )
    journal = db or settings.data.journal_path
    desk = DeskSession.open(options, book, journal, start_ms=start_ms, kind="trade",
                            params={"source": where, "symbols": wanted})  # fmt: skip
    try:
        if recorded is not None:
            from sim.desk.replaying import replay_clock, replay_feed, replay_notes, resume_ms

            start_ms = resume_ms(desk, recorded, wanted, start_ms)
            for note in replay_notes(recorded, wanted):
                desk.note(note)
            desk.clock = replay_clock(recorded, speed)
            if speed == 0:
                desk.note(f"replay paused at {ts_text(start_ms)} UTC (--speed 0): type resume, "
                          "speed N or step N")  # fmt: skip
            feed = replay_feed(desk, recorded, wanted, start_ms, desk.clock)
        else:
            from adapters.live import open_feed

            feed = open_feed(venue, wanted, settings, endpoint=endpoint)
        from sim.desk.app import Confirm, DeskApp

        confirm = Confirm(settings.risk.confirm_notional_x_equity, settings.risk.confirm_leverage)
        # the pace lives in the status line (it changes); the subtitle names what never does
        source = f"replay {replay.name}" if replay is not None else f"live {endpoint or venue}"
        app = DeskApp(desk, wanted, feed, subtitle=f"{options.account} · {venue} · {source}",
                      confirm=confirm)  # fmt: skip
        app.run()
    finally:
        desk.close()
    if app.fatal is not None:
        raise app.fatal
    _print_account(desk, as_json)
    _check_exit(app)


def _check_online(venue: str, settings: Settings, endpoint: str | None) -> None:
    """A live desk that cannot reach the venue at all says so and exits 4 before opening (the
    feed would retry forever behind a screen of '-'); drops later are shown on the desk."""
    import asyncio

    from adapters.live import check_reachable

    asyncio.run(check_reachable(venue, settings, endpoint))


def _check_exit(app: Any) -> None:
    """A desk that crashed or hit internal errors exits non-zero (70) with one line."""
    from sim.errors import InvariantError

    if app.internal_errors:
        raise InvariantError(
            f"the desk hit {app.internal_errors} internal error(s), shown in its log; "
            "the journal holds every committed event"
        )
    if app.return_code:
        raise InvariantError(f"the desk stopped with an error (exit code {app.return_code})")


def _print_account(desk: DeskSession, as_json: bool) -> None:
    """The account as the desk left it (positions with multiplier and liquidation price)."""
    from sim.desk.describe import money

    acct = desk.account
    cur = desk.options.currency
    if as_json:
        render.print_json({
            "account": desk.options.account, "venue": desk.book.exchange,
            "wallets": acct.wallets(), "equity": desk.equity(), "positions": acct.positions(),
            "open_orders": [o.to_dict() for o in acct.open_orders()],
        })  # fmt: skip
        return
    render.stdout.print(kv_table(f"account {desk.options.account} on {desk.book.exchange}", [
        *((f"{c} wallet", money(v, c)) for c, v in acct.wallets().items()),
        ("equity", money(desk.equity(), cur)),
        ("open positions", str(len(acct.positions()))),
        ("working orders", str(len(acct.open_orders()))),
    ]))  # fmt: skip
    if acct.positions():
        from sim.desk.panels import position_rows, position_table

        render.stdout.print("open positions", style="bold")
        render.stdout.print(position_table(position_rows(desk), render.stdout.width))
