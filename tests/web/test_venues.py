"""Several venues at one web desk: each its own account, one replay clock, one positions table.

There are no recorded Bybit candles in ../shared/data, so the Bybit side replays the recorded
Binance ETH 1m month, linked into a folder named after Bybit (the specs are Bybit's own).
"""

from __future__ import annotations

import signal
from decimal import Decimal
from pathlib import Path

import httpx2 as httpx
import pytest

from sim.errors import InputError
from sim.journal import Journal
from sim.web.server import account_name, replay_roots, venue_names
from tests.web.conftest import start_server

VENUES = ["binanceusdm", "bybit"]


def two_venue_data(tmp_path: Path, shared: Path) -> Path:
    """data/binance_usdm and data/bybit, each with the recorded ETH 1m, 8h mark and funding."""
    data = tmp_path / "data"
    src = shared / "ohlcv" / "binance_usdm"
    for folder in ("binance_usdm", "bybit"):
        (data / folder).mkdir(parents=True)
        for f in src.glob("ETH_USDT_USDT-*.feather"):
            if "-1h-" not in f.name:
                (data / folder / f.name).symlink_to(f)
    return data


def test_venue_names_and_accounts() -> None:
    assert venue_names(None, "binanceusdm") == ["binanceusdm"]
    assert venue_names(["binanceusdm,Bybit", "bybit"], "x") == VENUES
    assert account_name("main", VENUES, "binanceusdm") == "main"
    assert account_name("main", VENUES, "bybit") == "main-bybit"


def test_replay_folder_applies_to_the_venues_it_holds(tmp_path: Path, shared_data: Path) -> None:
    data = two_venue_data(tmp_path, shared_data)
    eth = {v: ["ETH/USDT:USDT"] for v in VENUES}
    roots = replay_roots(data, VENUES, eth, [])
    assert roots == {"binanceusdm": data / "binance_usdm", "bybit": data / "bybit"}
    # a folder named after one venue: that venue's; the other is looked up in the data folders
    roots = replay_roots(data / "bybit", VENUES, eth, [data])
    assert roots == {"binanceusdm": data / "binance_usdm", "bybit": data / "bybit"}
    # auto: per venue, from the data folders
    assert replay_roots(Path("auto"), VENUES, eth, [data]) == roots
    # one venue: --replay as `microfut trade` takes it
    assert replay_roots(data / "bybit", ["bybit"], eth, []) == {"bybit": data / "bybit"}


def test_a_venue_without_data_is_one_clear_error(tmp_path: Path, shared_data: Path) -> None:
    only_binance = shared_data / "ohlcv" / "binance_usdm"
    eth = {v: ["ETH/USDT:USDT"] for v in VENUES}
    with pytest.raises(InputError, match=r"no recorded data for bybit .*--exchange bybit"):
        replay_roots(only_binance, VENUES, eth, [shared_data])


def test_two_venues_side_by_side_on_one_clock(tmp_path: Path, shared_data: Path) -> None:
    data = two_venue_data(tmp_path, shared_data)
    srv = start_server(tmp_path, shared_data, "--exchange", "binanceusdm", "-e", "bybit",
                       "--symbols", "ETH", "--replay", str(data), "--speed", "0")  # fmt: skip
    try:
        with httpx.Client(base_url=srv.url, timeout=30) as http:
            acct = http.get("/api/account").json()
            assert [(v["venue"], v["account"]) for v in acct["venues"]] == [
                ("binanceusdm", "main"), ("bybit", "main-bybit")
            ]  # fmt: skip
            assert acct["venue"] == "binanceusdm"  # the single-venue fields: the first venue
            assert acct["markets"] == [{"venue": v, "symbol": "ETH/USDT:USDT"} for v in VENUES]
            assert http.post("/api/replay/step", json={"bars": 2}).status_code == 200
            prices = http.get("/api/state").json()["venue_prices"]
            # one clock: both recordings (the same month here) stand at the same bar
            assert prices["binanceusdm"] == prices["bybit"]
            assert prices["bybit"]["ETH/USDT:USDT"]["last"]

            assert http.post("/api/orders", json={"text": "buy 0.01 ETH"}).status_code == 200
            # the order goes to the venue named: offline, Bybit's risk limits are not recorded
            # (`microfut data download --exchange bybit` fetches them), and its desk says so
            r = http.post("/api/orders", json={"text": "sell 0.02 ETH", "venue": "bybit"})
            assert r.status_code == 400
            assert r.json()["venue"] == "bybit"
            assert r.json()["error"] == (
                "error: ETH/USDT:USDT on bybit has no maintenance-margin tiers"
            )  # fmt: skip
            [long] = http.get("/api/positions").json()
            assert (long["venue"], long["account"], long["side"]) == ("binanceusdm", "main", "long")
            assert Decimal(long["liquidation_price"]) < Decimal(long["entry"])
            assert long["trade"] == "open-ETH_USDT_USDT"

            # a line may name its venue first, as typed at the ticket
            r = http.post("/api/preview", json={"text": "bybit: sell 0.02 ETH"})
            assert r.json()["error"] == (
                "error: ETH/USDT:USDT on bybit has no maintenance-margin tiers"
            )  # fmt: skip
            r = http.post("/api/orders", json={"text": "binanceusdm buy 0.01 ETH limit 1000",
                                               "venue": "bybit"})  # fmt: skip
            assert r.json()["venue"] == "binanceusdm"
            [order] = http.get("/api/orders").json()
            assert (order["venue"], order["price"]) == ("binanceusdm", "1000")
            # an order id is its venue's: Bybit's account has no such working order
            wrong = http.delete(f"/api/orders/{order['order_id']}", params={"venue": "bybit"})
            assert wrong.status_code in (400, 422)
            gone = http.delete(f"/api/orders/{order['order_id']}")
            assert gone.status_code == 200, gone.text
            assert http.get("/api/orders").json() == []

            bad = http.post("/api/orders", json={"text": "buy 0.01 ETH", "venue": "kraken"})
            assert bad.status_code == 400
            assert bad.json()["error"] == (
                "no venue 'kraken' at this desk; it trades on binanceusdm, bybit"
            )
            trades = http.get("/api/trades").json()
            assert [t["venue"] for t in trades] == ["binanceusdm"]
            # the report is one venue's account: the first by default, any other by ?venue=
            first, other = (http.get("/api/report", params=p).json()
                            for p in ({}, {"venue": "bybit"}))  # fmt: skip
            assert (first["account"], first["venue"], first["venues"]) == ("main", *VENUES[:1],
                                                                            VENUES)  # fmt: skip
            assert (other["account"], other["venue"]) == ("main-bybit", "bybit")
            assert other["currency"] == "USDT"  # no trade yet: the desk's settle currency
            assert http.get("/api/report", params={"venue": "kraken"}).status_code == 400
            bars = http.get("/api/candles", params={"symbol": "ETH", "venue": "bybit"}).json()
            assert bars["venue"] == "bybit"
            assert bars["bars"]
    finally:
        srv.proc.send_signal(signal.SIGINT)
        srv.proc.communicate(timeout=30)
    with Journal.open(srv.home / "journal.sqlite") as journal:
        venues = {a.name: a.venue for a in journal.accounts()}
        assert venues == {"main": "binanceusdm", "main-bybit": "bybit"}
        assert journal.session_statuses() == {"main": "completed", "main-bybit": "completed"}
