"""`microfut calc size|liq|hedge` end to end on the recorded specs (issue 2 examples)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

LIQ_BTC = "calc liq -e binanceusdm -s BTC/USDT:USDT"
SIZE_BTC = "calc size -e binanceusdm -s BTC/USDT:USDT --entry 70000"
HEDGE_BTC = "calc hedge -e binanceusdm -s BTC/USDT:USDT"


def run(run_cli: Any, line: str) -> Any:
    """Run one `microfut` command line (arguments separated by spaces)."""
    return run_cli(*line.split())


def as_json(run_cli: Any, line: str) -> dict[str, Any]:
    result = run(run_cli, f"{line} --json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


# Binance FAQ isolated ETHUSDT (maintenance rate and amount of that FAQ's bracket)
def test_liq_reproduces_binance_faq_isolated_eth(shared_data: Path, run_cli: Any) -> None:
    result = run(
        run_cli,
        "calc liq -e binanceusdm -s ETH/USDT:USDT --side long --entry 1456.84 "
        "--contracts 3683.979 --leverage 10 --wallet 1535443.01 --mmr 0.10 --maint-amount 135365",
    )

    assert result.exit_code == 0, result.stderr
    assert "1,114.78" in result.stdout
    assert "binance" in result.stdout


# Binance FAQ isolated BTCUSDT
def test_liq_reproduces_binance_faq_isolated_btc(shared_data: Path, run_cli: Any) -> None:
    out = as_json(
        run_cli,
        f"{LIQ_BTC} --side long --entry 32481.98 --contracts 109.488 --leverage 10 "
        "--wallet 1535443.01 --mmr 0.025 --maint-amount 16300",
    )

    assert out["liquidation_price"] == "18778.73"
    assert out["approximate"] is False


# exchange-mechanics.md §A.2 micro case on the real binanceusdm spec and its real tier 1
@pytest.mark.parametrize(("side", "price"), [("long", "54216.87"), ("short", "65737.05")])
def test_liq_micro_case_on_the_real_tier(
    shared_data: Path, run_cli: Any, side: str, price: str
) -> None:
    out = as_json(run_cli, f"{LIQ_BTC} --side {side} --entry 60000 --contracts 0.01 --leverage 10")

    assert out["liquidation_price"] == price
    assert out["tier"] == 1
    assert out["mmr"] == "0.004"
    assert out["initial_margin"] == "60.00"


# Bybit "Liquidation Price (USDT Contract)": 1 BTC @20,000, 50x, MMR 0.5 % → 19,700
def test_liq_bybit_linear_example_with_mmr(shared_data: Path, run_cli: Any) -> None:
    out = as_json(
        run_cli,
        "calc liq -e bybit -s BTC/USDT:USDT --side long --entry 20000 --contracts 1 "
        "--leverage 50 --mmr 0.005",
    )

    assert out["liquidation_price"] == "19700.00"
    assert out["initial_margin"] == "400.00"
    assert out["maintenance_margin"] == "100.00"


# Bybit UTA isolated inverse: 60,000 USD @50,000, 10x, MMR 0.5 % → 45,662.10
def test_liq_bybit_inverse_example(shared_data: Path, run_cli: Any) -> None:
    out = as_json(
        run_cli,
        "calc liq -e bybit -s BTC/USD:BTC --side long --entry 50000 --contracts 60000 "
        "--leverage 10 --mmr 0.005",
    )

    assert out["liquidation_price"] == "45662.10"
    assert out["initial_margin"] == "0.12000000"
    assert out["currency"] == "BTC"


# Binance COIN-M FAQ: 10 contracts of 100 USD at 9,800, 20x → 0.0051 BTC initial margin
def test_liq_coinm_initial_margin(shared_data: Path, run_cli: Any) -> None:
    out = as_json(
        run_cli,
        "calc liq -e binancecoinm -s BTC/USD:BTC --side long --entry 9800 --contracts 10 "
        "--leverage 20 --mmr 0.004",
    )

    assert out["initial_margin"].startswith("0.0051")


def test_liq_bybit_without_tiers_says_what_to_pass(shared_data: Path, run_cli: Any) -> None:
    result = run(
        run_cli,
        "calc liq -e bybit -s BTC/USDT:USDT --side long --entry 20000 --contracts 1 --leverage 50",
    )

    assert result.exit_code == 2
    assert (
        "no maintenance-margin tiers recorded for bybit BTC/USDT:USDT; pass --mmr "
        "(and --maint-amount) or run `microfut specs refresh --exchange bybit` online"
    ) in result.stderr


def test_liq_on_a_generic_venue_says_approximate(shared_data: Path, run_cli: Any) -> None:
    result = run(
        run_cli,
        "calc liq -e mexc -s BTC/USDT:USDT --side long --entry 60000 --contracts 100 "
        "--leverage 10 --mmr 0.004",
    )

    assert result.exit_code == 0, result.stderr
    assert "54,216.87" in result.stdout
    assert "approximate" in result.stdout


# Issue 2: E 1,000, R 1, 70,000 → 69,300 on Binance USDⓈ-M BTC/USDT:USDT → 0.014 BTC, $9.80
def test_size_issue_example(shared_data: Path, run_cli: Any) -> None:
    out = as_json(run_cli, f"{SIZE_BTC} --equity 1000 --risk-pct 1 --stop 69300")

    assert out["contracts"] == "0.014"
    assert out["base_qty"] == "0.014"
    assert out["max_loss"] == "9.80"


def test_size_table_and_leverage_warning_on_stderr(shared_data: Path, run_cli: Any) -> None:
    result = run(run_cli, f"{SIZE_BTC} --equity 1000 --stop 69300 --leverage 25 --include-fees")

    assert result.exit_code == 0, result.stderr
    assert "0.012" in result.stdout
    assert "liquidation price" in result.stdout
    assert "above your warning level 20x" in result.stderr


# Issue 2: $500 bag, beta 1.5, BTC $70,000, 0.01 BTC contracts → 1 contract, $50 unhedged
def test_hedge_issue_example(shared_data: Path, run_cli: Any) -> None:
    out = as_json(
        run_cli, f"{HEDGE_BTC} --portfolio 500 --beta 1.5 --price 70000 --contract-size 0.01"
    )

    assert out["contracts"] == "1"
    assert out["unhedged"] == "50.00"
    assert out["hedged_notional"] == "700.00"
    assert [s["net_pnl"] for s in out["scenarios"]] == ["-5.00", "5.00"]


def test_hedge_defaults_to_the_last_recorded_price(shared_data: Path, run_cli: Any) -> None:
    result = run(run_cli, f"{HEDGE_BTC} --portfolio 500 --contract-size 0.01")

    assert result.exit_code == 0, result.stderr
    assert "last close" in result.stderr
    assert "P&L" in result.stdout


def _one_line_exit_2(result: Any, message: str) -> None:
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ("--contracts -1 --leverage 10", "contracts must be positive"),
        ("--contracts 10 --leverage 125", "above the maximum 100x"),
        ("--contracts abc --leverage 10", "--contracts expects a number"),
        ("--contracts 0.01 --leverage 10 --margin-mode portfolio", "isolated"),
        ("--contracts 0.01 --leverage 10 --margin-mode cross", "--wallet"),
    ],
)
def test_liq_bad_input_is_one_line_exit_2(
    shared_data: Path, run_cli: Any, args: str, message: str
) -> None:
    result = run(run_cli, f"{LIQ_BTC} --side long --entry 60000 {args}")

    _one_line_exit_2(result, message)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ("--equity 1000 --stop 71000 --side long", "wrong side for a long"),
        ("--equity 1000 --stop 70000", "equals the entry"),
        ("--equity -5 --stop 69300", "equity must be positive"),
        ("--equity 1000 --stop 69300 --leverage 200", "above the maximum 150x"),
    ],
)
def test_size_bad_input_is_one_line_exit_2(
    shared_data: Path, run_cli: Any, args: str, message: str
) -> None:
    result = run(run_cli, f"{SIZE_BTC} {args}")

    _one_line_exit_2(result, message)


def test_hedge_negative_portfolio_and_unknown_symbol_exit_2(
    shared_data: Path, run_cli: Any
) -> None:
    negative = run(run_cli, f"{HEDGE_BTC} --portfolio -500 --price 70000")
    unknown = run(run_cli, "calc hedge -e binanceusdm -s BTC/USDT --portfolio 500 --price 70000")

    _one_line_exit_2(negative, "portfolio must be positive")
    _one_line_exit_2(unknown, "unknown symbol")


# QA: 5 % of 100,000 with a 10-point stop is 500 BTC (35,000,000 USDT, tier 5, max 25x)
def test_size_leverage_above_the_sized_tier_is_refused_with_the_largest_size(
    shared_data: Path, run_cli: Any
) -> None:
    result = run(run_cli, f"{SIZE_BTC} --equity 100000 --risk-pct 5 --stop 69990 --leverage 125")

    _one_line_exit_2(result, "maximum 25x for a notional of 35,000,000 USDT (tier 5)")
    assert "at 125x the largest size is" in result.stderr
    assert "70,587.76" not in result.stdout + result.stderr


def test_size_leverage_check_names_the_sized_notional(shared_data: Path, run_cli: Any) -> None:
    result = run(run_cli, f"{SIZE_BTC} --equity 1000 --stop 69300 --leverage 200")

    _one_line_exit_2(result, "for a notional of 980 USDT")


def test_liq_maintenance_above_initial_margin_is_liquidated_at_once(
    shared_data: Path, run_cli: Any
) -> None:
    result = run(
        run_cli, f"{LIQ_BTC} --side long --entry 60000 --contracts 0.01 --leverage 10 --mmr 0.2"
    )

    _one_line_exit_2(result, "would be liquidated at once")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (f"{SIZE_BTC} --equity 1000 --stop 69300 --risk-pct 0", "--risk-pct must be more than 0"),
        (f"{SIZE_BTC} --equity 1000 --stop 69300 --risk-pct 101", "at most 100"),
        (f"{SIZE_BTC} --equity 1000 --stop 69300 --leverage 0.5", "at least 1"),
        (f"{LIQ_BTC} --side long --entry 60000 --contracts 0.01 --leverage 0.5", "at least 1"),
        (f"{HEDGE_BTC} --portfolio 500 --price 70000 --leverage 0.5", "at least 1"),
        ("calc size -e binanceusdm -s BTC/USDT:USDT --equity 1000 --stop 69300 --entry 1e400",
         "--entry 1e400 is out of range"),
        (f"{LIQ_BTC} --side long --entry 60000 --contracts 1e-30 --leverage 10", "out of range"),
    ],
)  # fmt: skip
def test_calc_validation_is_one_line_exit_2(
    shared_data: Path, run_cli: Any, line: str, message: str
) -> None:
    _one_line_exit_2(run(run_cli, line), message)


def test_size_warnings_use_thousands_separators_and_short_sizes(
    shared_data: Path, run_cli: Any
) -> None:
    margin = run(run_cli, f"{SIZE_BTC} --equity 1000 --stop 69930")
    tiny = run(run_cli, f"{SIZE_BTC} --equity 1 --stop 69930")

    assert margin.exit_code == 0, margin.stderr
    assert "margin 9,940 USDT is more than the equity 1,000 USDT" in margin.stderr
    assert "buys 0.00014 contracts, below the venue minimum of 0.001" in tiny.stderr


def test_hedge_puts_the_minus_before_the_dollar(shared_data: Path, run_cli: Any) -> None:
    result = run(
        run_cli, f"{HEDGE_BTC} --portfolio 500 --beta 1.5 --price 70000 --contract-size 0.01"
    )

    assert result.exit_code == 0, result.stderr
    assert "-$75" in result.stdout
    assert "$-" not in result.stdout


def test_hedge_zero_pnl_prints_plus_zero_dollars(shared_data: Path, run_cli: Any) -> None:
    result = run(run_cli, f"{HEDGE_BTC} --portfolio 5 --price 70000")

    assert result.exit_code == 0, result.stderr
    assert "-$0 " not in result.stdout
    assert "│ $0 " in result.stdout
    assert "-$0.50" in result.stdout


def test_calc_help_shows_where_defaults_come_from(run_cli: Any) -> None:
    result = run(run_cli, "calc size --help")

    text = " ".join(result.stdout.split())
    assert result.exit_code == 0
    assert "[default: from config: exchange.default]" in text
    assert "[default: from config: risk.risk_pct]" in text
    assert "( risk_pct)" not in text
    assert "default: default" not in text
    assert "<bool>  machine" not in text


# Issue 13 #1 (exchange-mechanics.md §A.1, Binance liquidation FAQ): 5.001 BTC at 60,000 is
# 300,060 at entry (bracket 2) but the bracket at the liquidation price is 1: 54,216.87, the
# price the engine acts on (not 54,211.07).
def test_liq_uses_the_bracket_at_the_liquidation_price(shared_data: Path, run_cli: Any) -> None:
    out = as_json(run_cli, f"{LIQ_BTC} --side long --entry 60000 --contracts 5.001 --leverage 10")

    assert out["liquidation_price"] == "54216.87"
    assert (out["tier"], out["mmr"]) == (1, "0.004")
    assert out["maintenance_margin"] == "1200.30"  # at entry, bracket 2: 300,060 × 0.5 % − 300


# Issue 13 #6: fees overridable so a page's example at its own fee tier is reproduced. Bybit
# "Bankruptcy Price (USDT Contract)" (exchange-mechanics.md §A.4): 1 BTC long at 10,000, 50x,
# taker 0.075 %: closing fee 1 × 9,800 × 0.075 % = 7.35, position margin IM 200 + 7.35.
def test_liq_taker_fee_override_reproduces_bybit_bankruptcy_example(
    shared_data: Path, run_cli: Any
) -> None:
    line = (
        "calc liq -e bybit -s BTC/USDT:USDT --side long --entry 10000 --contracts 1 "
        "--leverage 50 --mmr 0.005"
    )
    out = as_json(run_cli, f"{line} --taker-fee 0.00075")
    assert (out["wallet"], out["bankruptcy_price"], out["taker_fee"]) == (
        "207.35",
        "9800.00",
        "0.00075",
    )
    assert as_json(run_cli, f"{line} --taker-fee 0")["wallet"] == "200.00"


def test_size_fee_override_changes_the_fee_risk(shared_data: Path, run_cli: Any) -> None:
    line = f"{SIZE_BTC} --stop 69300 --equity 1000 --risk-pct 1 --include-fees"
    free = as_json(run_cli, f"{line} --taker-fee 0")
    assert (free["contracts"], free["max_loss"]) == ("0.014", "9.80")  # 10 / 700 → 0.014
    # taker 0.1 %: per BTC 700 + 0.001 × (70,000 + 69,300) = 839.30 → 10 / 839.3 → 0.011
    assert as_json(run_cli, f"{line} --taker-fee 0.001")["contracts"] == "0.011"


def test_fee_override_out_of_range_is_one_line(shared_data: Path, run_cli: Any) -> None:
    result = run(
        run_cli, f"{LIQ_BTC} --side long --entry 60000 --contracts 0.01 --leverage 10 --taker-fee 2"
    )
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "error: --taker-fee must be a fraction between 0 and 1 (0.0005 = 0.05 %), was 2"
    ]
