"""Build the README "Speed and proof" table from the JSON the benchmarks printed.

Run: ``python tests/bench/table.py DIR`` where DIR holds ``replay.json``, ``feeds.json``,
``journal.json``, ``startup.json`` and ``sweep.json`` (each benchmark's stdout); prints Markdown.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def _n(x: float) -> str:
    if x >= 1e6:
        return f"{x / 1e6:.1f}M"
    if x >= 1e4:
        return f"{x / 1e3:.0f}k"
    return f"{x:,.0f}"


def rows(d: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    out = []
    r = d.get("replay", {})
    if c := r.get("candles"):
        out.append((
            f"BTC + ETH 1m month, 20 working orders ({c['price_events']:,} price events); "
            f"same events: {c['same_events']}",
            f"{_n(c['fast']['events_per_s'])} events/s", "every bar: "
            f"{_n(c['plain']['events_per_s'])} events/s", f"x{c['ratio']}",
        ))  # fmt: skip
    if b := r.get("busy"):
        out.append((
            f"busy: {b['orders']:,} generated test orders on the real BTC + ETH month (brackets, "
            f"trailing stops, cross on both symbols, {b['liquidations']} liquidations; "
            f"{b['engine_events']:,} engine events); same events: {b['same_events']}",
            f"{_n(b['fast']['events_per_s'])} events/s",
            f"every bar: {_n(b['every_bar']['events_per_s'])} events/s", f"x{b['ratio']}",
        ))  # fmt: skip
        if f := b.get("engine_floor"):
            out.append((
                "the same inputs the skipping run gave the engine, applied with no search at all "
                f"(the floor of any skipping driver); same events: {f['same_events']}",
                f"{_n(f['events_per_s'])} events/s",
                f"every bar: {_n(b['every_bar']['events_per_s'])} events/s",
                f"x{f['every_bar_ratio_cap']} (cap)",
            ))  # fmt: skip
    if x := r.get("cross_10"):
        out.append((
            f"{x['orders']:,} orders on 10 cross positions sharing one wallet (real BTC/ETH 1m, "
            f"{x['price_events']:,} price events, {x['fills']} fills); "
            f"same events: {x['same_events']}",
            f"{_n(x['fast']['events_per_s'])} events/s",
            f"every bar: {_n(x['every_bar']['events_per_s'])} events/s", f"x{x['ratio']}",
        ))  # fmt: skip
    if s := r.get("strategy"):
        out.append((
            f"`run breakout` ETH 1m month ({s['bars']:,} bars, journaled); same events: "
            f"{s.get('same_events_and_summary', '?')}",
            f"{_n(s['skipping']['bars_per_s'])} bars/s",
            f"every bar: {_n(s['every_bar']['bars_per_s'])} bars/s; plain Decimal loop: "
            f"{_n(s['plain_decimal_loop']['bars_per_s'])} bars/s",
            f"x{s['skipping_vs_every_bar']} / x{s['skipping_vs_plain_loop']} of the loop",
        ))  # fmt: skip
    if t := r.get("ticks_busy"):
        out.append((
            f"raw BTC + ETH captures decoded once, looped to {t['price_events']:,} events, "
            "levels close (busy)", f"{_n(t['fast']['events_per_s'])} events/s",
            f"{_n(t['plain']['events_per_s'])} events/s", f"x{t['ratio']}",
        ))  # fmt: skip
    if t := r.get("ticks_quiet_case"):
        out.append((
            "the same, QUIET case (orders outside the capture's range after lap 1: empty scans)",
            f"{_n(t['fast']['events_per_s'])} events/s",
            f"{_n(t['plain']['events_per_s'])} events/s", f"x{t['ratio']}",
        ))  # fmt: skip
    for f in d.get("feeds", {}).get("decode", []):
        if f["messages"] < 1000:
            continue
        out.append((
            f"decode {f['file']} ({f['messages']:,} msgs): typed (msgspec) / with books",
            f"{_n(f['wire_decode_msgs_per_s'])} / {_n(f['decode_with_books_msgs_per_s'])} msgs/s",
            f"json.loads alone: {_n(f['json_loads_msgs_per_s'])} msgs/s",
            f"x{f['wire_decode_vs_json_loads']} / x{f['decode_with_books_vs_json_loads']}",
        ))  # fmt: skip
    if j := d.get("journal"):
        g, raw = j["durable_group_commit"], j["raw_sqlite3_same_rows_per_commit"]
        out.append((
            f"durable journal fills (WAL, FULL), group commit of {g['batches_per_commit']} "
            "batches (events + fills + equity rows + snapshot)",
            f"{_n(g['fills_per_s'])} fills/s",
            f"raw sqlite3 executemany, same rows per commit: {_n(raw['fills_per_s'])} fills/s",
            f"x{j['group_vs_raw_sqlite3']}",
        ))  # fmt: skip
        one = j["durable_one_batch_per_commit"]
        out.append(("the same, one commit per batch (desk, live)",
                    f"{_n(one['fills_per_s'])} fills/s", "", ""))  # fmt: skip
    if st := d.get("startup"):
        for name, c in st["commands"].items():
            heavy = ", ".join(c["heavy_imports"]) or "none of ccxt/pandas/SQLAlchemy"
            out.append((f"`microfut {name}` start to exit (imports: {heavy})",
                        f"{c['wall_s']} s", f"`python -c \"import ccxt\"`: {st['import_ccxt_s']} s",
                        f"x{c['vs_import_ccxt']}"))  # fmt: skip
    if sw := d.get("sweep"):
        out.append((f"`sweep` {sw['grid_runs']} runs of {sw['hours_per_run']:g} h, `--jobs 2`",
                    f"{sw['jobs_2_s']} s", f"`--jobs 1`: {sw['jobs_1_s']} s",
                    f"x{sw['speedup_jobs_2']}"))  # fmt: skip
    return out


def main() -> None:
    folder = Path(sys.argv[1])
    data = {}
    for name in ("replay", "feeds", "journal", "startup", "sweep"):
        path = folder / f"{name}.json"
        if path.exists() and path.stat().st_size:
            data[name] = json.loads(path.read_text())
    print("| benchmark | microfut | baseline (same run) | ratio |")
    print("|---|---|---|---|")
    for row in rows(data):
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
