"""`microfut specs list|show|refresh` as a user runs them, on the recorded data and loopback."""

from __future__ import annotations

import json
import socket
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.loopback.rest import rest_app, serve_rest_thread


def _unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_list_json_names_every_recorded_binanceusdm_market(run_cli, shared_data: Path) -> None:
    result = run_cli("specs", "list", "--exchange", "binanceusdm", "--json")

    doc = json.loads(result.stdout)
    assert result.exit_code == 0
    assert [s["symbol"] for s in doc["specs"]] == [
        "BTC/USDT:USDT",
        "ETH/USDT:USDT",
        "BTC/USDT:USDT-220325",
    ]
    assert doc["specs"][0]["tiers"] == 12


def test_list_filters_by_base_and_type(run_cli, shared_data: Path) -> None:
    result = run_cli("specs", "list", "--base", "btc", "--type", "future", "--json")

    assert [s["symbol"] for s in json.loads(result.stdout)["specs"]] == ["BTC/USDT:USDT-220325"]


def test_list_table_shows_contract_size_and_step(run_cli, shared_data: Path) -> None:
    result = run_cli("specs", "list", "--exchange", "bybit")

    assert result.exit_code == 0
    assert "BTC/USD:BTC" in result.stdout
    assert "1 USD" in result.stdout
    assert "5 of 5 markets" in result.stderr


def test_show_btc_at_70000_and_10x_is_0_001_btc_for_70_usdt(run_cli, shared_data: Path) -> None:
    result = run_cli("specs", "show", "BTC", "--price", "70000", "--leverage", "10", "--json")

    doc = json.loads(result.stdout)
    c = doc["contract"]
    assert result.exit_code == 0
    assert doc["spec"]["symbol"] == "BTC/USDT:USDT"
    assert (Decimal(c["notional_per_contract"]), Decimal(c["margin_per_contract"])) == (70000, 7000)
    assert c["headline"] == (
        "smallest order here = 0.001 contract = 0.001 BTC = 70 USDT at 70,000 USDT "
        "(1 contract = 1 BTC)"
    )
    micro = c["scales"][2]
    assert micro["label"] == "micro"
    assert (Decimal(micro["contracts_here"]), Decimal(micro["margin"])) == (Decimal("0.01"), 70)


def test_show_inverse_gives_the_contract_in_usd_and_margin_in_coin(
    run_cli, shared_data: Path
) -> None:
    result = run_cli(
        "specs",
        "show",
        "BTCUSD_PERP",
        "-e",
        "binancecoinm",
        "--price",
        "70000",
        "--leverage",
        "20",
        "--json",
    )

    c = json.loads(result.stdout)["contract"]
    assert c["headline"] == "1 contract here = 100 USD = 0.00142857 BTC at 70,000 USD"
    assert c["margin_currency"] == "BTC"
    # standard 1 BTC = 70,000 USD = 700 contracts of 100 USD; margin 1 BTC / 20 = 0.05 BTC
    standard = c["scales"][0]
    assert (Decimal(standard["contracts_here"]), Decimal(standard["margin"])) == (
        700,
        Decimal("0.05"),
    )


def test_show_defaults_to_the_last_recorded_close(run_cli, shared_data: Path) -> None:
    result = run_cli("specs", "show", "BTC/USDT:USDT", "--json")

    c = json.loads(result.stdout)["contract"]
    assert result.exit_code == 0
    assert c["price"] == "106588.4"
    assert "BTC_USDT_USDT-1m-futures" in c["price_source"]


def test_show_without_any_recorded_price_asks_for_one(run_cli, shared_data: Path) -> None:
    result = run_cli("specs", "show", "LTC", "--exchange", "bybit")

    assert result.exit_code == 2
    assert "no recorded price for LTC/USD:LTC; pass --price" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("BTC/USDT",), "did you mean 'BTC/USDT:USDT'?"),
        (("BTC", "--price", "0"), "--price must be above zero"),
        (("BTC", "--price", "70000", "--leverage", "151"), "above the maximum 150x"),
        (("BTC", "--price", "70000", "--leverage", "0.5"), "--leverage must be at least 1"),
        (("BTC", "--exchange", "bybitt"), "unknown exchange 'bybitt'; did you mean 'bybit'"),
        (("BTC", "--exchange", "okx"), "no recorded specs for okx"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    run_cli, shared_data: Path, args: tuple[str, ...], message: str
) -> None:
    result = run_cli("specs", "show", *args)

    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_corrupt_snapshot_is_exit_2_naming_the_file(
    run_cli, shared_data: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "data" / "specs" / "binanceusdm"
    folder.mkdir(parents=True)
    good = shared_data / "ccxt_static_markets" / "ccxt-4.5.90_parsed_binanceusdm.json"
    (folder / "2026-11-01.json").write_text(good.read_text()[:500] + "garbage")

    result = run_cli("specs", "list", "--exchange", "binanceusdm")

    assert result.exit_code == 2
    assert "2026-11-01.json" in result.stderr
    assert result.stderr.count("\n") == 1


def test_refresh_without_network_says_so_and_exits_4(run_cli, shared_data: Path) -> None:
    closed = f"http://127.0.0.1:{_unused_port()}"

    result = run_cli("specs", "refresh", "--exchange", "binanceusdm", "--endpoint", closed)

    assert result.exit_code == 4
    assert result.stderr.startswith("error: cannot reach binanceusdm (network unreachable)")
    assert "offline specs still come from" in result.stderr
    assert "fapi_v1_exchangeInfo_2022-02-19.json" in result.stderr


def test_refresh_from_loopback_writes_a_snapshot_that_show_reads(
    run_cli, shared_data: Path, tmp_path: Path
) -> None:
    with serve_rest_thread(rest_app("binanceusdm", [shared_data])) as url:
        refreshed = run_cli("specs", "refresh", "-e", "binanceusdm", "--endpoint", url, "--json")

    shown = run_cli("specs", "show", "ETHUSDT", "--price", "3000", "--json")

    doc = json.loads(refreshed.stdout)
    path = Path(doc["path"])
    assert (refreshed.exit_code, doc["markets"], doc["tiers"]) == (0, 3, 0)
    assert path.parent == tmp_path / "data" / "specs" / "binanceusdm"
    assert json.loads(path.read_text())["endpoint"] == url
    assert json.loads(shown.stdout)["source"] == str(path)
    assert json.loads(shown.stdout)["spec"]["price_tick"] == "0.01"


def test_bybit_refresh_keeps_markets_and_warns_about_missing_tiers(
    run_cli, shared_data: Path
) -> None:
    with serve_rest_thread(rest_app("bybit", [shared_data])) as url:
        result = run_cli("specs", "refresh", "-e", "bybit", "--endpoint", url)

    assert result.exit_code == 0
    assert "5 markets (0 with tiers) from bybit" in result.stdout
    assert "linear leverage tiers not fetched" in result.stderr


def test_show_table_has_the_headline_and_the_tier_table(run_cli, shared_data: Path) -> None:
    result = run_cli("specs", "show", "BTCUSDT", "--price", "70000", "--leverage", "10")

    assert result.exit_code == 0
    assert "0.001 BTC = 70 USDT at 70,000 USDT" in result.stdout
    assert "maintenance tiers" in result.stdout
    assert "0.65 %" in result.stdout


def test_specs_help_shows_where_the_exchange_default_comes_from(run_cli) -> None:
    result = run_cli("specs", "list", "--help")

    text = " ".join(result.stdout.split())
    assert result.exit_code == 0
    assert "[default: from config: exchange.default]" in text
    assert "default: default" not in text
