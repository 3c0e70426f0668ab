"""`microfut web`: the desk and the journal in the browser (thin: the work is in sim/web)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim.cli import context
from sim.cli.flags import LeverageOpt, MarginModeOpt


def register(app: typer.Typer) -> None:
    """Attach `web` to the root app."""
    app.command("web")(web)


def web(
    replay: Annotated[
        Path | None,
        typer.Option(
            "--replay",
            help="practice offline on recorded candles/frames; 'auto' = the first data "
            "folder with candles for the symbols (downloads, then the bundled month)",
        ),
    ] = None,
    port: Annotated[
        int, typer.Option("--port", "-p", min=0, max=65535, help="port (0 = a free one)")
    ] = 8000,
    host: Annotated[
        str, typer.Option("--host", help="address to bind; any but 127.0.0.1 needs --token")
    ] = "127.0.0.1",
    token: Annotated[
        str | None, typer.Option("--token", help="secret every request must carry")
    ] = None,
    speed: Annotated[
        float, typer.Option("--speed", min=0.0, help="replay pace, × real time; 0 = paused")
    ] = 1.0,
    symbols: Annotated[
        list[str] | None, typer.Option("--symbols", "-s", help="symbols to follow (BTC, ETH ...)")
    ] = None,
    account: Annotated[str | None, typer.Option("--account", "-a", help="paper account")] = None,
    margin_mode: MarginModeOpt = None,
    leverage: LeverageOpt = None,
    exchange: Annotated[
        list[str] | None,
        typer.Option(
            "--exchange",
            "-e",
            help="ccxt id; repeat it or list several (binanceusdm,bybit) to trade them side by "
            "side, each on its own account \\[default: from config: exchange.default]",
        ),
    ] = None,
    endpoint: Annotated[
        list[str] | None,
        typer.Option(
            "--endpoint",
            help="base URL of a compatible exchange; with several venues VENUE=URL, repeated",
        ),
    ] = None,
    db: Annotated[
        Path | None,
        typer.Option("--db", help="journal file \\[default: journal.sqlite in the data home]"),
    ] = None,
) -> None:
    """Serve the desk, journal and report as a local web app (prints its URL)."""
    from config.settings import with_account
    from sim.web.app import build_app
    from sim.web.server import bind, check_bind, open_desk, serve, url_of

    check_bind(host, token)
    settings = with_account(context.settings(), margin_mode=margin_mode, leverage=leverage)
    sock = bind(host, port)
    try:
        desk = open_desk(
            settings, replay=replay, symbols=symbols, account=account, exchange=exchange,
            speed=speed, endpoint=endpoint, journal=db or settings.data.journal_path,
        )  # fmt: skip
    except BaseException:
        sock.close()
        raise
    try:
        app = build_app(desk, token=token, risk_pct=settings.risk.risk_pct)
        serve(app, sock, url_of(sock, host, token), desk)
    except KeyboardInterrupt:
        pass
    finally:
        desk.close()
    if desk.fatal is not None:
        raise desk.fatal
