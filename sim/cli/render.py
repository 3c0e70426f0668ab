"""Output helpers: results as rich tables on stdout, or JSON with Decimals as strings."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from sim.display import fmt, to_jsonable, ts_text

__all__ = ["fmt", "to_jsonable", "ts_text"]

__all__ = ["fmt", "ts_text"]  # re-exported: commands print through render

stdout = Console(soft_wrap=True)
stderr = Console(stderr=True, soft_wrap=True)


def print_json(obj: Any) -> None:
    """Print machine-readable output (one JSON document) on stdout."""
    print(json.dumps(to_jsonable(obj), indent=2, sort_keys=False))


def kv_table(title: str, rows: Iterable[tuple[str, Any]]) -> Table:
    """A two-column table of labelled values."""
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value", justify="right")
    for key, value in rows:
        table.add_row(key, value if isinstance(value, str) else fmt(value))
    return table


def grid_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    """A table with a header row; numbers right-aligned."""
    table = Table(title=title, title_justify="left")
    for col in columns:
        table.add_column(col)
    for row in rows:
        table.add_row(*(v if isinstance(v, str) else fmt(v) for v in row))
    return table


def warn(text: str) -> None:
    """A warning line for the human (stderr)."""
    stderr.print(f"[yellow]warning:[/] {text}")
