"""`microfut demo` end to end on the recorded BTC/ETH data: real figures from the engine."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from adapters.candles import load_series
from sim.cli import trade_cmd
from sim.journal import Journal

BTC_SYMBOL = "BTC/USDT:USDT"


def D(value: dict | str) -> Decimal:
    return Decimal(value)


def test_demo_json_shows_stop_funding_and_liquidation_from_the_engine(
    run_cli, shared_data: Path
) -> None:
    result = run_cli("demo", "--json")

    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    trades = doc["trades"]
    stop = next(t for t in trades if t["exit_reason"] == "stop")
    # realized P&L of the stop = contracts × contract size × (exit − entry) for a long
    assert D(stop["realized_pnl"]) == D(stop["contracts"]) * D(stop["contract_size"]) * (
        D(stop["exit_price"]) - D(stop["entry_price"])
    )
    fills = [f for f in doc["fills"] if f["reason"] == "stop"]
    assert len(fills) == 1
    assert D(fills[0]["realized_pnl"]) == D(stop["realized_pnl"])
    stop_fees = sum(D(f["fee"]) for f in doc["fills"] if f["symbol"] == "BTC/USDT:USDT"
                    and f["ts_ms"] <= stop["ts_ms"])  # fmt: skip
    assert D(stop["fees"]) == stop_fees
    # sized at 1 % risk: the stop at entry gives the trade's risk and R
    assert D(stop["stop_at_entry"]) == Decimal(88000)
    assert D(stop["risk_at_entry"]) == D(stop["contracts"]) * (
        D(stop["entry_price"]) - Decimal(88000)
    )
    # funding on the real 2025-03-06 16:00 mark and rate (exchange-mechanics §A.6)
    btc_16 = next(
        f for f in doc["funding"]
        if f["symbol"] == "BTC/USDT:USDT" and f["funding_time_ms"] == 1741276800000
    )  # fmt: skip
    assert D(btc_16["rate"]) == Decimal("0.00006818")
    assert D(btc_16["amount"]) == -(
        D(btc_16["contracts"]) * D(btc_16["mark_price"]) * D(btc_16["rate"])
    )
    assert D(btc_16["amount"]) < 0  # the long paid
    # the lesson first: one contract (the multiplier), standard vs micro size in money
    lesson = doc["scenes"][0]["say"]
    assert "one BTC/USDT:USDT contract is 1 BTC (multiplier ×1)" in lesson
    assert "A standard size of 1 BTC is 89,770 USDT of exposure" in lesson  # 15:00 price
    assert "a micro size of 0.01 BTC is 898 USDT" in lesson
    assert "smallest order (0.001 contracts) is 90 USDT" in lesson
    # the 50x long was liquidated as `microfut replay` would: the last price stands in for
    # mark between the recorded 8h marks, so the first 1h bar (from 09:00, the entry) whose low
    # reaches the liquidation price liquidates it at that low, a quarter into the bar (low first)
    (liq,) = doc["liquidations"]
    assert liq["margin_mode"] == "isolated"
    assert D(liq["leverage"]) == 50
    assert liq["trigger_source"] == "last"
    entry = D(liq["entry_price"])
    assert entry == D(next(f for f in doc["fills"] if f["order_id"] == "o7")["price"])
    lp = entry * (1 - Decimal(1) / 50) / (1 - Decimal("0.004"))  # Binance isolated, tier 1
    assert lp.quantize(Decimal("0.01")) == Decimal("84392.37")
    assert D(liq["liquidation_price"]).quantize(Decimal("0.01")) == Decimal("84392.37")
    bars = load_series(shared_data / "ohlcv" / "binance_usdm" / "BTC_USDT_USDT-1h-futures.feather")
    after = bars[bars["ts_ms"] >= 1741510800000]  # 2025-03-09 09:00 UTC
    hit = after[[Decimal(repr(float(x))) <= lp for x in after["low"]]].iloc[0]
    assert int(hit["ts_ms"]) == 1741521600000  # the 12:00 bar
    assert liq["ts_ms"] == int(hit["ts_ms"]) + 15 * 60 * 1000  # 12:15, not 16:00
    assert D(liq["mark_price"]) == Decimal(repr(float(hit["low"])))
    assert D(liq["mark_price"]) <= D(liq["liquidation_price"])
    # no recorded 8h mark (funding instant) fell between the entry and the liquidation
    marks = load_series(shared_data / "ohlcv" / "binance_usdm" / "BTC_USDT_USDT-8h-mark.feather")
    between = marks[(marks["ts_ms"] > 1741510800000) & (marks["ts_ms"] <= liq["ts_ms"])]
    assert between.empty
    liq_scene = next(s for s in doc["scenes"] if s["at_ms"] == liq["ts_ms"] + 15 * 60 * 1000)
    assert liq_scene["say"].startswith("At 12:15 the price went through the liquidation price "
                                       "84,392.37")  # fmt: skip
    # isolated margin = 0.02 × entry / 50; the loss never exceeds it
    assert D(liq["wallet_before"]) == D(liq["contracts"]) * D(liq["entry_price"]) / 50
    assert 0 < D(liq["loss"]) <= D(liq["wallet_before"])
    assert any(t["exit_reason"] == "liquidation" for t in trades)
    # the loss limit locked entries and the next entry was denied
    assert [lock["guard"] for lock in doc["locks"]] == ["daily_loss"]
    assert len(doc["denied"]) == 1
    summary = doc["report"]["summary"]
    assert summary["trades"] == len(trades) == 3
    assert D(doc["wallet"]) == D(summary["ending_equity"])


def test_demo_prints_the_scenes_and_the_report(run_cli, shared_data: Path) -> None:
    result = run_cli("demo")

    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "size: 0.005 contracts" in out
    assert "o2 amended: contracts 0.005" in out
    assert "LIQUIDATED long 0.020 BTC/USDT:USDT" in out
    assert "funding BTC/USDT:USDT at 2025-03-06 16:00:00" in out
    assert "DENIED BTC/USDT:USDT: entries locked by the daily loss limit" in out
    assert "journal report: demo" in out
    assert "85,624.38" not in out  # no isolated liquidation price on the cross account
    assert "margin 22.44 USDT at 20x cross, liq - (cross: the wallet covers it)" in out
    assert "At 12:15 the price went through the liquidation price 84,392.37" in out
    # the mark rule in the words of `microfut replay`
    assert (
        "BTC/USDT:USDT: mark price = last price of the candle path between the recorded 8h "
        "mark prices (those are used at funding instants)"
    ) in " ".join(result.stderr.split())
    assert "last recorded mark stands" not in result.stderr
    assert "discipline review" in out


def test_demo_is_deterministic(run_cli, shared_data: Path, tmp_path: Path) -> None:
    first = run_cli("demo", "--json", "--db", str(tmp_path / "one.sqlite"))
    second = run_cli("demo", "--json", "--db", str(tmp_path / "two.sqlite"))

    assert first.exit_code == second.exit_code == 0
    one, two = json.loads(first.stdout), json.loads(second.stdout)
    assert (one.pop("journal"), two.pop("journal")) == (
        str(tmp_path / "one.sqlite"),
        str(tmp_path / "two.sqlite"),
    )
    assert one == two


def test_demo_without_data_says_where_to_get_it(run_cli, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()

    result = run_cli("demo", "--data", str(empty))

    assert result.exit_code == 2
    assert "no recorded BTC/ETH 1h candles in" in result.stderr
    assert "ship with microfut" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_demo_again_keeps_the_first_demo_and_adds_an_account(
    run_cli, shared_data: Path, tmp_path: Path
) -> None:
    db = tmp_path / "mine.sqlite"
    assert run_cli("demo", "--db", str(db), "--json").exit_code == 0
    first = json.loads(run_cli("journal", "report", "--db", str(db), "--json").stdout)

    again = run_cli("demo", "--db", str(db))

    assert again.exit_code == 0
    assert "account 'demo-2'" in again.stdout
    assert f"microfut journal report -a demo-2 --db {db}" in again.stdout
    both = json.loads(run_cli("journal", "report", "--db", str(db), "--json").stdout)
    assert [a["account"] for a in both["accounts"]] == ["demo", "demo-2"]
    assert both["accounts"][0] == first["accounts"][0]


def test_demo_writes_where_journal_looks(run_cli, shared_data: Path) -> None:
    assert run_cli("demo").exit_code == 0

    listed = run_cli("journal", "list")
    report = json.loads(run_cli("journal", "report", "--json").stdout)

    assert listed.exit_code == 0
    assert "account demo" in listed.stdout
    assert report["accounts"][0]["summary"]["trades"] == 3


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend stdin/stdout are a terminal (the desk then runs headless through its hook)."""
    monkeypatch.setattr(trade_cmd, "has_terminal", lambda: True)


@pytest.mark.parametrize("extra", [(), ("-e", "binanceusdm"), ("--exchange", "binanceusdm")])
def test_trade_without_a_terminal_refuses_in_one_line(
    run_cli, shared_data: Path, extra: tuple[str, ...]
) -> None:
    candles = shared_data / "ohlcv" / "binance_usdm" / "BTC_USDT_USDT-1h-futures.feather"

    result = run_cli("trade", *extra, "--replay", str(candles), "--symbols", "BTC")

    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: microfut trade needs an interactive terminal; use `microfut replay` or "
        "`microfut run` for scripted runs"
    )
    assert "\x1b[?" not in result.stdout  # no full-screen escape codes


@pytest.mark.usefixtures("terminal")
def test_trade_with_an_unknown_symbol_is_one_line_exit_2(run_cli, shared_data: Path) -> None:
    result = run_cli("trade", "--symbols", "DOGE", "--replay", str(shared_data / "ohlcv"))

    assert result.exit_code == 2
    assert "unknown symbol 'DOGE' on binanceusdm" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.usefixtures("terminal")
def test_trade_with_a_missing_recording_is_one_line_exit_2(
    run_cli, shared_data: Path, tmp_path: Path
) -> None:
    result = run_cli("trade", "--replay", str(tmp_path / "nothing.gz"))

    assert result.exit_code == 2
    assert "nothing.gz was not found" in result.stderr


@pytest.mark.usefixtures("terminal")
def test_trade_replays_candles_into_the_desk_and_journal(
    run_cli, shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sim.desk.app import DeskApp

    seen: dict[str, object] = {}
    real_run = DeskApp.run

    async def trader(pilot) -> None:  # what a user types once prices are on the screen
        app = pilot.app
        while not app.desk.account.books.get(BTC_SYMBOL):
            await pilot.pause(0.01)
        before = app.desk.logged
        app.query_one("#command").value = "buy 0.002 BTC stop 80000"
        await pilot.press("enter")
        await pilot.pause()
        seen["lines"] = app.desk.lines_since(before)
        app.query_one("#command").value = "quit"
        await pilot.press("enter")

    def headless(self: DeskApp, **kw: object) -> object:
        return real_run(self, headless=True, size=(200, 50), auto_pilot=trader)

    monkeypatch.setattr(DeskApp, "run", headless)
    candles = shared_data / "ohlcv" / "binance_usdm" / "BTC_USDT_USDT-1h-futures.feather"
    db = tmp_path / "desk.sqlite"

    result = run_cli(
        "trade", "-e", "binanceusdm", "--replay", str(candles), "--symbols", "BTC",
        "--speed", "3600", "--db", str(db), "--json",
    )  # fmt: skip

    assert result.exit_code == 0, result.stderr
    final = json.loads(result.stdout)
    assert final["account"] == "main"
    assert "USDT" in final["wallets"]
    lines = seen["lines"]
    assert isinstance(lines, list)
    echo = next(line for line in lines if line.startswith("→ buy 0.002 BTC/USDT:USDT"))
    filled = next(line for line in lines if line.startswith("o1 filled"))
    price = echo.split("market ≈ ")[1].split(" |")[0]
    assert f"@ {price} (taker" in filled  # the echo was the engine's own fill
    with Journal.open(db) as journal:
        kinds = [e.kind for e in journal.events("main")]
    assert kinds[:1] == ["WalletCredited"]
    assert "OrderFilled" in kinds


MINUTE_MS = 60_000
BTC_1M_FIRST_MS = 1746372780000  # 2025-05-04 15:33 UTC, first bar of the recorded 1m candles


def btc_1m(shared_data: Path) -> Path:
    return shared_data / "ohlcv" / "binance_usdm" / "BTC_USDT_USDT-1m-futures.feather"


REAL_RUN: dict[str, Any] = {}


def drive(monkeypatch: pytest.MonkeyPatch, script: Any) -> None:
    """Run the desk headless with ``script(pilot)`` typing at it (textual's pilot)."""
    from sim.desk.app import DeskApp

    real_run = REAL_RUN.setdefault("run", DeskApp.run)  # not an earlier test's patch

    def headless(self: DeskApp, **kw: object) -> object:
        return real_run(self, headless=True, size=(200, 50), auto_pilot=script)

    monkeypatch.setattr(DeskApp, "run", headless)


async def type_line(pilot: Any, line: str) -> list[str]:
    """Type one line at the desk; the log lines it produced."""
    app = pilot.app
    before = app.desk.logged
    app.query_one("#command").value = line
    await pilot.press("enter")
    await pilot.pause()
    return app.desk.lines_since(before)


async def wait_for(pilot: Any, condition: Any, seconds: float = 10) -> None:
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError(f"the desk never got there: {list(pilot.app.desk.log)[-8:]}")


def paused_at(app: Any, ts_ms: int) -> bool:
    clock = app.desk.clock
    return clock.paused and clock.next_ms == ts_ms


@pytest.mark.usefixtures("terminal")
def test_trade_speed_0_starts_paused_and_steps_pauses_resumes(
    run_cli, shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}

    async def trader(pilot: Any) -> None:
        app = pilot.app
        await pilot.pause(0.2)
        seen["idle_now"] = app.desk.now_ms  # only the first bar's open played while paused
        seen["idle_last"] = app.desk.account.books[BTC_SYMBOL].last
        seen["idle_buy"] = await type_line(pilot, "buy 0.001 BTC")
        seen["step"] = await type_line(pilot, "step 3")
        await wait_for(pilot, lambda: paused_at(app, BTC_1M_FIRST_MS + 3 * MINUTE_MS + 15_000))
        seen["after_step"] = app.desk.now_ms
        seen["last"] = app.desk.account.books[BTC_SYMBOL].last
        seen["buy"] = await type_line(pilot, "buy 0.002 BTC")
        seen["speed"] = await type_line(pilot, "speed 600")
        seen["resume"] = await type_line(pilot, "resume")
        await wait_for(pilot, lambda: app.desk.now_ms > BTC_1M_FIRST_MS + 5 * MINUTE_MS)
        seen["pause"] = await type_line(pilot, "pause")
        held = app.desk.now_ms
        await pilot.pause(0.3)
        seen["held"] = (held, app.desk.now_ms)
        seen["bad"] = await type_line(pilot, "step 1.5")
        await type_line(pilot, "quit")

    drive(monkeypatch, trader)
    result = run_cli(
        "trade", "-e", "binanceusdm", "--replay", str(btc_1m(shared_data)), "--symbols", "BTC",
        "--speed", "0", "--db", str(tmp_path / "desk.sqlite"), "--json",
    )  # fmt: skip

    assert result.exit_code == 0, result.stderr
    bars = load_series(btc_1m(shared_data))
    # paused AT the first bar: its open is known and an order fills at once
    assert seen["idle_now"] == BTC_1M_FIRST_MS
    assert seen["idle_last"] == Decimal(repr(float(bars["open"].iloc[0])))
    assert any(line.startswith("o1 filled: buy 0.001") for line in seen["idle_buy"])
    assert seen["step"][-1] == "replay steps 3 bar(s) of 1 min to 2025-05-04 15:36 UTC"
    # exactly three 1m bars played: the clock is at the open of the fourth bar (+1 ms: the
    # buy typed at the first bar got its own instant)
    assert seen["after_step"] == BTC_1M_FIRST_MS + 3 * MINUTE_MS
    assert seen["last"] == Decimal(repr(float(bars["open"].iloc[3])))
    filled = next(line for line in seen["buy"] if line.startswith("o2 filled"))
    assert "REJECTED" not in "\n".join(seen["buy"])  # not stale: the recording is not over
    assert "o2 filled: buy 0.002 BTC/USDT:USDT @ " in filled
    assert seen["speed"][-1] == "replay speed ×600 (paused; type resume)"
    assert seen["resume"][-1].startswith("replay resumed at ×600 at 2025-05-04 15:36 UTC")
    assert seen["pause"][-1].startswith("replay paused at ")
    held, later = seen["held"]
    assert held == later  # nothing played while paused
    assert seen["bad"][-1] == "error: step takes a whole number of bars, was 1.5"


def test_trade_help_documents_speed_0_and_the_replay_commands(run_cli) -> None:
    result = run_cli("trade", "--help")

    text = " ".join(result.stdout.split())
    assert result.exit_code == 0
    assert "0 = start paused" in text
    assert "step [N]" in text


@pytest.mark.usefixtures("terminal")
def test_resumed_replay_desk_continues_at_the_accounts_clock(
    run_cli, shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "desk.sqlite"
    seen: dict[str, Any] = {}
    args = ("trade", "-e", "binanceusdm", "--replay", str(btc_1m(shared_data)), "--symbols",
            "BTC", "--speed", "0", "--db", str(db), "--json")  # fmt: skip

    async def first(pilot: Any) -> None:
        app = pilot.app
        await type_line(pilot, "step 5")
        await wait_for(pilot, lambda: paused_at(app, BTC_1M_FIRST_MS + 5 * MINUTE_MS + 15_000))
        await type_line(pilot, "buy 0.002 BTC")
        seen["left_at"] = app.desk.now_ms
        await type_line(pilot, "quit")

    drive(monkeypatch, first)
    assert run_cli(*args).exit_code == 0

    async def second(pilot: Any) -> None:
        app = pilot.app
        await pilot.pause(0.1)
        seen["opening"] = list(app.desk.log)
        await type_line(pilot, "step 1")
        await wait_for(pilot, lambda: paused_at(app, BTC_1M_FIRST_MS + 6 * MINUTE_MS + 15_000))
        seen["last"] = app.desk.account.books[BTC_SYMBOL].last
        seen["sell"] = await type_line(pilot, "sell 0.002 BTC")
        await type_line(pilot, "quit")

    drive(monkeypatch, second)
    result = run_cli(*args)

    assert result.exit_code == 0, result.stderr
    # the account left off at the open of the sixth bar (15:38:00), five bars after the first
    assert seen["left_at"] == BTC_1M_FIRST_MS + 5 * MINUTE_MS
    opening = "\n".join(seen["opening"])
    assert "resuming the recording at 2025-05-04 15:38:00 UTC" in opening
    assert "resumed account 'main'" in opening
    # one step plays the sixth bar (15:38) to the seventh's open, not the first one again
    bars = load_series(btc_1m(shared_data))
    assert seen["last"] == Decimal(repr(float(bars["open"].iloc[6])))
    with Journal.open(db) as journal:
        times = [e.ts_ms for e in journal.events("main")]
    assert times == sorted(times)  # the journal never goes back in time
    assert times[-1] == BTC_1M_FIRST_MS + 6 * MINUTE_MS


@pytest.mark.usefixtures("terminal")
def test_resumed_desk_on_a_recording_that_ends_before_its_clock_is_one_line_exit_2(
    run_cli, shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "desk.sqlite"

    async def first(pilot: Any) -> None:
        app = pilot.app
        await type_line(pilot, "step 1")
        await wait_for(pilot, lambda: paused_at(app, BTC_1M_FIRST_MS + MINUTE_MS + 15_000))
        await type_line(pilot, "quit")

    drive(monkeypatch, first)
    assert run_cli("trade", "-e", "binanceusdm", "--replay", str(btc_1m(shared_data)),
                   "--symbols", "BTC", "--speed", "0", "--db", str(db)).exit_code == 0  # fmt: skip
    march = shared_data / "ohlcv" / "binance_usdm" / "BTC_USDT_USDT-1h-futures.feather"

    result = run_cli("trade", "-e", "binanceusdm", "--replay", str(march), "--symbols", "BTC",
                     "--speed", "0", "--db", str(db))  # fmt: skip

    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        # the account's last journaled event: its opening deposit at the first 1m bar
        "error: account 'main' is at 2025-05-04 15:33:00 UTC but the recording ends "
        "2025-04-05 10:00:00 UTC; replay a later recording or pass another --account"
    ]


@pytest.mark.usefixtures("terminal")
def test_a_command_that_crashes_is_logged_and_the_desk_exits_70(
    run_cli, shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sim.desk.session import DeskSession

    seen: dict[str, Any] = {}

    def broken(self: DeskSession, intent: Any) -> Any:
        raise KeyError("boom")

    async def trader(pilot: Any) -> None:
        monkeypatch.setattr(DeskSession, "execute", broken)
        seen["lines"] = await type_line(pilot, "buy 0.001 BTC")
        await pilot.press("ctrl+c")

    drive(monkeypatch, trader)
    result = run_cli(
        "trade", "-e", "binanceusdm", "--replay", str(btc_1m(shared_data)), "--symbols", "BTC",
        "--speed", "0", "--db", str(tmp_path / "desk.sqlite"),
    )  # fmt: skip

    assert seen["lines"][-1] == "internal error in 'buy 0.001 BTC': KeyError: 'boom'"
    assert result.exit_code == 70
    assert result.stderr.strip().splitlines()[-1] == (
        "error: the desk hit 1 internal error(s), shown in its log; the journal holds every "
        "committed event"
    )


@pytest.mark.usefixtures("terminal")
def test_a_live_desk_that_cannot_reach_the_venue_says_so_and_exits_4(
    run_cli, shared_data: Path, tmp_path: Path
) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    result = run_cli("trade", "--exchange", "bybit", "--symbols", "BTC,ETH", "--endpoint",
                     f"http://127.0.0.1:{port}", "--db", str(tmp_path / "j.sqlite"))  # fmt: skip

    assert result.exit_code == 4
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: cannot reach bybit")
    assert f"127.0.0.1:{port}" in line
    assert "Connection refused" in line
    assert not (tmp_path / "j.sqlite").exists()  # nothing journaled for a desk that never ran


def test_the_live_desk_checks_the_venue_before_opening() -> None:
    import socket

    from config.settings import load_settings
    from sim.cli.trade_cmd import _check_online
    from sim.errors import FeedError

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    with pytest.raises(FeedError, match=rf"bybit: cannot reach 127.0.0.1:{port} \(") as caught:
        _check_online("bybit", load_settings(), f"http://127.0.0.1:{port}")
    assert caught.value.exit_code == 4
