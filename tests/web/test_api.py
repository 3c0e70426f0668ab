"""The JSON API over a paused replay of the recorded ETH/BTC 1m candles (TestClient)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from sim.desk.parse import HELP

ETH = "ETH/USDT:USDT"


def step(client, bars: int = 1) -> dict:
    r = client.post("/api/replay/step", json={"bars": bars})
    assert r.status_code == 200, r.text
    return r.json()


def test_account_starts_paused_with_the_opening_balance(client):
    acct = client.get("/api/account").json()
    assert acct["wallets"] == {"USDT": "1000"}
    assert acct["equity"] == "1000"
    assert acct["clock"]["paused"] is True
    assert acct["clock"]["bar_ms"] == 60_000
    assert acct["symbols"] == ["BTC/USDT:USDT", ETH]
    assert acct["guards"]["locked"] is False


def test_a_paused_replay_starts_at_the_first_bars_open(client):
    # the first ETH 1m bar opens at 1827.29; a market buy pays 2 bps of slippage:
    # 1827.29 × 1.0002 = 1827.655… → 1827.66 on the 0.01 tick
    r = client.post("/api/orders", json={"text": "buy 0.01 ETH"})
    assert r.status_code == 200, r.text
    fill = next(e for e in r.json()["events"] if e["kind"] == "OrderFilled")
    assert fill["price"] == "1827.66"
    [pos] = client.get("/api/positions").json()
    assert pos["entry"] == "1827.66"
    # the desk's default for a new position: 20x isolated ([account] margin_mode, leverage):
    # Binance isolated long, tier 1 (MMR 0.4 %): (Q·E − Q·E/20) / (Q·(1 − mmr)) = 1,743.25
    assert (pos["leverage"], pos["margin_mode"]) == ("20", "isolated")
    assert client.desk.account.specs[ETH].tiers[0].mmr == Decimal("0.004")
    q, entry = Decimal("0.01"), Decimal("1827.66")
    liq = (q * entry - q * entry / 20) / (q * Decimal("0.996"))
    assert Decimal(pos["liquidation_price"]) == liq
    assert f"{liq:.2f}" == "1743.25"
    assert pos["liquidation_note"] == ""


def test_a_cross_position_on_a_small_wallet_has_no_liquidation_price(client):
    r = client.post("/api/orders", json={"text": "buy 0.01 ETH cross"})
    assert r.status_code == 200, r.text
    [pos] = client.get("/api/positions").json()
    assert pos["liquidation_price"] is None  # 20x cross on a 1000 USDT wallet: none above 0
    assert pos["liquidation_note"] == "none: the cross wallet covers a move to zero"


def test_an_order_the_exchange_rejects_is_422_with_the_engines_line(client):
    r = client.post("/api/orders", json={"text": "buy 0.01 ETH limit 1827.295"})
    assert r.status_code in (400, 422)
    assert "\n" not in r.json()["error"]
    r = client.post("/api/orders", json={"text": "buy 100000 ETH"})
    assert r.status_code == 422, r.text
    assert " REJECTED " in r.json()["error"]
    assert client.get("/api/positions").json() == []


def test_bad_lines_are_400_with_the_desks_one_line_message(client):
    r = client.post("/api/orders", json={"text": "bogus 1 ETH"})
    assert r.status_code == 400
    assert r.json()["error"] == f"error: unknown command 'bogus'; try: {HELP}"
    assert client.post("/api/orders", json={"text": ""}).status_code == 400
    assert client.post("/api/orders", content=b"not json").status_code == 400
    r = client.post("/api/orders", json={"text": "buy 1e99 ETH"})  # was a 500
    assert r.status_code == 400
    assert "out of range" in r.json()["error"]
    # in range, but a notional of ~1e30 in cents needs more than 28 digits (was a 500 too)
    big = "sell 999999999999999 ETH limit 999999999999999"
    assert client.post("/api/preview", json={"text": big}).status_code == 200
    r = client.post("/api/orders", json={"text": big})
    assert r.status_code == 422, r.text
    assert "contracts is above the maximum" in r.json()["error"]
    r = client.post("/api/preview", json={"text": "buy -1 ETH"})  # a line being typed
    assert r.status_code == 200
    assert r.json()["ok"] is False
    assert r.json()["error"].startswith("error: ")
    assert "\n" not in r.json()["error"]
    assert client.post("/api/preview", json={}).status_code == 400


def test_step_plays_bars_and_candles_never_run_ahead_of_the_clock(client):
    start = client.get("/api/account").json()["now_ms"]  # the first bar's open
    moved = step(client, 3)
    assert moved["now_ms"] == start + 3 * 60_000  # three bars played, at the fourth's open
    bars = client.get("/api/candles", params={"symbol": "ETH", "n": 50}).json()["bars"]
    assert [b["time"] * 1000 for b in bars] == [start + i * 60_000 for i in range(4)]
    # the first bar is the recorded one: 2025-05-04 15:33 ETH 1m
    assert bars[0] == {"time": start // 1000, "open": 1827.29, "high": 1827.68, "low": 1827.27,
                       "close": 1827.53, "volume": 763.561}  # fmt: skip
    # the bar being played shows only what was played: its open
    assert bars[-1]["open"] == bars[-1]["high"] == bars[-1]["low"] == bars[-1]["close"]
    assert client.get("/api/candles", params={"symbol": "NOPE"}).status_code == 400


def test_order_echo_matches_the_fill_and_the_position_shows_its_liquidation_price(client):
    step(client)
    text = "buy 0.5 ETH lev 10 isolated stop 1800 tp 1900"
    echo = client.post("/api/preview", json={"text": text}).json()["echoes"][0]
    assert client.get("/api/positions").json() == []  # preview sends nothing
    r = client.post("/api/orders", json={"text": text})
    assert r.status_code == 200, r.text
    assert r.json()["echoes"][0] == echo
    [pos] = client.get("/api/positions").json()
    spec = client.desk.account.specs[ETH]
    q, entry = Decimal(pos["contracts"]), Decimal(pos["entry"])
    assert pos["entry"] == echo["price"] == "1827.90"
    assert Decimal(pos["notional"]) == q * Decimal(pos["multiplier"]) * Decimal(pos["mark"])
    assert Decimal(pos["margin"]) == q * entry / 10 == Decimal("91.395")
    # Binance isolated long: liq = (Q*E - margin + cum) / (Q * (1 - mmr)), first tier
    tier = spec.tiers[0]
    liq = (q * entry - q * entry / 10 + tier.cum) / (q * (1 - tier.mmr))
    assert Decimal(pos["liquidation_price"]) == liq
    assert echo["liquidation_price"] == f"{liq:.2f}"
    mark = Decimal(pos["mark"])
    assert Decimal(pos["liquidation_distance_pct"]) == (mark - liq) / mark * 100
    assert (pos["stop"], pos["take_profit"]) == ("1800", "1900")
    assert pos["trade"] == "open-ETH_USDT_USDT"


def test_working_orders_amend_and_cancel(client):
    step(client)
    assert client.post("/api/orders", json={"text": "buy 0.1 ETH limit 1700"}).status_code == 200
    [order] = client.get("/api/orders").json()
    assert (order["order_type"], order["price"], order["contracts"]) == ("limit", "1700", "0.1")
    r = client.patch(f"/api/orders/{order['order_id']}", json={"price": "1710.5"})
    assert r.status_code == 200, r.text
    assert client.get("/api/orders").json()[0]["price"] == "1710.5"
    assert client.patch(f"/api/orders/{order['order_id']}", json={}).status_code == 400
    assert client.delete(f"/api/orders/{order['order_id']}").status_code == 200
    assert client.get("/api/orders").json() == []
    assert client.delete("/api/orders/o99").status_code in (400, 422)


def test_closed_trade_in_the_journal_with_filters_notes_tags_and_report(client):
    step(client)
    client.post("/api/orders", json={"text": "buy 0.5 ETH lev 10 isolated stop 1800"})
    [open_row] = client.get("/api/trades").json()
    assert (open_row["id"], open_row["outcome"]) == ("open-ETH_USDT_USDT", "open")
    assert open_row["open_ts_ms"] == client.desk.now_ms  # filled at the step's last point
    detail = client.get("/api/trades/open-ETH_USDT_USDT").json()
    assert [f["price"] for f in detail["fills"]] == ["1827.90"]
    # taker 0.05 % of 0.5 × 1,827.90 = 0.456975: the open trade's card shows what it has paid
    assert (
        Decimal(detail["trade"]["fees"])
        == Decimal(detail["fills"][0]["fee"])
        == Decimal("0.456975")
    )
    assert detail["trade"]["funding"] == "0"
    step(client, 3)
    r = client.post("/api/orders", json={"text": "close ETH"})
    assert r.status_code == 200, r.text
    [row] = client.get("/api/trades").json()
    assert (row["symbol"], row["side"], row["entry_price"], row["outcome"]) == (
        ETH, "long", "1827.90", "loss",
    )  # fmt: skip
    net = Decimal(row["realized_pnl"]) - Decimal(row["fees"]) + Decimal(row["funding"])
    assert Decimal(row["net_pnl"]) == net < 0
    assert Decimal(row["r_multiple"]) == net / Decimal(row["risk_at_entry"])
    assert Decimal(row["risk_at_entry"]) == Decimal("0.5") * (Decimal("1827.90") - 1800)
    tid = row["id"]
    assert client.post(f"/api/trades/{tid}/note", json={"text": "chased it"}).status_code == 200
    assert client.post(f"/api/trades/{tid}/tags", json={"tag": "fomo"}).status_code == 200
    story = client.get(f"/api/trades/{tid}").json()
    assert [n["text"] for n in story["notes"]] == ["chased it"]
    assert story["tags"] == ["fomo"]
    assert story["trade"]["stop_at_entry"] == "1800"
    assert [f["side"] for f in story["fills"]] == ["buy", "sell"]
    assert client.get("/api/trades", params={"tag": "fomo"}).json()[0]["id"] == tid
    assert client.get("/api/trades", params={"tag": "calm"}).json() == []
    assert client.get("/api/trades", params={"outcome": "win"}).json() == []
    assert client.get("/api/trades", params={"symbol": "BTC"}).json() == []
    assert client.get("/api/trades", params={"since": "2025-05-05"}).json() == []
    assert len(client.get("/api/trades", params={"until": "2025-05-04"}).json()) == 1
    assert client.get("/api/trades", params={"outcome": "maybe"}).status_code == 400
    assert client.get("/api/trades/999").status_code == 404
    assert client.post("/api/trades/open-X/note", json={"text": "x"}).status_code == 400
    rep = client.get("/api/report").json()
    assert rep["summary"]["trades"] == 1
    assert rep["summary"]["net_pnl"] == row["net_pnl"]
    assert rep["r_distribution"][2] == ["-1R..0R", 1]


def test_replay_clock_pause_resume_speed(client):
    r = client.post("/api/replay/speed", json={"speed": 60})
    assert r.json()["clock"]["speed"] == 60.0
    assert client.post("/api/replay/speed", json={"speed": 0}).status_code == 400
    assert client.post("/api/replay/resume").json()["clock"]["paused"] is False
    assert client.post("/api/replay/pause").json()["clock"]["paused"] is True
    assert client.post("/api/replay/step", json={"bars": 1.5}).status_code == 400


def test_pages_and_the_vendored_chart_are_served(client):
    for path in ("/", "/trades", "/trades/1", "/report"):
        r = client.get(path)
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/html")
    lib = client.get("/static/vendor/lightweight-charts.standalone.production.js")
    assert lib.status_code == 200
    assert "LightweightCharts" in lib.text


def test_websocket_pushes_state_after_a_change(client):
    with client.websocket_connect("/ws") as ws:
        first = ws.receive_json()
        assert first["account"]["wallets"] == {"USDT": "1000"}
        step(client)
        client.post("/api/orders", json={"text": "buy 0.01 ETH"})
        for _ in range(20):
            state = ws.receive_json()
            if state["positions"]:
                break
        assert state["positions"][0]["contracts"] == "0.01"
        assert any("o1 filled" in line for line in state["log"])


def test_token_gate_covers_the_api_and_the_websocket(client):
    from starlette.testclient import TestClient
    from starlette.websockets import WebSocketDisconnect

    from sim.web.app import build_app

    gated = TestClient(build_app(client.desk, token="t0k"))
    assert gated.get("/api/account").status_code == 401
    assert gated.get("/", params={"token": "nope"}).status_code == 401
    assert gated.get("/api/account", headers={"Authorization": "Bearer t0k"}).status_code == 200
    with pytest.raises(WebSocketDisconnect), gated.websocket_connect("/ws") as ws:
        ws.receive_json()
    with gated.websocket_connect("/ws?token=t0k") as ws:
        assert ws.receive_json()["account"]["account"] == "main"


def test_every_static_file_is_package_data():
    """A wheel install must serve the pages and the vendored chart (pyproject package-data)."""
    import fnmatch
    import tomllib

    root = Path(__file__).resolve().parents[2]
    globs = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["sim.web"]
    static = root / "sim" / "web" / "static"
    files = [p.relative_to(static.parent).as_posix() for p in static.rglob("*") if p.is_file()]
    assert "static/vendor/lightweight-charts.standalone.production.js" in files
    assert [f for f in files if not any(fnmatch.fnmatch(f, g) for g in globs)] == []
