"""`microfut replay`: run ORDERS.csv against recorded real candles and print the final account.

The command parses flags and prints; the replay itself is library work in
``sim/orders_replay.py`` (through the session kernel).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sim.cli import context, render
from sim.cli.flags import user_tier
from sim.cli.replay_render import interrupt_message, print_result, result_json
from sim.errors import InputError

if TYPE_CHECKING:
    from sim.engine.spec import MarginTier
    from sim.orders_replay import ReplayResult


def run_replay(
    exchange: str,
    data: Path | None,
    orders_path: Path,
    balance: Decimal | None,
    timeframe: str | None = None,
    db: Path | None = None,
    fast: bool = True,
    account_name: str | None = None,
    tier: MarginTier | None = None,
    maker_fee: Decimal | None = None,
    taker_fee: Decimal | None = None,
    guards: bool = False,
    resume: bool = False,
    show_progress: bool = False,
) -> ReplayResult:
    """Read the settings, then replay through :func:`sim.orders_replay.run_orders`."""
    from adapters.specs import load_spec_book
    from sim.guards import GuardLimits
    from sim.orders_replay import ReplayInterrupted, ReplayOptions, run_orders

    settings = context.settings()
    limits = GuardLimits.from_risk(settings.risk, settings.account.currency) if guards else None
    options = ReplayOptions(
        exchange=exchange,
        balance=balance if balance is not None else settings.account.starting_balance,
        slippage_bps=settings.fills.slippage_bps,
        upnl_price=settings.fills.upnl_price,
        account=account_name or settings.account.name,
        timeframe=timeframe,
        db=db,
        fast=fast,
        tier=tier,
        maker_fee=maker_fee,
        taker_fee=taker_fee,
        limits=limits,
        resume=resume,
    )
    book = load_spec_book(exchange, settings)
    try:
        with _bars_progress(show_progress) as advance:
            return run_orders(
                replace(options, progress=advance), book, data, orders_path, warn=render.warn,
                data_dirs=settings.data.data_dirs,
            )  # fmt: skip
    except ReplayInterrupted as e:
        line = interrupt_message(e.ts_ms or None, e.account, db)
        raise KeyboardInterrupt(line) from None


@contextmanager
def _bars_progress(show: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A transient bar on stderr for a candle replay (a month of 1m bars takes seconds)."""
    if not show:
        yield None
        return
    from sim.cli.run_render import progress

    with progress("replay") as bar:
        task = bar.add_task("bars", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


def _number(flag: str, text: str | None) -> Decimal | None:
    from sim.engine.money import dec

    if text is None:
        return None
    try:
        return dec(text)
    except InputError:
        raise InputError(f"{flag} expects a number, was {text!r}") from None


def fee_rate(flag: str, text: str | None) -> Decimal | None:
    """A fee rate flag, checked before any data is read (the same bounds as
    ``sim.engine.spec.with_fees``: a fraction below 1, a maker rebate above -1, a taker ≥ 0)."""
    rate = _number(flag, text)
    low = Decimal(0) if flag == "--taker-fee" else Decimal(-1)
    if rate is not None and not (low <= rate < 1 and rate != -1):
        raise InputError(
            f"{flag} must be a fraction between {low} and 1 (0.0005 = 0.05 %), was {rate}"
        )
    return rate


def _tier(mmr: str | None, maint: str | None) -> MarginTier | None:
    """One user-given maintenance tier (--mmr, --maint-amount) for symbols without recorded ones."""
    return user_tier(_number("--mmr", mmr), _number("--maint-amount", maint), 1)


def register(app: typer.Typer) -> None:
    """Attach `microfut replay` to the root app."""

    @app.command("replay")
    def replay(
        orders: Annotated[Path, typer.Option("--orders", help="ORDERS.csv to run")],
        data: Annotated[
            Path | None,
            typer.Option(
                "--data",
                help="recorded candles (file or folder) or a raw capture "
                "(default: the first data folder with candles for the orders' symbols)",
            ),
        ] = None,
        exchange: Annotated[
            str | None, typer.Option("--exchange", "-e", help="ccxt id (default from config)")
        ] = None,
        balance: Annotated[
            str | None, typer.Option("--balance", help="opening balance (default from config)")
        ] = None,
        timeframe: Annotated[
            str | None, typer.Option("--timeframe", help="candle timeframe (default: finest)")
        ] = None,
        db: Annotated[
            Path | None, typer.Option("--db", help="write the events to this journal file")
        ] = None,
        account: Annotated[
            str | None,
            typer.Option(
                "--account", help="account name in the journal (taken: NAME-2, NAME-3 ...)"
            ),
        ] = None,
        mmr: Annotated[
            str | None,
            typer.Option("--mmr", help="maintenance-margin rate for symbols without tiers"),
        ] = None,
        maint_amount: Annotated[
            str | None, typer.Option("--maint-amount", help="maintenance amount (cum) with --mmr")
        ] = None,
        maker_fee: Annotated[
            str | None, typer.Option("--maker-fee", help="maker fee rate, e.g. 0.0002 (0.02 %)")
        ] = None,
        taker_fee: Annotated[
            str | None, typer.Option("--taker-fee", help="taker fee rate, e.g. 0.0005 (0.05 %)")
        ] = None,
        guards: Annotated[
            bool, typer.Option("--guards", help="apply the [risk] discipline guards to the orders")
        ] = False,
        every_bar: Annotated[
            bool, typer.Option("--every-bar", help="play every bar (no skipping; slower)")
        ] = False,
        resume: Annotated[
            bool,
            typer.Option(
                "--resume",
                help="continue the interrupted replay of these same settings in --db (a plain "
                "rerun does too; --resume fails when there is nothing to continue)",
            ),
        ] = False,
        as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
    ) -> None:
        """Replay ORDERS.csv against recorded real candles; print balances, positions, trades."""
        amount = _number("--balance", balance)
        if amount is not None and amount <= 0:
            raise InputError(f"--balance must be > 0, was {balance}")
        if account is not None and not account.strip():
            raise InputError("--account needs a name")
        tier = _tier(mmr, maint_amount)
        ex = exchange or context.settings().exchange.default
        try:
            result = run_replay(
                ex,
                data,
                orders,
                amount,
                timeframe,
                db,
                not every_bar,
                account and account.strip(),
                tier,
                fee_rate("--maker-fee", maker_fee),
                fee_rate("--taker-fee", taker_fee),
                guards,
                resume,
                show_progress=not as_json,
            )
        except KeyboardInterrupt as e:  # typer would exit 130 without a word
            render.stderr.print(str(e) or "interrupted", markup=False, soft_wrap=True)
            raise typer.Exit(130) from None
        if as_json:
            render.print_json(result_json(result))
        else:
            print_result(result)


__all__ = ["register", "run_replay"]
