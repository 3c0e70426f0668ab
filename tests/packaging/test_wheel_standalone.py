"""The wheel stands on its own: installed into a fresh virtualenv, run from an empty folder with
HOME a temporary folder and no recorded-data folder anywhere, the README's first commands work
and nothing is written inside the installation (issue 12).

Slow (builds a wheel, makes a venv): about 30-60 s.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _run(args: list[str], *, cwd: Path, env: dict[str, str], timeout: float = 180) -> str:
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{args} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], Path]:
    """(venv, environment, empty working folder) with the freshly built wheel installed."""
    base = tmp_path_factory.mktemp("wheel")
    dist = base / "dist"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "MICROFUT_"))}
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
         "-w", str(dist), str(ROOT)],
        check=True, capture_output=True, timeout=300, env=clean,
    )  # fmt: skip
    wheel = next(dist.glob("microfut-*.whl"))
    env_dir = base / "venv"
    # the dependencies come from this interpreter's site-packages; microfut only from the wheel
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    # --ignore-installed: the development install (editable, outside the venv) is not this one
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps",
         "--ignore-installed", "-q", str(wheel)],
        check=True, capture_output=True, timeout=300, env=clean,
    )  # fmt: skip
    home, work = base / "home", base / "work"
    home.mkdir()
    work.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MICROFUT_", "XDG_", "PYTHON")) and k != "VIRTUAL_ENV"
    }
    env |= {"HOME": str(home), "COLUMNS": "120", "PATH": f"{env_dir / 'bin'}:{env['PATH']}"}
    return env_dir, env, work


def test_package_comes_from_the_wheel(installed: tuple[Path, dict[str, str], Path]) -> None:
    env_dir, env, work = installed
    where = _run(
        [str(env_dir / "bin/python"), "-c", "import sim, microfut_data; "
         "print(sim.__file__); print(microfut_data.SAMPLE_DIR)"],
        cwd=work, env=env,
    ).split()  # fmt: skip
    assert all(str(env_dir) in w for w in where), where


def test_demo_calc_and_journal_from_an_empty_folder(
    installed: tuple[Path, dict[str, str], Path],
) -> None:
    env_dir, env, work = installed
    microfut = str(env_dir / "bin" / "microfut")
    home = Path(env["HOME"])

    demo = _run([microfut, "demo"], cwd=work, env=env)
    assert "LIQUIDATED" in demo

    liq = json.loads(
        _run([microfut, "calc", "liq", "--exchange", "binanceusdm", "--symbol", "BTC/USDT:USDT",
              "--side", "long", "--entry", "60000", "--contracts", "0.01", "--leverage", "10",
              "--json"], cwd=work, env=env)
    )  # fmt: skip
    # Binance FAQ formula, tier 1 (mmr 0.4 %, cum 0): 54,216.87 (README's worked example)
    assert liq["liquidation_price"] == "54216.87"

    report = json.loads(_run([microfut, "journal", "report", "--json"], cwd=work, env=env))
    (demo_account,) = report["accounts"]
    assert demo_account["account"] == "demo"
    assert demo_account["summary"]["trades"] >= 1

    for venue, symbol in (("bybit", "BTC/USD:BTC"), ("bingx", "ETH/USDT:USDT"),
                          ("mexc", "BTC/USDT:USDT"), ("weex", "BTC/USDT:USDT"),
                          ("binancecoinm", "BTC/USD:BTC")):  # fmt: skip
        _run([microfut, "specs", "show", symbol, "--exchange", venue, "--price", "60000"],
             cwd=work, env=env)  # fmt: skip

    version = _run([microfut, "--version"], cwd=work, env=env)
    data_home = home / ".local" / "share" / "microfut"
    assert f"data home: {data_home}" in version
    assert (data_home / "journal.sqlite").is_file()
    written_inside = [p for p in env_dir.rglob("*") if p.suffix in (".sqlite", ".log")]
    assert written_inside == []
    assert list(work.iterdir()) == []
