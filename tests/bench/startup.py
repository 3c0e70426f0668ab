"""Start-up benchmark: whole-command wall time of quick commands vs ``python -c "import ccxt"``.

Run: ``python tests/bench/startup.py [--runs 5]``; prints one JSON document, asserts nothing.
Each command runs ``--runs`` times in a fresh interpreter (the median is reported), after one
warm-up run that may build the offline spec cache; ``import ccxt`` alone is measured the same
way in the same run. ``heavy_imports`` lists which of ccxt, pandas, SQLAlchemy each command
loaded (``python -X importtime``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

HEAVY = ("ccxt", "pandas", "sqlalchemy", "sqlmodel")
RUN = "import sys; from sim.cli.main import main; sys.argv = ['microfut', *sys.argv[1:]]; main()"


def _journal(path: Path) -> None:
    from tests.sim.journal.builders import build_review_journal

    build_review_journal(path).close()


def _commands(db: Path) -> dict[str, list[str]]:
    return {
        "journal list": ["journal", "list", "--db", str(db)],
        "journal show": ["journal", "show", "3", "--db", str(db)],
        "calc liq": ["calc", "liq", "--exchange", "binanceusdm", "--symbol", "BTC/USDT:USDT",
                     "--side", "long", "--entry", "60000", "--contracts", "0.01",
                     "--leverage", "10"],
        "specs show": ["specs", "show", "BTC/USDT:USDT", "--exchange", "binanceusdm",
                       "--price", "60000"],
    }  # fmt: skip


def _wall(argv: list[str], env: dict[str, str], runs: int) -> tuple[float, int]:
    times, code = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(argv, env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - started)
        code = done.returncode
    return statistics.median(times), code


def _heavy(argv: list[str], env: dict[str, str]) -> list[str]:
    done = subprocess.run([argv[0], "-X", "importtime", *argv[1:]], env=env, capture_output=True,
                          text=True)  # fmt: skip
    loaded = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    return [m for m in HEAVY if m in loaded]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "journal.sqlite"
        _journal(db)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "MICROFUT_HOME": str(Path(tmp) / "home")}
        baseline, _ = _wall([sys.executable, "-c", "import ccxt"], env, args.runs)
        result: dict[str, object] = {
            "python": sys.version.split()[0],
            "runs": args.runs,
            "import_ccxt_s": round(baseline, 3),
            "commands": {},
        }
        for name, cmd in _commands(db).items():
            argv = [sys.executable, "-c", RUN, *cmd]
            subprocess.run(argv, env=env, capture_output=True)  # warm-up: spec cache
            wall, code = _wall(argv, env, args.runs)
            result["commands"][name] = {  # type: ignore[index]
                "wall_s": round(wall, 3),
                "vs_import_ccxt": round(wall / baseline, 2),
                "exit_code": code,
                "heavy_imports": _heavy(argv, env),
            }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
