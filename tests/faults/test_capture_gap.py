"""One lost depth message no longer stops trading for the rest of a capture.

The real BTC capture (one REST snapshot at the start, no other) is copied with its 101st
``depthUpdate`` after the snapshot removed. Before issue 17 the book went stale at the gap and
every later order was refused "feed is stale". Now the book is rebuilt from the levels it held
plus the diffs that follow, checked against the recorded best bid/ask, and the replay trades
exactly as on the intact capture; the summary names the gap and the (zero-length) stale span.
"""

from __future__ import annotations

import gzip
import json
from decimal import Decimal as D
from pathlib import Path

import pytest

from adapters.replay import open_replay
from sim.engine.market import BookDepth

CAPTURE = "binanceusdm/ws_raw_btcusdt_20240808.gz"
HEADER = (
    "time,symbol,side,type,contracts,price,trigger_price,callback_pct,reduce_only,leverage,"
    "margin_mode,stop_loss,take_profit,tag\n"
)
GAP_NOTE = (
    "BTC/USDT:USDT: depth gap at 2024-08-08 23:54:21.888: depth update ids "
    "5123108227293..5123108229906 missing; the book was rebuilt from the levels held plus the "
    "diffs that follow"
)


@pytest.fixture(scope="module")
def gapped(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    lines = gzip.decompress((shared_data / CAPTURE).read_bytes()).splitlines(keepends=True)
    snapshot = next(i for i, line in enumerate(lines) if b"lastUpdateId" in line)
    depth = [i for i, line in enumerate(lines) if b"depthUpdate" in line and i > snapshot]
    drop = depth[100]
    folder = tmp_path_factory.mktemp("gap") / "binanceusdm"
    folder.mkdir()
    path = folder / "ws_raw_btcusdt_20240808.gz"
    with gzip.open(path, "wb") as f:
        f.writelines(lines[:drop] + lines[drop + 1 :])
    return path


def _depth_and_book(path: Path) -> tuple[dict[int, BookDepth], dict, dict, list[str]]:
    src = open_replay(path, progress=False)
    depths = {x.ts_ms: x for x in src if isinstance(x, BookDepth)}
    book = src._decoders["binanceusdm"].binance_books["BTC/USDT:USDT"].levels
    return depths, dict(book.bids), dict(book.asks), src.notes()


def test_the_rebuilt_book_matches_the_intact_capture(shared_data: Path, gapped: Path) -> None:
    good_depths, good_bids, good_asks, good_notes = _depth_and_book(shared_data / CAPTURE)
    depths, bids, asks, notes = _depth_and_book(gapped)

    assert good_notes == []
    assert len(depths) == len(good_depths) - 1  # the lost message's own update only
    assert all(depths[t] == good_depths[t] for t in depths)  # every later top 20, level by level
    assert (bids, asks) == (good_bids, good_asks)  # the whole final book (5,018 / 4,578 levels)
    assert (len(bids), len(asks)) == (5018, 4578)
    assert notes[0].startswith(GAP_NOTE)
    assert "stale level(s) dropped against the recorded best bid/ask" in notes[0]
    assert notes[1] == (
        "BTC/USDT:USDT: stale 2024-08-08 23:54:21.888 → 2024-08-08 23:54:21.888 (0 s, book gap)"
    )


def test_orders_after_the_gap_fill_as_on_the_intact_capture(
    run_cli, shared_data: Path, gapped: Path, tmp_path: Path
) -> None:
    orders = tmp_path / "orders.csv"
    orders.write_text(
        HEADER
        + "2024-08-08T23:56:00Z,BTC/USDT:USDT,buy,market,0.1,,,,,10,isolated,,,\n"
        + "2024-08-08T23:58:00Z,BTC/USDT:USDT,sell,market,0.1,,,,,10,isolated,,,\n",
        encoding="utf-8",
    )

    def replay(data: Path) -> dict:
        result = run_cli("replay", "--data", str(data), "--orders", str(orders), "--json")
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)

    intact, survived = replay(shared_data / CAPTURE), replay(gapped)

    assert survived["rejected"] == []
    assert len(survived["closed_trades"]) == 1

    def without_seq(trades: list[dict]) -> list[dict]:  # the gap adds two FeedStale events
        return [{k: v for k, v in t.items() if k != "seq"} for t in trades]

    assert without_seq(survived["closed_trades"]) == without_seq(intact["closed_trades"])
    assert survived["closed_trades"][0]["entry_price"] == "61760.40"
    assert survived["closed_trades"][0]["seq"] == intact["closed_trades"][0]["seq"] + 2
    assert survived["balances"] == intact["balances"]
    assert D(survived["balances"]["USDT"]) != D(1000)  # it traded: fees and P&L moved it
    assert any(n.startswith(GAP_NOTE) for n in survived["notes"])
    assert not any("depth gap" in n for n in intact["notes"])


def test_a_bybit_gap_is_bridged_too_and_named(shared_data: Path, tmp_path: Path) -> None:
    # Bybit deltas carry absolute sizes as well; the capture has no ticker to check against
    intact_path = shared_data / "bybit/ws_orderbook500_XRPUSDT_2024-12-01.jsonl"
    kept = intact_path.read_text(encoding="utf-8").splitlines(keepends=True)
    path = tmp_path / "ws_orderbook500_XRPUSDT_2024-12-01.jsonl"
    path.write_text("".join(kept[:10] + kept[11:]), encoding="utf-8")  # one delta lost

    intact = {x.ts_ms: x for x in open_replay(intact_path) if isinstance(x, BookDepth)}
    src = open_replay(path, progress=False)
    gapped = {x.ts_ms: x for x in src if isinstance(x, BookDepth)}

    after = [t for t in gapped if t > 1733011201690]
    assert len(after) == 38  # the book kept trading after the gap (it used to go silent)
    assert all(gapped[t].bids[0] == intact[t].bids[0] for t in after)  # same best bid/ask
    assert all(gapped[t].asks[0] == intact[t].asks[0] for t in after)
    assert src.notes() == [
        "XRP/USDT:USDT: depth gap at 2024-12-01 00:00:01.690: book update ids "
        "20254878..20254880 not consecutive (no separate best bid/ask in the recording to check "
        "the rebuilt book against); the book was rebuilt from the levels held plus the diffs "
        "that follow; no later snapshot: levels only the lost message changed may differ",
        "XRP/USDT:USDT: stale 2024-12-01 00:00:01.690 → 2024-12-01 00:00:01.690 (0 s, book gap)",
    ]


def test_a_span_still_stale_at_the_end_is_named_to_the_end() -> None:
    from adapters.gap_resync import GapResync
    from sim.engine.market import FeedStatus

    gaps = GapResync()
    gaps.after_frame(None, {}, [FeedStatus("binanceusdm", "X", 1_000, stale=True, reason="r1")])
    gaps.after_frame(None, {}, [FeedStatus("binanceusdm", "X", 3_500, stale=False, reason="ok")])
    gaps.after_frame(None, {}, [FeedStatus("binanceusdm", "X", 9_000, stale=True, reason="r2")])

    assert gaps.notes() == [
        "X: stale 1970-01-01 00:00:01.000 → 1970-01-01 00:00:03.500 (2.5 s, r1)",
        "X: stale from 1970-01-01 00:00:09.000 (r2) to the end of the recording; "
        "no fills in that span",
    ]
