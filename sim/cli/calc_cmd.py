"""`microfut calc size|liq|hedge`: risk calculators on the venue's real contract spec.

Leverage above the maximum of the tier the sized notional falls in is an error (exit 2) naming
that maximum and the largest size the venue allows at the asked leverage; the size is never
capped silently, so the risk a trader asked for is the risk they get or a clear refusal.
Heavy modules (ccxt through adapters.specs, pandas through adapters.candles) are imported
inside the commands so `microfut --help` stays fast.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import typer

from sim.cli import context, render
from sim.cli.flags import ExchangeOpt, JsonOpt, MakerFeeOpt, TakerFeeOpt, user_tier
from sim.engine.money import TYPED_RANGE, dec, typed_in_range
from sim.errors import InputError

if TYPE_CHECKING:
    from sim.engine.hedge import HedgeResult
    from sim.engine.sizing import LiqResult, SizeResult
    from sim.engine.spec import ContractSpec, MarginTier

calc_app = typer.Typer(help="Risk calculators: position size, liquidation price, beta hedge.")

SymbolOpt = Annotated[
    str, typer.Option("--symbol", "-s", help="unified symbol, e.g. BTC/USDT:USDT")
]
MmrOpt = Annotated[
    str | None, typer.Option("--mmr", help="maintenance-margin rate instead of the spec's tier")
]
MaintOpt = Annotated[
    str | None, typer.Option("--maint-amount", help="maintenance amount (cum) with --mmr")
]


def _num(flag: str, value: str | None) -> Decimal | None:
    """Parse a flag's number; a bad value is a one-line InputError naming the flag."""
    return None if value is None else _req(flag, value)


def _req(flag: str, value: str) -> Decimal:
    """Parse a required flag's number (typer already refuses a missing one)."""
    try:
        number = dec(value)
    except InputError:
        raise InputError(f"{flag} expects a number, was {value!r}") from None
    if not typed_in_range(number):
        raise InputError(f"{flag} {value} is out of range: expected a number {TYPED_RANGE}")
    return number


def _spec(
    exchange: str | None, symbol: str, maker_fee: str | None = None, taker_fee: str | None = None
) -> ContractSpec:
    """The venue's spec, at the fee rates of ``--maker-fee``/``--taker-fee`` when given."""
    from adapters.specs import load_spec_book
    from sim.engine.spec import with_fees

    settings = context.settings()
    spec = load_spec_book(exchange or settings.exchange.default, settings).get(symbol)
    return with_fees(spec, _fee("--maker-fee", maker_fee), _fee("--taker-fee", taker_fee))


def _fee(flag: str, value: str | None) -> Decimal | None:
    """A fee rate flag: a fraction (zero allowed, unlike other numbers' 1e-12 floor)."""
    if value is None:
        return None
    try:
        return dec(value)
    except InputError:
        raise InputError(f"{flag} expects a number, was {value!r}") from None


def _usd(value: Decimal) -> str:
    """Dollars with the sign before the symbol: -$20, $1,234.50; zero is "$0", never "-$0"."""
    text = render.fmt(abs(value) if value == 0 else value)
    return f"-${text[1:]}" if text.startswith("-") else f"${text}"


def _tier_override(mmr: str | None, maint: str | None) -> MarginTier | None:
    """A single tier from --mmr/--maint-amount, used instead of the spec's tiers."""
    return user_tier(_num("--mmr", mmr), _num("--maint-amount", maint), 0)


def _leverage(text: str) -> Decimal:
    """--leverage as a number of at least 1."""
    lev = _req("--leverage", text)
    if lev < 1:
        raise InputError(f"--leverage must be at least 1 (1 = no leverage), was {text}")
    return lev


def _side(value: str | None, flag: str = "--side") -> Any:
    if value is None or value in ("long", "short"):
        return value
    raise InputError(f"{flag} must be 'long' or 'short', was {value!r}")


def _rule_text(rule: str, approximate: bool) -> str:
    return f"{rule} (approximate)" if approximate else rule


def _warn_all(warnings: tuple[str, ...]) -> None:
    for text in warnings:
        render.warn(text)


@calc_app.command("size")
def size(
    symbol: SymbolOpt,
    equity: Annotated[str, typer.Option("--equity", help="account equity (settle currency)")],
    entry: Annotated[str, typer.Option("--entry", help="entry price")],
    stop: Annotated[str, typer.Option("--stop", help="stop price")],
    exchange: ExchangeOpt = None,
    risk_pct: Annotated[
        str | None,
        typer.Option(
            "--risk-pct",
            help="percent of equity to risk, in (0, 100] \\[default: from config: risk.risk_pct]",
        ),
    ] = None,
    leverage: Annotated[str, typer.Option("--leverage", help="leverage for margin")] = "1",
    include_fees: Annotated[
        bool,
        typer.Option("--include-fees", help="count entry and exit taker fees as risk", metavar=""),
    ] = False,
    side: Annotated[
        str | None, typer.Option("--side", help="long or short (default: from the stop)")
    ] = None,
    mmr: MmrOpt = None,
    maint_amount: MaintOpt = None,
    maker_fee: MakerFeeOpt = None,
    taker_fee: TakerFeeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Size a trade so the loss at the stop is at most equity × risk %.

    Leverage above the maximum of the sized notional's tier is refused (exit 2) with the
    largest size allowed at that leverage.
    """
    from sim.engine.sizing import size_by_risk

    risk = context.settings().risk
    pct = _num("--risk-pct", risk_pct)
    if pct is not None and not 0 < pct <= 100:
        raise InputError(f"--risk-pct must be more than 0 and at most 100, was {risk_pct}")
    lev = _leverage(leverage)
    spec = _spec(exchange, symbol, maker_fee, taker_fee)
    result = size_by_risk(
        spec,
        equity=_req("--equity", equity),
        risk_pct=pct if pct is not None else risk.risk_pct,
        entry=_req("--entry", entry),
        stop=_req("--stop", stop),
        leverage=lev,
        include_fees=include_fees,
        leverage_warning=risk.leverage_warning,
        side=_side(side),
        tier=_tier_override(mmr, maint_amount),
    )
    if as_json:
        render.print_json(result)
    else:
        render.stdout.print(render.kv_table(f"{spec.venue} {spec.symbol} size", _size_rows(result)))
    _warn_all(result.warnings)
    if result.reason:
        render.warn(result.reason)


def _size_rows(r: SizeResult) -> list[tuple[str, Any]]:
    cur = r.currency
    return [
        ("side", r.side),
        ("risk budget", f"{render.fmt(r.risk_budget)} {cur} ({render.fmt(r.risk_pct)} %)"),
        ("contracts", r.contracts),
        ("contract size", r.contract_size),
        ("base quantity", r.base_qty),
        ("notional", f"{render.fmt(r.notional)} {cur}"),
        ("leverage", f"{render.fmt(r.leverage)}x"),
        ("margin", f"{render.fmt(r.margin)} {cur}"),
        ("max loss at stop", f"{render.fmt(r.max_loss)} {cur}"),
        ("fees included", r.fees_included),
        ("liquidation price", r.liquidation_price or ("never" if r.contracts else "-")),
        ("tier", r.tier if r.tier is not None else "from --mmr" if r.contracts else "-"),
        ("rule", _rule_text(r.rule, r.approximate)),
    ]


@calc_app.command("liq")
def liq(
    symbol: SymbolOpt,
    side: Annotated[str, typer.Option("--side", help="long or short")],
    entry: Annotated[str, typer.Option("--entry", help="entry price")],
    contracts: Annotated[str, typer.Option("--contracts", help="position size in contracts")],
    leverage: Annotated[str, typer.Option("--leverage", help="leverage")],
    exchange: ExchangeOpt = None,
    margin_mode: Annotated[
        str, typer.Option("--margin-mode", help="isolated or cross")
    ] = "isolated",
    wallet: Annotated[
        str | None,
        typer.Option("--wallet", help="isolated margin or cross wallet balance (settle currency)"),
    ] = None,
    mmr: MmrOpt = None,
    maint_amount: MaintOpt = None,
    maker_fee: MakerFeeOpt = None,
    taker_fee: TakerFeeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Liquidation and bankruptcy price of a position with the venue's own formula."""
    from sim.engine.sizing import quote_liquidation

    if margin_mode not in ("isolated", "cross"):
        raise InputError(f"--margin-mode must be 'isolated' or 'cross', was {margin_mode!r}")
    if side not in ("long", "short"):
        raise InputError(f"--side must be 'long' or 'short', was {side!r}")
    lev = _leverage(leverage)
    spec = _spec(exchange, symbol, maker_fee, taker_fee)
    result = quote_liquidation(
        spec,
        side=_side(side),
        entry=_req("--entry", entry),
        contracts=_req("--contracts", contracts),
        leverage=lev,
        margin_mode=margin_mode,  # type: ignore[arg-type]
        wallet=_num("--wallet", wallet),
        tier=_tier_override(mmr, maint_amount),
    )
    if as_json:
        render.print_json(result)
    else:
        title = f"{spec.venue} {spec.symbol} {result.side} liquidation"
        render.stdout.print(render.kv_table(title, _liq_rows(result)))
    _warn_all(result.warnings)


def _liq_rows(r: LiqResult) -> list[tuple[str, Any]]:
    cur = r.currency
    tier = f"tier {r.tier}" if r.tier is not None else "from --mmr"
    return [
        ("liquidation price", r.liquidation_price if r.liquidation_price else "never"),
        ("bankruptcy price", r.bankruptcy_price if r.bankruptcy_price else "never"),
        ("initial margin", f"{render.fmt(r.initial_margin)} {cur}"),
        ("maintenance margin", f"{render.fmt(r.maintenance_margin)} {cur}"),
        ("wallet", f"{render.fmt(r.wallet)} {cur} ({r.margin_mode})"),
        ("contracts", r.contracts),
        ("contract size", r.contract_size),
        ("base quantity" if r.currency != "BTC" else "face value", r.base_qty),
        ("notional", f"{render.fmt(r.notional)} {cur}"),
        ("leverage", f"{render.fmt(r.leverage)}x"),
        ("tier", f"{tier}: mmr {render.fmt(r.mmr)}, maint amount {render.fmt(r.maint_amount)}"),
        ("rule", _rule_text(r.rule, r.approximate)),
    ]


@calc_app.command("hedge")
def hedge(
    symbol: SymbolOpt,
    portfolio: Annotated[str, typer.Option("--portfolio", help="portfolio value in dollars")],
    exchange: ExchangeOpt = None,
    beta: Annotated[str, typer.Option("--beta", help="portfolio beta to the underlying")] = "1",
    hedge_ratio: Annotated[
        str, typer.Option("--hedge-ratio", help="share of the beta exposure to hedge")
    ] = "1",
    price: Annotated[
        str | None, typer.Option("--price", help="underlying price (default: last recorded)")
    ] = None,
    contract_size: Annotated[
        str | None,
        typer.Option("--contract-size", help="hypothetical contract size (whole contracts)"),
    ] = None,
    leverage: Annotated[str, typer.Option("--leverage", help="leverage for margin")] = "1",
    as_json: JsonOpt = False,
) -> None:
    """Contracts to short so a portfolio with a beta is hedged, and what stays unhedged."""
    from adapters import candles
    from sim.engine.hedge import beta_hedge

    lev = _leverage(leverage)
    spec = _spec(exchange, symbol)
    px = _num("--price", price)
    if px is None:
        found = candles.last_close(spec.symbol, context.settings().data.data_dirs)
        if found is None:
            raise InputError(f"no recorded price for {spec.symbol}; pass --price P")
        px = found[0]
        render.stderr.print(f"price {render.fmt(px)} = last close in {found[2]}")
    result = beta_hedge(
        spec,
        portfolio=_req("--portfolio", portfolio),
        price=px,
        beta=_req("--beta", beta),
        hedge_ratio=_req("--hedge-ratio", hedge_ratio),
        leverage=lev,
        contract_size=_num("--contract-size", contract_size),
    )
    if as_json:
        render.print_json(result)
    else:
        render.stdout.print(
            render.kv_table(f"{spec.venue} {spec.symbol} hedge", _hedge_rows(result))
        )
        columns = ["move", "underlying", "portfolio", "hedge", "net"]
        rows = [
            [
                f"{render.fmt(s.move_pct, 0)} %",
                s.underlying_price,
                _usd(s.portfolio_pnl),
                _usd(s.hedge_pnl),
                _usd(s.net_pnl),
            ]
            for s in result.scenarios
        ]
        render.stdout.print(render.grid_table("P&L in dollars", columns, rows))
    _warn_all(result.warnings)
    if result.reason:
        render.warn(result.reason)


def _hedge_rows(r: HedgeResult) -> list[tuple[str, Any]]:
    size_note = " (--contract-size)" if r.contract_size_overridden else ""
    return [
        ("contracts to short", r.contracts),
        ("contract size", f"{render.fmt(r.contract_size)}{size_note}"),
        ("exact contracts", r.raw_contracts),
        ("beta exposure", _usd(r.beta_exposure)),
        ("target hedge", _usd(r.target_notional)),
        ("hedged notional", _usd(r.hedged_notional)),
        ("unhedged", _usd(r.unhedged)),
        ("price", r.price),
        ("margin", f"{render.fmt(r.margin)} {r.margin_currency} at {render.fmt(r.leverage)}x"),
    ]


def register(app: typer.Typer) -> None:
    """Attach this module's commands to the root app."""
    app.add_typer(calc_app, name="calc")
