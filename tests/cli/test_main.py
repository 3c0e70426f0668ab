"""The CLI's error mapping: broken config gives one line and exit 2, never a traceback."""

from __future__ import annotations

from pathlib import Path


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
