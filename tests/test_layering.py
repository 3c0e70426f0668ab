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


# ---- the import graph over sim/ and adapters/: no circle, no module over 450 lines -----------
ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("sim", "adapters")
MAX_LINES = 450


def _modules(root: Path = ROOT) -> dict[str, Path]:
    mods: dict[str, Path] = {}
    for pkg in PACKAGES:
        for f in (root / pkg).rglob("*.py"):
            name = ".".join(f.relative_to(root).with_suffix("").parts)
            mods[name.removesuffix(".__init__")] = f
    return mods


def _edges(name: str, path: Path, mods: dict[str, Path]) -> set[str]:
    """Modules ``name`` imports (type-checking imports count: a reader holds them too).

    Package ``__init__`` files are not edges: importing ``sim.journal`` for a name defined in
    ``sim.journal.store`` is resolved to the submodule when the name is one.
    """
    base = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            candidates = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if node.level:
                up = base[: len(base) - node.level + 1]
                mod = ".".join([*up, mod] if mod else up)
            candidates = [mod, *(f"{mod}.{a.name}" for a in node.names)]
        else:
            continue
        for c in candidates:
            while c and c not in mods:
                c = c.rpartition(".")[0]
            if c and c != name and not name.startswith(c + ".") and mods[c].name != "__init__.py":
                out.add(c)
    return out


def _circles(root: Path = ROOT) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    mods = _modules(root)
    graph = {n: sorted(_edges(n, f, mods)) for n, f in mods.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = len(index)
                stack.append(v)
                on.add(v)
            for j in range(i, len(graph[v])):
                w = graph[v][j]
                if w not in index:
                    work += [(v, j + 1), (w, 0)]
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
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
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[v])
    return found


def test_import_graph_finds_a_planted_circle(tmp_path: Path) -> None:
    """The checker itself: two modules importing each other are one circle."""
    pkg = tmp_path / "sim"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from sim.b import x\n")
    (pkg / "b.py").write_text("from sim import a\nx = 1\n")
    (pkg / "c.py").write_text("import sim.a\n")
    (tmp_path / "adapters").mkdir()

    assert _circles(tmp_path) == [["sim.a", "sim.b"]]


def test_no_import_circle_anywhere() -> None:
    assert _circles() == []


def test_no_engine_module_imports_the_account_facade() -> None:
    """Rule modules take the ledger or plain values; only screens and the kernel hold Account."""
    mods = _modules()
    importers = sorted(
        name
        for name, path in mods.items()
        if name.startswith("sim.engine.") and "sim.engine.account" in _edges(name, path, mods)
    )
    assert importers == []


def _oversized() -> dict[str, int]:
    sizes = {n: len(f.read_text(encoding="utf-8").splitlines()) for n, f in _modules().items()}
    return {n: k for n, k in sorted(sizes.items()) if k > MAX_LINES}


def test_no_module_over_450_lines() -> None:
    assert _oversized() == {}


def test_no_screen_or_library_imports_the_command_line() -> None:
    """Imports point one way (style.md): cli -> desk/web/strategy -> session -> engine."""
    mods = _modules()
    offenders = sorted(
        f"{name} imports {dep}"
        for name, path in mods.items()
        if not name.startswith("sim.cli")
        for dep in _edges(name, path, mods)
        if dep.startswith("sim.cli")
    )
    assert offenders == []
