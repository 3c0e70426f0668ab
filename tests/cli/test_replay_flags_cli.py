"""`replay` and `run` flags: `--maker-fee/--taker-fee` (another fee tier) and `--guards`."""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path

HEADER = (
    "time,symbol,side,type,contracts,price,trigger_price,callback_pct,reduce_only,leverage,"
    "margin_mode,stop_loss,take_profit,tag\n"
)
ROUND_TRIP = (
    "2025-05-05T00:00:00Z,BTC/USDT:USDT,buy,market,0.01,,,,,10,isolated,,,rt\n"
    "2025-05-06T00:00:00Z,BTC/USDT:USDT,sell,market,0.01,,,,true,,,,,\n"
)


def _trade(run_cli, shared_data: Path, tmp_path: Path, *flags: str) -> dict:
    orders = tmp_path / "orders.csv"
    orders.write_text(HEADER + ROUND_TRIP, encoding="utf-8")
    data = str(shared_data / "ohlcv" / "binance_usdm" / "BTC_USDT_USDT-1m-futures.feather")
    res = run_cli("replay", "--data", data, "--orders", str(orders), "--json", *flags)
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    return {**out["closed_trades"][0], "notes": out["notes"]}


def test_taker_fee_flag_charges_the_given_rate_on_both_fills(
    run_cli, shared_data: Path, tmp_path: Path
) -> None:
    market = _trade(run_cli, shared_data, tmp_path)
    tier = _trade(run_cli, shared_data, tmp_path, "--taker-fee", "0.0004", "--maker-fee", "0")

    def taker(t: dict, rate: D) -> D:  # both fills are market orders: taker on each notional
        return (D(t["entry_price"]) + D(t["exit_price"])) * D("0.01") * rate

    assert D(market["fees"]) == taker(market, D("0.0005"))  # Binance USDⓈ-M VIP 0 taker
    assert D(tier["fees"]) == taker(tier, D("0.0004"))
    assert (tier["entry_price"], tier["exit_price"]) == (
        market["entry_price"],
        market["exit_price"],
    )
    assert any("fee rates given by you: maker 0, taker 0.0004" in n for n in tier["notes"])


def test_fee_flag_that_is_not_a_fraction_exits_2(run_cli, tmp_path: Path) -> None:
    orders = tmp_path / "orders.csv"
    orders.write_text(HEADER + ROUND_TRIP, encoding="utf-8")

    res = run_cli("replay", "--data", str(tmp_path), "--orders", str(orders), "--taker-fee", "5")

    assert res.exit_code == 2
    assert "--taker-fee must be a fraction between 0 and 1 (0.0005 = 0.05 %), was 5" in res.stderr


def test_run_takes_the_fee_flags_too(run_cli, shared_data: Path) -> None:
    data = str(shared_data / "ohlcv" / "binance_usdm")
    window = ("--from", "2025-05-04T16:00", "--until", "2025-05-04T18:00")

    res = run_cli("run", "breakout", "--replay", data, *window, "--taker-fee", "0", "--maker-fee",
                  "0", "--json")  # fmt: skip

    assert res.exit_code == 0, res.stderr
    assert D(json.loads(res.stdout)["summary"]["fees"]) == 0


def test_replay_guards_flag_denies_entries_while_locked(
    run_cli, shared_data: Path, tmp_path: Path, monkeypatch
) -> None:
    """`--guards`: one trade a day allowed; the first entry locks for an hour, the
    exit passes, the next entry is denied."""
    monkeypatch.setenv("MICROFUT_RISK__MAX_TRADES_PER_DAY", "1")
    orders = tmp_path / "orders.csv"
    orders.write_text(
        HEADER
        + "2025-05-05T00:00:00Z,BTC/USDT:USDT,buy,market,0.01,,,,,10,isolated,,,one\n"
        + "2025-05-05T00:10:00Z,BTC/USDT:USDT,sell,market,0.01,,,,true,,,,,\n"
        + "2025-05-05T00:20:00Z,BTC/USDT:USDT,buy,market,0.01,,,,,10,isolated,,,again\n",
        encoding="utf-8",
    )
    data = str(shared_data / "ohlcv" / "binance_usdm" / "BTC_USDT_USDT-1m-futures.feather")

    plain = json.loads(run_cli("replay", "--data", data, "--orders", str(orders), "--json").stdout)
    guarded = run_cli("replay", "--data", data, "--orders", str(orders), "--json", "--guards")

    assert guarded.exit_code == 0, guarded.stderr
    out = json.loads(guarded.stdout)
    assert [p["contracts"] for p in plain["positions"]] == ["0.01"]
    assert out["positions"] == []
    assert [r["reason"][:48] for r in out["rejected"]] == [
        "entries locked by the max trades per day for 40 "
    ]


def test_guarded_replay_skipping_quiet_bars_equals_every_bar(
    run_cli, shared_data: Path, tmp_path: Path, monkeypatch
) -> None:
    """The skip search stops at the guards' clock (lock end, UTC midnight): same journal."""
    monkeypatch.setenv("MICROFUT_RISK__MAX_TRADES_PER_DAY", "1")
    orders = tmp_path / "orders.csv"
    orders.write_text(
        HEADER
        + "2025-05-05T00:00:00Z,BTC/USDT:USDT,buy,market,0.01,,,,,10,isolated,90000,,one\n"
        + "2025-05-05T00:20:00Z,BTC/USDT:USDT,buy,limit,0.01,90000,,,,10,isolated,,,denied\n"
        + "2025-05-05T03:00:00Z,BTC/USDT:USDT,buy,limit,0.01,90000,,,,10,isolated,,,two\n"
        + "2025-05-06T12:00:00Z,BTC/USDT:USDT,sell,market,0.03,,,,true,,,,,\n",
        encoding="utf-8",
    )
    data = str(shared_data / "ohlcv" / "binance_usdm" / "BTC_USDT_USDT-1m-futures.feather")
    args = ("replay", "--data", data, "--orders", str(orders), "--json", "--guards")

    fast = run_cli(*args, "--db", str(tmp_path / "fast.sqlite"))
    slow = run_cli(*args, "--db", str(tmp_path / "slow.sqlite"), "--every-bar")

    assert fast.exit_code == 0, fast.stderr
    a, b = json.loads(fast.stdout), json.loads(slow.stdout)
    assert a["stats"]["bars_skipped"] > 0
    assert b["stats"]["bars_skipped"] == 0
    assert len(a["rejected"]) == 1
    events = {name: _journal(tmp_path / f"{name}.sqlite") for name in ("fast", "slow")}
    kinds = [e.kind for e in events["fast"]]
    assert kinds.count("GuardLocked") == kinds.count("GuardUnlocked") == 1
    unlocked = next(e for e in events["fast"] if e.kind == "GuardUnlocked")
    assert unlocked.ts_ms == 1_746_406_800_000  # 01:00 UTC: the lock's end, not a later bar
    assert events["fast"] == events["slow"]


def _journal(db: Path) -> list:
    from sim.journal.store import Journal

    with Journal.open(db) as journal:
        return journal.events("main")
