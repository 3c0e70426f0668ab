"""The engine is pure: it imports only the stdlib, numpy and sim.errors/sim.engine."""

from __future__ import annotations

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[1] / "sim" / "engine"
ALLOWED_TOP = {"numpy", "sim"}
FORBIDDEN_STDLIB = {"asyncio", "socket", "sqlite3", "time", "random", "uuid", "os", "io", "pathlib"}


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_engine_imports_no_adapters_or_io() -> None:
    offenders = []
    for path in ENGINE.rglob("*.py"):
        for name in _imports(path):
            top = name.split(".")[0]
            if (
                (
                    name.startswith("sim.")
                    and not (name.startswith("sim.engine") or name == "sim.errors")
                )
                or top in FORBIDDEN_STDLIB
                or (top not in ALLOWED_TOP and top not in _stdlib())
            ):
                offenders.append(f"{path.name}: {name}")

    assert offenders == []


def _stdlib() -> set[str]:
    import sys

    return set(sys.stdlib_module_names) | {"__future__"}
