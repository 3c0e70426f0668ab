"""What a strategy sees and does: account views, recent prices, and the desk's order actions.

Order helpers round prices to the contract's tick (half up) and sizes down to its amount step,
the way ccxt's ``*_to_precision`` do; a size that rounds to zero is sent anyway and comes back
as an ``OrderRejected`` (through ``on_denied``), so nothing is fixed silently. Every action
returns a :class:`~sim.strategy.api.Ticket`; the order is sent right after the hook returns.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from sim.desk.parse import ParseProblem, ladder
from sim.engine.commands import AmendOrder, CancelOrder, PlaceOrder, SetLeverage
from sim.engine.hedge import HedgeResult, beta_hedge
from sim.engine.money import dec
from sim.engine.sizing import SizeResult, size_by_risk
from sim.engine.spec import ContractSpec
from sim.errors import InputError
from sim.strategy.values import Ticket
from sim.strategy.views import History, Limits, Ohlc, Views

Side = Literal["buy", "sell"]
__all__ = ["Context", "History", "Limits", "Ohlc", "Side"]


class Context(Views):
    """The strategy's handle on its account and market (passed to every hook as ``ctx``)."""

    # ---- order actions --------------------------------------------------------------------
    def _price(self, spec: ContractSpec, value: Decimal | None) -> Decimal | None:
        return None if value is None else spec.round_price(dec(value))

    def _place(self, side: Side, contracts: Decimal, symbol: str | None, **kw: Any) -> Ticket:
        if side not in ("buy", "sell"):
            raise InputError(f"side must be 'buy' or 'sell', was {side!r}")
        spec = self.spec(symbol)
        for key in ("price", "trigger_price", "stop_loss", "take_profit"):
            kw[key] = self._price(spec, kw.get(key))
        cmd = PlaceOrder(
            ts_ms=self.now_ms,
            venue=spec.venue,
            symbol=spec.symbol,
            side=side,
            contracts=spec.round_contracts(dec(contracts)),
            source=self.source,
            tag=kw.pop("tag", None) or self.source,
            **kw,
        )
        return self._submit(cmd)

    def market(
        self,
        side: Side,
        contracts: Decimal,
        symbol: str | None = None,
        *,
        stop_loss: Decimal | None = None,
        take_profit: Decimal | None = None,
        reduce_only: bool = False,
        leverage: Decimal | None = None,
        margin_mode: str | None = None,
        tag: str | None = None,
    ) -> Ticket:
        """A market order; ``stop_loss``/``take_profit`` attach a bracket that works on fill."""
        return self._place(
            side,
            contracts,
            symbol,
            order_type="market",
            stop_loss=stop_loss,
            take_profit=take_profit,
            reduce_only=reduce_only,
            leverage=leverage,
            margin_mode=margin_mode,
            tag=tag,
        )

    def buy(self, contracts: Decimal, symbol: str | None = None, **kw: Any) -> Ticket:
        return self.market("buy", contracts, symbol, **kw)

    def sell(self, contracts: Decimal, symbol: str | None = None, **kw: Any) -> Ticket:
        return self.market("sell", contracts, symbol, **kw)

    def limit(
        self,
        side: Side,
        contracts: Decimal,
        price: Decimal,
        symbol: str | None = None,
        *,
        time_in_force: str = "GTC",
        reduce_only: bool = False,
        stop_loss: Decimal | None = None,
        take_profit: Decimal | None = None,
        tag: str | None = None,
    ) -> Ticket:
        """A limit order (GTC, IOC, FOK or post_only)."""
        return self._place(
            side,
            contracts,
            symbol,
            order_type="limit",
            price=price,
            time_in_force=time_in_force,
            reduce_only=reduce_only,
            stop_loss=stop_loss,
            take_profit=take_profit,
            tag=tag,
        )

    def stop(
        self,
        side: Side,
        contracts: Decimal,
        trigger: Decimal,
        symbol: str | None = None,
        *,
        limit_price: Decimal | None = None,
        trigger_source: str = "last",
        reduce_only: bool = False,
        tag: str | None = None,
    ) -> Ticket:
        """A stop-market (or stop-limit with ``limit_price``) order."""
        return self._triggered(
            "stop", side, contracts, trigger, symbol, limit_price, trigger_source, reduce_only, tag
        )

    def take_profit(
        self,
        side: Side,
        contracts: Decimal,
        trigger: Decimal,
        symbol: str | None = None,
        *,
        limit_price: Decimal | None = None,
        trigger_source: str = "last",
        reduce_only: bool = True,
        tag: str | None = None,
    ) -> Ticket:
        """A take-profit market (or limit) order; reduce-only by default."""
        return self._triggered(
            "take_profit",
            side,
            contracts,
            trigger,
            symbol,
            limit_price,
            trigger_source,
            reduce_only,
            tag,
        )

    def _triggered(
        self,
        family: str,
        side: Side,
        contracts: Decimal,
        trigger: Decimal,
        symbol: str | None,
        limit_price: Decimal | None,
        trigger_source: str,
        reduce_only: bool,
        tag: str | None,
    ) -> Ticket:
        """A stop or take-profit order: ``<family>_limit`` with a limit price, else ``_market``."""
        kind = f"{family}_limit" if limit_price is not None else f"{family}_market"
        return self._place(
            side,
            contracts,
            symbol,
            order_type=kind,
            trigger_price=trigger,
            price=limit_price,
            trigger_source=trigger_source,
            reduce_only=reduce_only,
            tag=tag,
        )

    def trailing_stop(
        self,
        side: Side,
        contracts: Decimal,
        callback_pct: Decimal,
        symbol: str | None = None,
        *,
        activation: Decimal | None = None,
        reduce_only: bool = True,
        tag: str | None = None,
    ) -> Ticket:
        """A trailing stop that follows the best price by ``callback_pct`` percent."""
        return self._place(
            side,
            contracts,
            symbol,
            order_type="trailing_stop_market",
            callback_pct=dec(callback_pct),
            trigger_price=activation,
            reduce_only=reduce_only,
            tag=tag,
        )

    def bracket(
        self,
        side: Side,
        contracts: Decimal,
        *,
        stop: Decimal,
        take_profit: Decimal | None = None,
        price: Decimal | None = None,
        symbol: str | None = None,
        tag: str | None = None,
    ) -> Ticket:
        """An entry (market, or limit at ``price``) with its stop-loss and optional target."""
        if price is None:
            return self.market(
                side, contracts, symbol, stop_loss=stop, take_profit=take_profit, tag=tag
            )
        return self.limit(
            side, contracts, price, symbol, stop_loss=stop, take_profit=take_profit, tag=tag
        )

    def close(self, symbol: str | None = None, tag: str | None = None) -> Ticket | None:
        """Close the whole position with a reduce-only market order (None when flat)."""
        held = self.contracts(symbol)
        if held == 0:
            return None
        side: Side = "sell" if held > 0 else "buy"
        return self.market(side, abs(held), symbol, reduce_only=True, tag=tag)

    def scale(
        self,
        side: Side,
        contracts: Decimal,
        first: Decimal,
        last: Decimal,
        rungs: int,
        symbol: str | None = None,
        *,
        reduce_only: bool = False,
        tag: str | None = None,
    ) -> list[Ticket]:
        """A ladder of ``rungs`` limit orders evenly spaced from ``first`` to ``last``."""
        spec = self.spec(symbol)
        try:
            steps = ladder(
                spec,
                side,
                spec.round_contracts(dec(contracts)),
                dec(first),
                dec(last),
                rungs,
            )
        except ParseProblem as e:
            raise InputError(str(e)) from None
        name = tag or self.source
        return [
            self.limit(
                side,
                size,
                px,
                symbol,
                reduce_only=reduce_only,
                tag=f"{name} scale {i + 1}/{len(steps)}",
            )
            for i, (px, size) in enumerate(steps)
        ]

    def cancel(self, order_id: str) -> Ticket:
        return self._submit(
            CancelOrder(ts_ms=self.now_ms, venue=self.account.venue, order_id=order_id)
        )

    def cancel_all(self, symbol: str | None = None) -> list[Ticket]:
        """Cancel every working order of ``symbol`` (every symbol when None)."""
        return [self.cancel(o.order_id) for o in self.orders(symbol)]

    def amend(
        self,
        order_id: str,
        *,
        contracts: Decimal | None = None,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
    ) -> Ticket:
        return self._submit(
            AmendOrder(
                ts_ms=self.now_ms,
                venue=self.account.venue,
                order_id=order_id,
                contracts=contracts,
                price=price,
                trigger_price=trigger_price,
            )
        )

    def set_leverage(
        self, leverage: Decimal, margin_mode: str | None = None, symbol: str | None = None
    ) -> Ticket:
        s = self._sym(symbol)
        return self._submit(
            SetLeverage(
                ts_ms=self.now_ms,
                venue=self.account.venue,
                symbol=s,
                leverage=dec(leverage),
                margin_mode=margin_mode or self.leverage(s)[1],
            )
        )

    # ---- calculators ----------------------------------------------------------------------
    def size_by_risk(
        self,
        stop: Decimal,
        risk_pct: Decimal | None = None,
        *,
        entry: Decimal | None = None,
        symbol: str | None = None,
        leverage: Decimal | None = None,
    ) -> SizeResult:
        """Contracts whose loss at ``stop`` (fees in and out included) is ``risk_pct`` % of equity.

        ``entry`` defaults to the last price; ``risk_pct`` to the configured risk %.
        """
        s = self._sym(symbol)
        spec = self.account.specs[s]
        ref = entry if entry is not None else self.price(s)
        if ref is None:
            raise InputError(f"no price yet for {s}; size_by_risk needs an entry")
        return size_by_risk(
            spec,
            equity=self.equity(spec.settle),
            risk_pct=risk_pct or self.limits.risk_pct,
            entry=dec(ref),
            stop=dec(stop),
            leverage=leverage or self.leverage(s)[0],
            include_fees=True,
            leverage_warning=self.limits.leverage_warning,
        )

    def hedge(
        self,
        portfolio_value: Decimal,
        beta: Decimal = Decimal(1),
        *,
        symbol: str | None = None,
        leverage: Decimal | None = None,
    ) -> HedgeResult:
        """Contracts to short against ``portfolio_value`` dollars of beta ``beta`` to ``symbol``."""
        s = self._sym(symbol)
        ref = self.price(s)
        if ref is None:
            raise InputError(f"no price yet for {s}; hedge needs one")
        return beta_hedge(
            self.account.specs[s],
            portfolio=dec(portfolio_value),
            price=ref,
            beta=dec(beta),
            leverage=leverage or self.leverage(s)[0],
        )
