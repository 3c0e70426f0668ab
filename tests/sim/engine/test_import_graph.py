"""The engine's import graph: no circle (type-only imports count), no module over 450 lines,
and no engine module imports the ``account`` façade (issue 13; style.md §1)."""

from __future__ import annotations

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[3] / "sim" / "engine"
MAX_LINES = 450


def _module(path: Path) -> str:
    parts = path.relative_to(ENGINE.parents[1]).with_suffix("").parts
    return ".".join(parts).removesuffix(".__init__")


def _graph() -> dict[str, set[str]]:
    files = {_module(p): p for p in ENGINE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        out: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                cands = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                cands = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            for c in cands:
                while c and c not in files:
                    c = c.rpartition(".")[0]
                # a package __init__ (sim.engine.venues) is a re-export, not a module edge
                if c and c != name and files[c].name != "__init__.py":
                    out.add(c)
        graph[name] = out
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_circle_in_the_engine() -> None:
    assert _circles(_graph()) == []


def test_no_engine_module_imports_the_account_facade() -> None:
    graph = _graph()
    assert sorted(m for m, deps in graph.items() if "sim.engine.account" in deps) == []


def test_no_engine_module_over_450_lines() -> None:
    sizes = {p.name: len(p.read_text().splitlines()) for p in ENGINE.rglob("*.py")}
    assert {n: s for n, s in sizes.items() if s > MAX_LINES} == {}


def test_the_check_finds_a_circle() -> None:
    assert _circles({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b"]]
