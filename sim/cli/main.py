"""The `microfut` typer app, its command groups, and the one place errors become text.

Every failure a user can cause ends as one line on stderr and a non-zero exit (see
``sim/errors.py`` for the codes); an unexpected exception is logged with its traceback to
``logs/microfut.log`` in the data home and reported as "internal error" (exit 70).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from sim import __version__
from sim.cli import context
from sim.cli.flags import hide_flag_types
from sim.cli.render import stderr
from sim.errors import MicrofutError

log = logging.getLogger("microfut")
hide_flag_types()

app = typer.Typer(
    name="microfut",
    help="Paper-trade crypto futures on real specs and real prices, then review the journal.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        print(f"microfut {__version__}")
        try:
            home = context.settings().data.home_path
        except MicrofutError as e:
            home = f"unknown ({e})"
        print(f"data home: {home}")
        raise typer.Exit()


@app.callback()
def root(
    config: Annotated[
        Path | None, typer.Option("--config", help="TOML file layered over the defaults")
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="print version", metavar=""
        ),
    ] = False,
) -> None:
    """microfut: practise futures trading without risking capital."""
    context.set_config_file(config)


def _command_of(argv: list[str]) -> str | None:
    """The command word of ``argv`` (the first non-option, skipping --config's value)."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--config":
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def _register(argv: list[str] | None = None) -> None:
    """Attach the command groups this invocation needs (all of them when ``argv`` is None).

    `microfut --version` attaches none; `microfut calc ...` only the calc group; help, no
    arguments or an unknown word attach every group so typer can list or suggest them.
    """
    from sim.cli import commands

    if argv is None:
        commands.register(app)
        return
    command = _command_of(argv)
    if command is None and "--version" in argv and "--help" not in argv:
        return
    commands.register(app, command)


def _log_file() -> Path:
    try:
        base = context.settings().data.write_path
    except MicrofutError:
        from config.settings import default_home

        base = default_home()
    path = base / "logs" / "microfut.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    context.set_config_file(None)  # each invocation reads its own settings (tests call main twice)
    _register(sys.argv[1:] if argv is None else argv)
    try:
        # standalone mode: typer itself reports usage errors (exit 2) and handles --help/Exit.
        app(args=argv, prog_name="microfut")
    except MicrofutError as e:
        stderr.print(f"[red]error:[/] {e}", highlight=False)
        raise SystemExit(e.exit_code) from None
    except KeyboardInterrupt as e:  # a command may say where it stopped (replay, run)
        stderr.print(str(e) or "interrupted", markup=False, highlight=False, soft_wrap=True)
        raise SystemExit(130) from None
    except Exception:
        try:
            handler = logging.FileHandler(_log_file())
            log.addHandler(handler)
            log.exception("internal error (argv=%s)", sys.argv)
            where = str(handler.baseFilename)
        except OSError:
            where = "log unavailable"
        stderr.print(f"[red]internal error[/] (details in {where})")
        raise SystemExit(70) from None


if __name__ == "__main__":  # python -m sim.cli.main, as the `microfut` script
    main()
