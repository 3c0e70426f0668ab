"""`microfut journal list|show|note|tag|report|plot|export`: review what happened, and learn."""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sim.cli import context, render
from sim.cli import journal_render as jr
from sim.cli.flags import DbOpt, JsonOpt
from sim.cli.render import grid_table
from sim.display import parse_date
from sim.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from sim.journal import Journal
    from sim.journal.reader import JournalReader
    from sim.review import stats
    from sim.review.outputs import OutFolder

journal_app = typer.Typer(help="The trade journal: list, show, note, tag, report, plot, export.")

AccountOpt = Annotated[str | None, typer.Option("--account", "-a", help="only this account")]
SinceOpt = Annotated[
    str | None, typer.Option("--since", help="closed on/after DATE (YYYY-MM-DD or ISO, UTC)")
]
UntilOpt = Annotated[
    str | None, typer.Option("--until", help="closed before the end of DATE (UTC)")
]


def register(app: typer.Typer) -> None:
    """Attach this module's commands to the root app."""
    app.add_typer(journal_app, name="journal")


def _open(db: Path | None) -> Journal:
    """Open an existing journal; a missing file is a user error, not a new empty journal."""
    from sim.journal import Journal

    path = db if db is not None else context.settings().data.journal_path
    if not path.exists():
        raise InputError(f"no journal at {path} yet; run `microfut replay`/`demo` first")
    return Journal.open(path)


def _reader(db: Path | None) -> JournalReader | None:
    """The read-only sqlite3 reader of an existing current journal, else None (full road)."""
    from sim.journal.reader import JournalReader

    path = db if db is not None else context.settings().data.journal_path
    return JournalReader.open(path) if path.exists() else None


@journal_app.command("list")
def list_trades(
    account: AccountOpt = None,
    symbol: Annotated[str | None, typer.Option("--symbol", "-s", help="only this symbol")] = None,
    tag: Annotated[
        str | None, typer.Option("--tag", "-t", help="only trades with this tag")
    ] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List closed trades (newest last) with their result and R-multiple, per account."""
    from sim.display import compact, plural, short_time
    from sim.review import stats

    since_ms, until_ms = parse_date(since, "--since"), parse_date(until, "--until", end=True)
    reader = _reader(db)
    if reader is not None:  # the quick road: sqlite3 only (no SQLAlchemy, no pandas)
        with reader as journal:
            records = journal.trades(account, symbol, tag, since_ms, until_ms)
            statuses = journal.session_statuses()
            hints = _continue_hints(journal, account)
    else:
        from sim.review import frames

        with _open(db) as full:
            trades = frames.trades_frame(full, account, symbol, tag, since_ms, until_ms)
            statuses = full.session_statuses()
            hints = _continue_hints(full, account)
            journal = full  # type: ignore[assignment]
        records = trades.to_dict("records")
    if as_json:
        render.print_json({"trades": [jr.trade_json(r) for r in records]})
        return
    columns = ["#", "symbol", "side", "closed UTC", "traded / max", "entry", "exit", "net", "R"]
    columns += ["exit reason", "tags"]
    for name in sorted({r["account"] for r in records}):
        rows = [
            [
                str(r["id"]),
                r["symbol"],
                r["side"],
                short_time(r["close_ts_ms"]),
                jr.sizes(r),
                jr.px(r, r["entry_price"]),
                jr.px(r, r["exit_price"]),
                jr.cash(r["net_pnl"], r["currency"]),
                jr.r_text(stats.r_multiple(r["net_pnl"], r["risk_at_open"])),
                r["exit_reason"],
                ",".join(r["tags"]),
            ]
            for r in records
            if r["account"] == name
        ]
        title = f"closed trades · account {name}{jr.status_mark(statuses.get(name))} "
        title += f"({plural(len(rows), 'trade')})"
        render.stdout.print(compact(grid_table(title, columns, rows)))
    render.stderr.print(
        f"{plural(len(records), 'trade')} in {journal.path}; "
        "`microfut journal show N` for one trade's times, leverage and costs"
    )
    for hint in hints:
        render.stderr.print(hint, markup=False, highlight=False)


def _continue_hints(journal: Journal | JournalReader, account: str | None) -> list[str]:
    """One line per account whose latest run was interrupted: how to continue it."""
    from sim.journal.resume import how_to_continue

    latest = {s.account: s for s in journal.sessions()}
    return [
        f"account {name}: its {s.kind} run was interrupted; {how_to_continue(s.kind)}"
        for name, s in sorted(latest.items())
        if s.state == "interrupted" and account in (None, name)
    ]


@journal_app.command("show")
def show_trade(
    trade: Annotated[str, typer.Argument(help="trade number from `journal list` (or engine id)")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The whole story of one trade: orders, fills, funding, liquidation, notes."""
    from sim.review import stats

    reader = _reader(db)
    if reader is not None:  # the quick road: sqlite3 only (no SQLAlchemy, no pandas)
        with reader:
            story = reader.trade_story(trade)
    else:
        from sim.review import frames

        with _open(db) as journal:
            story = frames.trade_story(journal, trade)
    t = story["trade"]

    def cash(value: Decimal | None) -> str:
        return jr.cash(value, t["currency"])

    r_mult = stats.r_multiple(t["net_pnl"], t.get("risk_at_open", t["risk_at_entry"]))
    if as_json:
        render.print_json(story | {"r_multiple": r_mult})
        return
    render.stdout.print(jr.trade_table(t, story["tags"], r_mult))
    jr.story_tables(story)


@journal_app.command("note")
def note_trade(
    trade: Annotated[str, typer.Argument(help="trade number")],
    text: Annotated[str, typer.Argument(help="the note")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Attach a note to a trade (what you saw, what you felt, what you learned)."""
    with _open(db) as journal:
        trade_id = journal.resolve_trade(trade)
        note_id = journal.add_note(trade_id, text)
    if as_json:
        render.print_json({"trade": trade_id, "note": note_id, "text": text.strip()})
    else:
        render.stdout.print(f"note {note_id} added to trade {trade_id}")


@journal_app.command("tag")
def tag_trade(
    trade: Annotated[str, typer.Argument(help="trade number")],
    name: Annotated[str, typer.Argument(help="tag, one word (e.g. breakout, fomo)")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Tag a trade, to compare results by setup or mistake in `journal report`."""
    with _open(db) as journal:
        trade_id = journal.resolve_trade(trade)
        journal.add_tag(trade_id, name)
    if as_json:
        render.print_json({"trade": trade_id, "tag": name.strip()})
    else:
        render.stdout.print(f"trade {trade_id} tagged {name.strip()}")


def _reports(
    db: Path | None, account: str | None, since_ms: int | None, until_ms: int | None
) -> list[stats.AccountReport]:
    from sim.review import frames, stats

    risk_pct = context.settings().risk.risk_pct
    with _open(db) as journal:
        trades = frames.trades_frame(journal, account, None, None, since_ms, until_ms)
        balances = frames.starting_balances(journal)
        statuses = journal.session_statuses()
        names = [account] if account else sorted(balances)
        if account and account not in balances:
            raise InputError(f"no account '{account}' in journal {journal.path}")
        out = []
        for name in names:
            locks, denials = frames.guard_times(journal, name)
            start = balances.get(name) or Decimal(0)
            rep = stats.account_report(
                trades, name, start, risk_pct, locks, denials, since_ms, until_ms
            )
            out.append(replace(rep, status=statuses.get(name, "")))
    return out


@journal_app.command("report")
def report(
    account: AccountOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Statistics per account: results, R, drawdown, costs, and the discipline review."""
    since_ms, until_ms = parse_date(since, "--since"), parse_date(until, "--until", end=True)
    reports = _reports(db, account, since_ms, until_ms)
    if as_json:
        render.print_json({"accounts": reports})
        return
    for rep in reports:
        jr.print_report(rep)
    with _open(db) as journal:
        for hint in _continue_hints(journal, account):
            render.stderr.print(hint, markup=False, highlight=False)


ForceOpt = Annotated[
    bool, typer.Option("--force", help="write into an existing non-empty --out folder")
]


@journal_app.command("plot")
def plot(
    account: AccountOpt = None,
    out: Annotated[Path | None, typer.Option("--out", help="folder for the PNGs")] = None,
    terminal: Annotated[bool, typer.Option("--terminal", help="draw in the terminal")] = False,
    force: ForceOpt = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Equity with drawdown, P&L per trade and R distribution, as PNGs (and in the terminal)."""
    from sim.review import outputs, plots

    color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    reports = _reports(db, account, None, None)
    folder = out if out is not None else context.settings().data.write_path / "plots"
    names = [plots.png_names(rep) for rep in reports]
    where = outputs.prepare(
        folder, [n for ns in names for n in ns], named=out is not None, force=force, what="plot"
    )
    files: list[Path] = []
    for rep, rep_names in zip(reports, names, strict=True):
        files += plots.write_pngs(rep, folder, rep_names)
        if terminal and not as_json:
            print(plots.terminal(rep, color=color))
    _say_written(where, files, as_json)


def _say_written(where: OutFolder, files: list[Path], as_json: bool) -> None:
    """Name the folder this command created (if any) and every file it wrote."""
    if as_json:
        created = where.path if where.created else None
        render.print_json({"files": files, "created_folder": created})
        return
    if where.created:
        render.stdout.print(f"created folder {where.path}", highlight=False)
    for path in files:
        render.stdout.print(f"wrote {path}", highlight=False)


def _export_frames(journal: Journal) -> dict[str, pd.DataFrame]:
    from sim.review import frames

    trades = frames.trades_frame(journal)
    trades["tags"] = [",".join(t) for t in trades["tags"]]
    trades = trades.drop(columns=["opened", "closed"])
    return {
        "trades": trades,
        "fills": frames.table_frame(journal, "fills"),
        "funding": frames.table_frame(journal, "funding"),
    }


@journal_app.command("export")
def export(
    fmt_: Annotated[str, typer.Option("--format", help="csv or parquet")] = "csv",
    out: Annotated[Path | None, typer.Option("--out", help="folder for the files")] = None,
    force: ForceOpt = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write trades, fills and funding as CSV (exact decimals) or Parquet (decimal columns)."""
    from sim.review import outputs

    if fmt_ not in ("csv", "parquet"):
        raise InputError(f"--format must be 'csv' or 'parquet', was {fmt_!r}")
    folder = out if out is not None else context.settings().data.write_path / "export"
    with _open(db) as journal:
        tables = _export_frames(journal)
    names = [f"{name}.{fmt_}" for name in tables]
    where = outputs.prepare(folder, names, named=out is not None, force=force, what="export")
    written = []
    for (name, frame), file_name in zip(tables.items(), names, strict=True):
        path = folder / file_name
        try:
            if fmt_ == "csv":
                with outputs.open_target(path, "w") as f:
                    frame.to_csv(f, index=False)
            else:
                with outputs.open_target(path, "wb") as fb:
                    frame.to_parquet(fb, index=False)
        except OSError as e:
            raise InputError(f"cannot write {path}: {e.strerror}") from None
        written.append({"table": name, "rows": len(frame), "path": path})
    if as_json:
        render.print_json({"files": written, "created_folder": folder if where.created else None})
        return
    if where.created:
        render.stdout.print(f"created folder {folder}", highlight=False)
    rows = [[w["table"], w["rows"], str(w["path"])] for w in written]
    render.stdout.print(grid_table("exported", ["table", "rows", "file"], rows))
