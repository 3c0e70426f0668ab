"""`microfut specs list|show|refresh`: what one contract of a market really is on a venue."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from sim.cli import context, render
from sim.cli.flags import ExchangeOpt, JsonOpt
from sim.cli.render import fmt
from sim.engine.money import dec
from sim.errors import DataError, InputError

if TYPE_CHECKING:
    from adapters.specs import SpecBook
    from sim.engine.spec import ContractSpec

specs_app = typer.Typer(help="Contract specs: list, show one, refresh the offline snapshot.")

SCALES = (("standard", Decimal(1)), ("mini", Decimal("0.1")), ("micro", Decimal("0.01")))


def _book(exchange: str | None) -> SpecBook:
    from adapters.specs import load_spec_book  # ccxt: imported only when a command runs

    settings = context.settings()
    return load_spec_book(exchange or settings.exchange.default, settings)


def _size_text(spec: ContractSpec) -> str:
    unit = spec.base if spec.linear else spec.quote
    return f"{render.fmt(spec.contract_size)} {unit}"


def _list_table(title: str, specs: list[Any], width: int) -> Any:
    """The markets as a borderless table whose symbol column is never cut (it is what the user
    types); below 110 columns the venue id (rarely typed) is left out to make room."""
    from rich import box
    from rich.table import Table

    wide = width >= 110
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
                  collapse_padding=True, padding=(0, 1))  # fmt: skip
    table.add_column("symbol", no_wrap=True)
    columns = ["id"] if wide else []
    columns += ["type", "margin", "1 contract", "tick", "step", "min", "max lev"]
    for col in columns:
        table.add_column(col, justify="left" if col in ("id", "type", "margin") else "right")
    for s in specs:
        row = [s.venue_id] if wide else []
        row += [
            s.kind if s.expiry_ms is None else f"future {render.ts_text(s.expiry_ms)[2:10]}",
            "linear" if s.linear else "inverse",
            _size_text(s),
            *(fmt(v) for v in (s.price_tick, s.amount_step, s.min_amount, s.max_leverage)),
        ]
        table.add_row(s.symbol, *row)
    return table


@specs_app.command("list")
def list_specs(
    exchange: ExchangeOpt = None,
    base: Annotated[str | None, typer.Option("--base", help="only this base asset")] = None,
    kind: Annotated[str | None, typer.Option("--type", help="swap or future")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List the venue's futures markets with their contract size, tick and step."""
    book = _book(exchange)
    if kind is not None and kind not in ("swap", "future"):
        raise InputError(f"--type must be 'swap' or 'future', was {kind!r}")
    specs = [
        s
        for s in book.specs
        if (base is None or s.base.upper() == base.upper()) and (kind is None or s.kind == kind)
    ]
    if as_json:
        rows = [{**render.to_jsonable(s), "tiers": len(s.tiers)} for s in specs]
        render.print_json({"exchange": book.exchange, "source": book.source, "specs": rows})
        return
    render.stdout.print(_list_table(f"{book.exchange} futures", specs, render.stdout.width))
    render.stderr.print(f"{len(specs)} of {len(book.specs)} markets; specs from {book.source}")


@dataclass(frozen=True)
class ScaleRow:
    """One row of the standard / mini / micro / venue table at one price."""

    label: str
    base_qty: Decimal
    notional_quote: Decimal
    contracts_here: Decimal
    exact: bool
    margin: Decimal


@dataclass(frozen=True)
class ContractMeaning:
    """What one contract is worth at ``price`` and what it costs to open at ``leverage``."""

    price: Decimal
    price_source: str
    leverage: Decimal
    base_per_contract: Decimal
    notional_per_contract: Decimal
    notional_currency: str
    margin_per_contract: Decimal
    margin_currency: str
    headline: str
    scales: list[ScaleRow]


def smallest_order(spec: ContractSpec) -> Decimal:
    """The fewest contracts the venue accepts: its minimum amount, else one amount step."""
    return max(spec.amount_step, spec.min_amount or spec.amount_step)


def contract_meaning(
    spec: ContractSpec, price: Decimal, leverage: Decimal, source: str
) -> ContractMeaning:
    """One contract at ``price``: base quantity, notional and initial margin (settle currency).

    The scale table sets standard 1 / mini 0.1 / micro 0.01 of the base beside the venue's own
    smallest order (min amount × contractSize), each with the contracts it takes here.
    """
    one = Decimal(1)
    # Linear: contract_size is base units; inverse: it is quote (USD) per contract.
    base_per = spec.contract_size if spec.linear else spec.contract_size / price
    notional = spec.notional(one, price)
    smallest = smallest_order(spec)
    rows = []
    for label, qty in (*SCALES, (f"smallest order ({fmt(smallest)} ct)", base_per * smallest)):
        contracts = qty / spec.contract_size if spec.linear else qty * price / spec.contract_size
        rounded = spec.round_contracts(contracts)
        margin = (qty * price if spec.linear else qty) / leverage
        rows.append(ScaleRow(label, qty, qty * price, rounded, rounded == contracts, margin))
    q, at = spec.quote, f"at {fmt(price)} {spec.quote}"
    if spec.linear:
        one_text = f"{fmt(base_per)} {spec.base}"
        small = f"{fmt(base_per * smallest)} {spec.base} = {fmt(notional * smallest)} {q} {at}"
    else:
        one_text = f"{fmt(spec.contract_size)} {q}"
        coin = (base_per * smallest).quantize(Decimal("1e-8"))
        small = f"{fmt(spec.contract_size * smallest)} {q} = {fmt(coin)} {spec.base} {at}"
    if smallest == one:
        headline = f"1 contract here = {small}"
    else:
        headline = (
            f"smallest order here = {fmt(smallest)} contract = {small} (1 contract = {one_text})"
        )
    return ContractMeaning(
        price=price,
        price_source=source,
        leverage=leverage,
        base_per_contract=base_per,
        notional_per_contract=notional,
        notional_currency=spec.settle,
        margin_per_contract=notional / leverage,
        margin_currency=spec.settle,
        headline=headline,
        scales=rows,
    )


def _price(spec: ContractSpec, price: str | None) -> tuple[Decimal, str]:
    if price is not None:
        p = dec(price)
        if p <= 0:
            raise InputError(f"--price must be above zero, was {price}")
        return p, "--price"
    from adapters import candles  # pandas is heavy: import only when a price is looked up

    found = candles.last_close(spec.symbol, context.settings().data.data_dirs)
    if found is None:
        raise InputError(
            f"no recorded price for {spec.symbol}; pass --price P to see what one contract means"
        )
    p, ts_ms, path = found
    return p, f"last recorded close {render.ts_text(ts_ms)} UTC ({Path(path).name})"


def _leverage(spec: ContractSpec, leverage: str, notional: Decimal) -> Decimal:
    lev = dec(leverage)
    if lev < 1:
        raise InputError(f"--leverage must be at least 1 (1 = no leverage), was {leverage}")
    cap = spec.max_leverage_for(notional)
    if cap is not None and lev > cap:
        raise InputError(
            f"leverage {leverage}x is above the maximum {render.fmt(cap)}x for "
            f"{spec.symbol} on {spec.venue}"
        )
    return lev


@specs_app.command("show")
def show_spec(
    symbol: Annotated[str, typer.Argument(help="unified symbol, venue id or base (BTC)")],
    exchange: ExchangeOpt = None,
    price: Annotated[str | None, typer.Option("--price", help="default: last recorded")] = None,
    leverage: Annotated[str, typer.Option("--leverage", help="for the margin column")] = "1",
    as_json: JsonOpt = False,
) -> None:
    """Show one market's spec and what one contract means at a price."""
    book = _book(exchange)
    spec = book.get(symbol)
    p, source = _price(spec, price)
    meaning = contract_meaning(spec, p, _leverage(spec, leverage, spec.notional(dec(1), p)), source)
    if as_json:
        render.print_json({"source": book.source, "spec": spec, "contract": meaning})
        return
    render.stdout.print(render.kv_table(f"{spec.symbol} on {spec.venue}", _spec_rows(spec)))
    render.stdout.print(meaning.headline)
    unit = spec.settle
    title = f"at {render.fmt(p)} {spec.quote} ({source}), leverage {render.fmt(meaning.leverage)}x"
    cols = ["size", f"{spec.base}", f"value {spec.quote}", "contracts here", f"margin {unit}"]
    rows = [
        [
            r.label,
            r.base_qty.quantize(Decimal("1e-8")).normalize() if not spec.linear else r.base_qty,
            r.notional_quote.quantize(Decimal("0.01")),
            render.fmt(r.contracts_here) + ("" if r.exact else " (rounded down)"),
            r.margin.quantize(Decimal("0.01") if spec.linear else Decimal("1e-8")),
        ]
        for r in meaning.scales
    ]
    render.stdout.print(render.grid_table(title, cols, rows))
    if spec.tiers:
        tier_rows = [
            [t.tier, t.floor, t.cap, _pct(t.mmr), f"{fmt(t.max_leverage)}x", t.cum]
            for t in spec.tiers
        ]
        tier_cols = ["tier", f"from {unit}", f"to {unit}", "maint. rate", "max lev", "cum"]
        render.stdout.print(
            render.grid_table(f"maintenance tiers ({spec.tiers_source})", tier_cols, tier_rows)
        )
    render.stderr.print(f"specs from {book.source}")


def _pct(rate: Decimal) -> str:
    return f"{format((rate * 100).normalize(), 'f')} %"


def _spec_rows(spec: ContractSpec) -> list[tuple[str, Any]]:
    t1 = spec.tiers[0] if spec.tiers else None
    return [
        ("venue id", spec.venue_id),
        ("base / quote / settle", f"{spec.base} / {spec.quote} / {spec.settle}"),
        ("margin", "linear" if spec.linear else "inverse (coin-margined)"),
        ("type", "perpetual" if spec.kind == "swap" else "dated future"),
        ("expiry", render.ts_text(spec.expiry_ms) if spec.expiry_ms else "-"),
        ("1 contract (contractSize)", _size_text(spec)),
        ("price tick", spec.price_tick),
        ("amount step (contracts)", spec.amount_step),
        ("min / max amount", f"{render.fmt(spec.min_amount)} / {render.fmt(spec.max_amount)}"),
        ("min notional", spec.min_notional),
        ("max leverage", spec.max_leverage),
        ("maker / taker fee", f"{render.fmt(spec.maker_fee)} / {render.fmt(spec.taker_fee)}"),
        ("funding interval (h)", spec.funding_interval_h),
        ("tiers", f"{len(spec.tiers)} from {spec.tiers_source}" if spec.tiers else "none"),
        (
            "tier 1",
            f"{render.fmt(t1.floor)}-{render.fmt(t1.cap)} {spec.settle}, mmr {render.fmt(t1.mmr)}, "
            f"{render.fmt(t1.max_leverage)}x, cum {render.fmt(t1.cum)}"
            if t1
            else "-",
        ),
    ]


@specs_app.command("refresh")
def refresh_specs(
    exchange: ExchangeOpt = None,
    endpoint: Annotated[
        str | None, typer.Option("--endpoint", help="compatible server, e.g. the loopback")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Fetch markets (and public leverage tiers) live and write a dated offline snapshot."""
    import ccxt

    from adapters.specs import fetch_live, snapshot_dir

    settings = context.settings()
    venue = exchange or settings.exchange.default
    url = endpoint or settings.exchange.endpoint or None
    live = fetch_live(venue, endpoint=url, settings=settings)
    now = datetime.now(UTC)
    path = snapshot_dir(venue, settings) / f"{now:%Y-%m-%d}.json"
    doc = {
        "exchange": venue,
        "fetched_ms": int(now.timestamp() * 1000),
        "endpoint": url or "live",
        "ccxt_version": ccxt.__version__,
        "markets": live.markets,
        "tiers": live.tiers,
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc, default=str))
    except OSError as e:
        raise DataError(f"cannot write snapshot {path}: {e.strerror}") from None
    for text in live.warnings:
        render.warn(text)
    result = {"exchange": venue, "markets": len(live.markets), "tiers": len(live.tiers)}
    if as_json:
        render.print_json({**result, "path": path})
        return
    render.stdout.print(
        f"{len(live.markets)} markets ({len(live.tiers)} with tiers) from {venue} → {path}"
    )


def register(app: typer.Typer) -> None:
    """Attach this module's commands to the root app."""
    app.add_typer(specs_app, name="specs")
