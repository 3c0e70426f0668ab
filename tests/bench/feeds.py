"""Feed benchmark: decode throughput on the recorded captures and message → liquidation latency.

Run: ``python tests/bench/feeds.py [--max-lines N]``; prints one JSON document, asserts nothing.

* ``decode``: per capture, lines held in memory, messages/s for: ``json.loads`` alone (the
  baseline: parsing only, no inputs), the typed decoder from the wire text to engine inputs
  (``wire.decode_raw``, msgspec), the older dict road (``json.loads`` + ``wire.decode``), and
  the typed decoder with the order books (``MarketDecoder.feed_raw``: Decimals only for the
  levels shown); ``replay`` adds gzip reading and the replay bookkeeping (``adapters/replay.py``).
* ``latency``: for each captured message, the time from "text received" to the account having
  applied every input it produced (``Account.apply``), with an open long BTC/USDT:USDT position
  and ``mark_from_last`` so every trade runs the liquidation check (the captures hold no mark
  price stream). Percentiles in microseconds, by message kind.
"""

from __future__ import annotations

import argparse
import gzip
import json
import platform
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from adapters.replay import open_replay  # noqa: E402
from adapters.wire import MarketDecoder, decode, decode_raw  # noqa: E402
from config.settings import load_settings  # noqa: E402
from tests.bench import shared_data  # noqa: E402

CAPTURES = (
    ("binanceusdm", "binanceusdm/ws_raw_btcusdt_20240808.gz", "BTCUSDT"),
    ("binanceusdm", "binanceusdm/ws_raw_ethusdt_20240808.gz", "ETHUSDT"),
    ("binancecoinm", "binancecoinm/ws_raw_btcusd_perp_20240808.gz", "BTCUSD_PERP"),
    ("bybit", "bybit/ws_orderbook500_XRPUSDT_2024-12-01.jsonl", "XRPUSDT"),
)


def _data_dir() -> Path:
    return shared_data()


def _texts(path: Path, max_lines: int | None) -> list[str]:
    """The JSON texts of a capture (the receipt stamp dropped), read into memory."""
    opener: Any = gzip.open if path.suffix == ".gz" else open
    out: list[str] = []
    with opener(path, "rt") as f:
        for line in f:
            stamp, _, rest = line.partition(" ")
            out.append(rest if stamp.isdigit() else line)
            if max_lines and len(out) >= max_lines:
                break
    return out


def _rate(n: int, seconds: float) -> float:
    return round(n / seconds, 1) if seconds > 0 else 0.0


def bench_decode(venue: str, path: Path, vid: str, max_lines: int | None) -> dict[str, Any]:
    texts = [t.encode() for t in _texts(path, max_lines)]
    t0 = time.perf_counter()
    for text in texts:
        json.loads(text)
    json_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    for text in texts:
        decode_raw(venue, text, symbol_hint=vid)
    typed_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    for text in texts:
        decode(venue, json.loads(text), symbol_hint=vid)
    dict_s = time.perf_counter() - t0

    decoder = MarketDecoder(venue)
    inputs = 0
    t0 = time.perf_counter()
    for text in texts:
        inputs += len(decoder.feed_raw(text, symbol_hint=vid))
    book_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    source = open_replay(path, venue=venue, progress=False)
    replayed = 0
    for _, produced in source.frames_with_inputs():
        replayed += len(produced)
        if max_lines and source.stats.frames >= max_lines:
            break
    replay_s = time.perf_counter() - t0
    return {
        "file": str(path.name),
        "messages": len(texts),
        "inputs": inputs,
        "json_loads_msgs_per_s": _rate(len(texts), json_s),
        "wire_decode_msgs_per_s": _rate(len(texts), typed_s),
        "wire_decode_vs_json_loads": round(json_s / typed_s, 2) if typed_s else None,
        "dict_decode_msgs_per_s": _rate(len(texts), dict_s),
        "decode_with_books_msgs_per_s": _rate(len(texts), book_s),
        "decode_with_books_vs_json_loads": round(json_s / book_s, 2) if book_s else None,
        "replay_file_msgs_per_s": _rate(source.stats.frames, replay_s),
        "replay_inputs": replayed,
    }


def _account(data_dir: Path) -> tuple[Any, str]:
    """An account holding a 10x long of 0.01 BTC on BTC/USDT:USDT (liquidation far away)."""
    from adapters.specs import load_spec_book
    from sim.engine.account import Account
    from sim.engine.commands import Deposit, PlaceOrder
    from sim.engine.market import BookTop

    settings = load_settings(data={"dirs": [str(data_dir)]})
    symbol = "BTC/USDT:USDT"
    spec = load_spec_book("binanceusdm", settings).get(symbol)
    account = Account("bench", {symbol: spec}, mark_from_last=True)
    ts = 1723161256000
    account.apply(Deposit(ts_ms=ts, currency="USDT", amount=Decimal(1000)))
    account.apply(
        BookTop(
            "binanceusdm",
            symbol,
            ts,
            Decimal("61800.2"),
            Decimal(2),
            Decimal("61800.3"),
            Decimal(2),
        )
    )
    events = account.apply(
        PlaceOrder(
            ts_ms=ts, symbol=symbol, side="buy", contracts=Decimal("0.01"), leverage=Decimal(10)
        )
    )
    filled = [type(e).__name__ for e in events]
    if "OrderFilled" not in filled:
        sys.exit(f"benchmark position did not open: {filled}")
    return account, symbol


def _kind(frame: dict[str, Any]) -> str:
    data = frame.get("data", frame)
    return str(data.get("e", "snapshot")) if isinstance(data, dict) else "other"


def bench_latency(data_dir: Path, max_lines: int | None) -> dict[str, Any]:
    account, _ = _account(data_dir)
    decoder = MarketDecoder("binanceusdm")
    texts = _texts(data_dir / CAPTURES[0][1], max_lines)
    by_kind: dict[str, list[float]] = {}
    events = 0
    for text in texts:
        t0 = time.perf_counter_ns()
        for inp in decoder.feed_raw(text, symbol_hint="BTCUSDT"):
            events += len(account.apply(inp))
        elapsed = (time.perf_counter_ns() - t0) / 1000
        by_kind.setdefault(_kind(json.loads(text)), []).append(elapsed)
    return {
        "path": "text -> wire.decode_raw (typed) + book -> Account.apply (liquidation check)",
        "position": "long 0.01 BTC/USDT:USDT at 10x, mark_from_last",
        "messages": len(texts),
        "events": events,
        "us": {kind: _percentiles(v) for kind, v in sorted(by_kind.items())},
    }


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {
        "n": len(ordered),
        "p50": at(0.5),
        "p90": at(0.9),
        "p99": at(0.99),
        "max": round(ordered[-1], 1),
        "mean": round(statistics.fmean(ordered), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-lines", type=int, default=None, help="read at most N lines")
    args = parser.parse_args()
    data_dir = _data_dir()
    report = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "decode": [
            bench_decode(venue, data_dir / rel, vid, args.max_lines) for venue, rel, vid in CAPTURES
        ],
        "latency": bench_latency(data_dir, args.max_lines),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
