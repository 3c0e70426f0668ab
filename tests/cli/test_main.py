"""The CLI's error mapping: broken config gives one line and exit 2, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def test_unknown_config_key_is_one_line_naming_the_key(run_cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[risk]\nrisk_pct = "1"\nrisk_pcnt = "2"\n')

    result = run_cli("--config", str(bad), "specs", "list", "--exchange", "binanceusdm")

    assert result.exit_code == 2
    assert "risk.risk_pcnt" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_config_that_is_not_toml_is_reported(run_cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[risk\n")

    result = run_cli("--config", str(bad), "specs", "list")

    assert result.exit_code == 2
    assert "not valid TOML" in result.stderr


def test_version_prints_and_exits_zero(run_cli) -> None:
    result = run_cli("--version")

    assert result.exit_code == 0
    assert "microfut 0.1.0" in result.stdout


def test_python_dash_m_runs_the_command_line() -> None:
    """``python -m sim.cli.main`` is ``microfut`` for a shell without the script on PATH."""
    done = subprocess.run(
        [sys.executable, "-m", "sim.cli.main", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0
    assert "microfut 0.1.0" in done.stdout


HEAVY = ("ccxt", "pandas", "sqlmodel", "sqlalchemy", "matplotlib", "textual", "pydantic")


def _modules_after(code: str) -> set[str]:
    """Top-level packages imported by a fresh interpreter running ``code``."""
    script = (
        f"{code}\nimport sys\nprint(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    return set(done.stdout.split())


def test_version_imports_no_heavy_module() -> None:
    code = (
        "from sim.cli import main as m\n"
        "try:\n    m.main(['--version'])\nexcept SystemExit:\n    pass"
    )

    # the settings (pydantic) are read to say where the data home is; nothing else is loaded
    assert not _modules_after(code) & (set(HEAVY) - {"pydantic"})


def test_version_says_where_the_data_home_is(run_cli, tmp_path: Path) -> None:
    result = run_cli("--version")

    assert result.exit_code == 0
    assert f"data home: {tmp_path / 'data'}" in result.stdout


@pytest.mark.parametrize(
    "module", ["calc_cmd", "specs_cmd", "trade_cmd", "run_cmd", "feed_cmd", "replay_cmd"]
)
def test_registering_a_command_group_is_cheap(module: str) -> None:
    code = f"import typer\nfrom sim.cli import {module}\n{module}.register(typer.Typer())"

    assert not _modules_after(code) & set(HEAVY)


def test_root_help_imports_no_heavy_module() -> None:
    """`microfut --help` attaches every group: none may import ccxt, pandas, aiohttp ..."""
    code = (
        "from sim.cli import main as m\ntry:\n    m.main(['--help'])\nexcept SystemExit:\n    pass"
    )

    assert not _modules_after(code) & {*HEAVY, "aiohttp", "websockets"}


def test_a_command_attaches_only_its_own_group() -> None:
    code = (
        "from sim.cli import main as m\n"
        "try:\n    m.main(['calc', 'size', '--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(g.name for g in m.app.registered_groups))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )

    assert "['calc']" in done.stdout


def test_command_word_skips_the_config_value() -> None:
    from sim.cli.main import _command_of

    assert _command_of(["--config", "x.toml", "calc", "size"]) == "calc"
    assert _command_of(["--version"]) is None


def test_root_help_lists_every_group_and_no_bool_metavar_on_version(run_cli) -> None:
    result = run_cli("--help")

    assert result.exit_code == 0
    for name in ("specs", "calc", "trade", "demo", "replay", "run", "journal"):
        assert name in result.stdout
    version_line = next(line for line in result.stdout.splitlines() if "--version" in line)
    assert "<bool>" not in version_line
