"""A light read-only view of a journal for `journal list` / `journal show`: ``sqlite3`` only.

Those commands should start faster than ``import ccxt``: no SQLAlchemy, sqlmodel or pandas.
The reader opens the file read-only (``mode=ro``, so it never creates, migrates or locks it for
writing) and answers with the same records ``sim.review.frames`` builds. It returns None for
anything unusual (not a current microfut journal, any SQLite error): the caller then takes the
full road (``Journal.open``), which migrates older files and explains every error in one line.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sim.errors import InputError, JournalError
from sim.journal.at_open import at_open
from sim.journal.file_checks import (
    APP_ID,
    SQLITE_MAGIC,
    check_integrity,
    connect_read_only,
    explain,
)
from sim.journal.sessions import SessionInfo, session_infos

READ_VERSION = 4  # the schema this reader knows (tests check it is migrations.LATEST)
# Decimal-as-text columns (tests check them against tables.py's DecimalText columns)
DECIMAL_COLUMNS = {
    "trades": frozenset(
        [
            "entry_price",
            "exit_price",
            "contracts",
            "contract_size",
            "leverage",
            "stop_at_entry",
            "risk_at_entry",
            "realized_pnl",
            "fees",
            "funding",
            "net_pnl",
        ]
    ),
    "orders": frozenset(
        ["contracts", "price", "trigger_price", "stop_loss", "take_profit", "leverage"]
    ),
    "fills": frozenset(
        [
            "contracts",
            "price",
            "fee",
            "realized_pnl",
            "contract_size",
            "position_after",
            "wallet_after",
        ]
    ),
    "funding": frozenset(
        ["rate", "mark_price", "contracts", "contract_size", "amount", "wallet_after"]
    ),
    "liquidations": frozenset(
        [
            "contracts",
            "entry_price",
            "mark_price",
            "liquidation_price",
            "close_price",
            "leverage",
            "mmr",
            "cum",
            "wallet_before",
            "loss",
            "fee",
        ]
    ),
}
BOOL_COLUMNS = frozenset({"reduce_only"})


class JournalReader:
    """Read-only queries over one journal file (a context manager)."""

    def __init__(self, path: Path, con: sqlite3.Connection) -> None:
        self.path = path
        self._con = con

    @classmethod
    def open(cls, path: Path) -> JournalReader | None:
        """A reader, or None when the file needs the full road (see the module docstring)."""
        try:
            with path.open("rb") as f:
                if f.read(16) != SQLITE_MAGIC:
                    return None
            con = connect_read_only(path)
        except (OSError, sqlite3.Error):
            return None
        try:
            check_integrity(con, path)  # a damaged journal is refused here too (exit 5)
        except JournalError:
            con.close()
            raise
        except sqlite3.Error as e:
            con.close()
            raise explain(path, e) from None
        try:
            apps = {r[0] for r in con.execute("SELECT DISTINCT app FROM schema_version")}
            version = con.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
            # a damaged file takes the full road, which explains it (sqlite_file.inspect_file)
            intact = con.execute("PRAGMA quick_check(1)").fetchall() == [("ok",)]
        except sqlite3.Error:
            con.close()
            return None
        if apps != {APP_ID} or version != READ_VERSION or not intact:
            con.close()
            return None
        return cls(path, con)

    def __enter__(self) -> JournalReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._con.close()

    def _records(self, table: str, where: str = "", params: tuple = ()) -> list[dict[str, Any]]:
        cur = self._con.execute(f"SELECT * FROM {table} {where}", params)
        names = [d[0] for d in cur.description]
        decimal = DECIMAL_COLUMNS.get(table, frozenset())
        out = []
        for row in cur.fetchall():
            rec = dict(zip(names, row, strict=True))
            for name in decimal:
                if rec.get(name) is not None:
                    rec[name] = Decimal(rec[name])
            for name in BOOL_COLUMNS:
                if name in rec and rec[name] is not None:
                    rec[name] = bool(rec[name])
            out.append(rec)
        return out

    def user_tags(self) -> dict[int, list[str]]:
        out: dict[int, list[str]] = defaultdict(list)
        for trade_id, tag in self._con.execute("SELECT trade_id, tag FROM trade_tags ORDER BY id"):
            out[int(trade_id)].append(tag)
        return out

    def trades(
        self,
        account: str | None = None,
        symbol: str | None = None,
        tag: str | None = None,
        since_ms: int | None = None,
        until_ms: int | None = None,
    ) -> list[dict[str, Any]]:
        """The records of ``frames.trades_frame`` (close order, same filters, same tags)."""
        clauses, params = [], []
        for clause, value in (
            ("account = ?", account or None),
            ("symbol = ?", symbol or None),
            ("close_ts_ms >= ?", since_ms),
            ("close_ts_ms < ?", until_ms),
        ):
            if value is not None:
                clauses.append(clause)
                params.append(value)
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        rows = self._records("trades", f"{where} ORDER BY close_ts_ms, id", tuple(params))
        extra = self.user_tags()
        out = []
        for r in rows:
            own = r["tag"]
            r["tags"] = ([own] if own else []) + [
                u for u in extra.get(int(r["id"]), []) if u != own
            ]
            if tag and tag not in r["tags"]:
                continue
            out.append(r)
        self._at_open(out)
        for r in out:
            r["opened"] = datetime.fromtimestamp(r["open_ts_ms"] / 1000, tz=UTC)
            r["closed"] = datetime.fromtimestamp(r["close_ts_ms"] / 1000, tz=UTC)
        return out

    def _leverage_changes(self, accounts: set[str]) -> dict[tuple[str, str], list]:
        """(account, symbol) → [(seq, leverage)], as ``frames._leverage_changes``."""
        out: dict[tuple[str, str], list[tuple[int, Decimal]]] = defaultdict(list)
        names = sorted(accounts)
        marks = ", ".join("?" for _ in names)
        rows = self._con.execute(
            "SELECT account, symbol, seq, json_extract(payload, '$.leverage.\"$d\"') "
            f"FROM events WHERE kind = 'LeverageSet' AND account IN ({marks}) ORDER BY seq",
            names,
        ).fetchall()
        orders = self._con.execute(
            "SELECT account, symbol, seq, leverage FROM orders WHERE event = 'accepted' "
            f"AND leverage IS NOT NULL AND account IN ({marks})",
            names,
        ).fetchall()
        for account, symbol, seq, value in [*rows, *orders]:
            out[(account, symbol)].append((int(seq), Decimal(str(value))))
        for changes in out.values():
            changes.sort()
        return out

    def _at_open(self, rows: list[dict[str, Any]]) -> None:
        """Each row's reconciling columns (``at_open.py``: first fill, size traded, ...)."""
        if not rows:
            return
        ids = [int(r["id"]) for r in rows]
        fills: dict[int, list[tuple[int, str, Decimal, Decimal]]] = defaultdict(list)
        marks = ", ".join("?" for _ in ids)
        for trade_id, seq, side, qty, price in self._con.execute(
            "SELECT trade_id, seq, side, contracts, price FROM fills "
            f"WHERE trade_id IN ({marks}) ORDER BY seq",
            ids,
        ):
            fills[int(trade_id)].append((int(seq), side, Decimal(qty), Decimal(price)))
        changes = self._leverage_changes({r["account"] for r in rows})
        for row in rows:
            history = changes.get((row["account"], row["symbol"]), [])
            row.update(at_open(row, fills.get(int(row["id"]), []), history))

    def sessions(self, kind: str | None = None) -> list[SessionInfo]:
        """Every session (of ``kind``), oldest first, as ``Journal.sessions``."""
        rows = self._con.execute(
            "SELECT id, account, kind, params, started_ms FROM sessions ORDER BY id"
        )
        return session_infos(rows, kind)

    def session_statuses(self) -> dict[str, str]:
        """Each account's latest session status, as ``Journal.session_statuses``."""
        return {s.account: s.state for s in self.sessions()}

    def resolve_trade(self, ref: int | str) -> int:
        """Journal trade number for a number or an engine trade id, as ``Journal.resolve_trade``."""
        text_ref = str(ref).strip()
        if text_ref.isdigit():
            rows = self._con.execute("SELECT id FROM trades WHERE id = ?", (int(text_ref),))
        else:
            rows = self._con.execute("SELECT id FROM trades WHERE trade_key = ?", (text_ref,))
        found = rows.fetchall()
        if len(found) == 1:
            return int(found[0][0])
        if len(found) > 1:
            raise InputError(f"trade id '{ref}' is in several accounts; use the trade number")
        raise InputError(
            f"no trade '{ref}' in journal {self.path}; `microfut journal list` shows trade numbers"
        )

    def trade_story(self, ref: int | str) -> dict[str, Any]:
        """The dict of ``frames.trade_story``: the trade, its orders, fills, funding, notes."""
        trade_id = self.resolve_trade(ref)
        trade = self._records("trades", "WHERE id = ?", (trade_id,))[0]
        fills = self._records("fills", "WHERE trade_id = ? ORDER BY seq", (trade_id,))
        claimed = self._records("orders", "WHERE trade_id = ? ORDER BY seq", (trade_id,))
        order_ids = sorted({o["order_id"] for o in claimed} | {f["order_id"] for f in fills})
        marks = ", ".join("?" for _ in order_ids)
        later = self._records(
            "orders",
            f"WHERE account = ? AND order_id IN ({marks}) "
            "AND (trade_id IS NOT ? OR trade_id IS NULL) AND seq > ? AND ts_ms = ?",
            (trade["account"], *order_ids, trade_id, trade["seq"], trade["close_ts_ms"]),
        )
        open_seq = min((f["seq"] for f in fills), default=trade["seq"])
        leverage = [
            {"seq": int(r[0]), "ts_ms": int(r[1]), "leverage": Decimal(str(r[2])),
             "margin_mode": r[3]}
            for r in self._con.execute(
                "SELECT seq, ts_ms, json_extract(payload, '$.leverage.\"$d\"'), "
                "json_extract(payload, '$.margin_mode') FROM events WHERE account = ? "
                "AND symbol = ? AND kind = 'LeverageSet' AND seq > ? AND seq < ? ORDER BY seq",
                (trade["account"], trade["symbol"], open_seq, trade["seq"]),
            )
        ]  # fmt: skip
        keys = ("open_seq", "entry_at_open", "contracts_at_open", "size_traded",
                "risk_at_open", "leverage_at_open")  # fmt: skip
        at_open = [r for r in self.trades(trade["account"], trade["symbol"]) if r["id"] == trade_id]
        reconcile = {k: at_open[0][k] for k in keys} if at_open else {}
        notes = self._con.execute(
            "SELECT id, written_ms, text FROM trade_notes WHERE trade_id = ? ORDER BY id",
            (trade_id,),
        ).fetchall()
        return {
            "trade": trade | reconcile,
            "leverage_changes": leverage,
            "tags": ([trade["tag"]] if trade["tag"] else []) + self.user_tags().get(trade_id, []),
            "orders": sorted(claimed + later, key=lambda o: o["seq"]),
            "fills": fills,
            "funding": self._records("funding", "WHERE trade_id = ?", (trade_id,)),
            "liquidations": self._records("liquidations", "WHERE trade_id = ?", (trade_id,)),
            "notes": [{"id": n[0], "written_ms": n[1], "text": n[2]} for n in notes],
        }
