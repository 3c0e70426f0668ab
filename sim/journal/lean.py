"""The journal's lean insert path: raw ``sqlite3`` executemany of plain tuples, and the row
buffer a group commit fills (``group.py``) and flushes once per table."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Table

from sim.errors import InvariantError
from sim.journal.tables import DecimalText


class Lean:
    """The hot tables' insert path: one raw ``sqlite3`` executemany of plain tuples.

    SQLAlchemy stays for the schema, reads and the rare statements; building its insert and
    binding every row through the ORM types cost more than the disk. Decimal columns get the
    exact text ``DecimalText`` would store (a float is refused the same way).
    """

    def __init__(self, table: Table, columns: Sequence[str], defaults: dict[str, Any]) -> None:
        self.sql = (
            f"INSERT INTO {table.name} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)})"
        )
        decimal = {c.name for c in table.columns if isinstance(c.type, DecimalText)}
        self.columns = [(c, defaults.get(c), c in decimal) for c in columns]

    def execute(self, conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            raw = conn.connection.driver_connection
            assert raw is not None
            raw.executemany(self.sql, [self._tuple(r) for r in rows])

    def tuples(self, rows: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return [self._tuple(r) for r in rows]

    def _tuple(self, row: dict[str, Any]) -> tuple[Any, ...]:
        out = []
        for name, default, decimal in self.columns:
            value = row.get(name)
            if value is None:
                value = default
            elif decimal:
                value = _decimal_text(value)
            out.append(value)
        return tuple(out)


def _decimal_text(value: Any) -> str:
    if type(value) is Decimal:
        return str(value)
    if isinstance(value, float):
        raise InvariantError(f"float {value!r} sent to a Decimal journal column")
    return str(value if isinstance(value, Decimal) else Decimal(value))


class RowBuffer:
    """Rows of a group's batches held for one executemany per table at commit.

    A batch's rows join the buffer only once all of them were built (all-or-nothing).
    ``flush`` must run before anything reads the tables (trade claims, order owners) and
    before the commit; the group does that (``needs_reads``).
    """

    def __init__(self, events: Lean) -> None:
        self.events_lean = events
        self.rows: dict[Lean, list[tuple[Any, ...]]] = defaultdict(list)
        self.events: dict[str, dict[int, tuple[str, str]]] = defaultdict(dict)  # account -> seq

    def add(self, account: str, rows: dict[Lean, list[tuple[Any, ...]]]) -> None:
        for lean, tuples in rows.items():
            self.rows[lean].extend(tuples)
            if lean is self.events_lean:
                pending = self.events[account]
                for t in tuples:  # (account, seq, kind, ts_ms, venue, symbol, payload, session)
                    pending[t[1]] = (t[2], t[6])

    def flush(self, conn: Connection) -> None:
        raw = conn.connection.driver_connection
        assert raw is not None
        first = self.events_lean
        for lean in [first, *(x for x in self.rows if x is not first)]:
            tuples = self.rows.pop(lean, None)
            if tuples:
                raw.executemany(lean.sql, tuples)
        self.rows.clear()
        self.events.clear()


# A column's source in a compiled row: the event attribute it reads, or a constant.
Attr = str


class Const:
    """A fixed column value in a compiled row (the event kind, an orders row's event word)."""

    def __init__(self, value: Any) -> None:
        self.value = value


def compile_row(lean: Lean, sources: dict[str, Attr | Const]) -> Any:
    """``event -> row tuple`` for ``lean``'s columns, compiled once per event type.

    The same tuple ``lean.tuples([row])`` gives for the dict row ``{column: getattr(event,
    attr)}``: a column without a source (or reading None) takes its default, Decimal columns
    get ``_decimal_text``. Generated code, because this runs for every fill of a replay.
    """
    env: dict[str, Any] = {"_Decimal": Decimal, "_text": _decimal_text}
    items = []
    for i, (name, default, decimal) in enumerate(lean.columns):
        env[f"d{i}"] = default
        source = sources.get(name)
        if source is None:
            items.append(f"d{i}")
            continue
        if isinstance(source, Const):
            env[f"k{i}"] = source.value
            value = f"k{i}"
        else:
            if not source.isidentifier():
                raise InvariantError(f"bad attribute name {source!r}")
            value = f"e.{source}"
        conv = f"(str(v{i}) if type(v{i}) is _Decimal else _text(v{i}))" if decimal else f"v{i}"
        items.append(f"(d{i} if (v{i} := {value}) is None else {conv})")
    code = f"def build(e):\n    return ({', '.join(items)},)\n"
    exec(compile(code, f"<row {lean.sql[:40]}>", "exec"), env)
    return env["build"]
