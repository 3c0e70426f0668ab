"""The strategy API: parameters, loading user files, hooks, guards, order actions, user errors."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Annotated, ClassVar

import pytest

from adapters.specs import SpecBook
from sim.errors import InputError
from sim.journal import Journal
from sim.review.frames import trades_frame
from sim.strategy import Range, Strategy, loader
from sim.strategy import params as P
from sim.strategy.run import RunOptions, run_replay
from tests.sim.strategy.conftest import SLICE_FROM_MS

TEN_MIN_MS = 10 * 60_000


class Tuned(Strategy):
    label: ClassVar[str] = "not a parameter"
    lookback: Annotated[int, Range(2, 100)] = 20
    risk: Decimal = Decimal("0.5")
    short: bool = False


def write(tmp_path: Path, body: str, name: str = "mine.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


# ---- parameters ---------------------------------------------------------------------------
def test_params_are_the_annotated_attributes_with_the_shared_symbol_and_timeframe() -> None:
    specs = Tuned.param_specs()

    assert list(specs) == ["symbol", "timeframe", "lookback", "risk", "short"]
    assert specs["lookback"].bounds == Range(2, 100)


def test_param_text_is_parsed_to_the_declared_types() -> None:
    values = P.parse_pairs(Tuned, ["lookback=30", "risk=1.25", "short=yes"])

    assert values == {"lookback": 30, "risk": Decimal("1.25"), "short": True}
    assert Tuned(**values).risk == Decimal("1.25")


@pytest.mark.parametrize(
    ("pair", "message"),
    [
        ("lookback=abc", "--param lookback expects int, was 'abc'"),
        ("lookback=1", "--param lookback must be between 2 and 100, was 1"),
        ("risk=nan", "--param risk expects Decimal, was 'nan'"),
        ("short=maybe", "--param short expects true or false, was 'maybe'"),
        ("speed=3", "strategy Tuned has no parameter 'speed'; it has: symbol, timeframe, "),
        ("lookback", "--param expects name=value, was 'lookback'"),
    ],
)
def test_bad_param_text_is_a_one_line_input_error(pair: str, message: str) -> None:
    with pytest.raises(InputError) as err:
        P.parse_pairs(Tuned, [pair])

    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)


def test_a_float_parameter_is_refused_because_money_is_decimal() -> None:
    class Floaty(Strategy):
        beta: float = 1.5

    with pytest.raises(InputError, match="parameter 'beta' has type <class 'float'>; use int"):
        Floaty.param_specs()


def test_grid_is_every_combination_in_the_given_order() -> None:
    grid = P.parse_grid(Tuned, ["lookback=10,20", "risk=1,2,1"])

    assert grid == [
        {"lookback": 10, "risk": Decimal(1)},
        {"lookback": 10, "risk": Decimal(2)},
        {"lookback": 20, "risk": Decimal(1)},
        {"lookback": 20, "risk": Decimal(2)},
    ]


def test_strategy_name_is_the_snake_case_class_name_unless_set() -> None:
    assert Tuned.strategy_name() == "tuned"
    assert loader.load("breakout").cls.strategy_name() == "breakout"


# ---- loading ------------------------------------------------------------------------------
def test_a_user_file_loads_with_string_annotations(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        from __future__ import annotations
        from decimal import Decimal
        from sim.strategy import Strategy

        class Mine(Strategy):
            size: Decimal = Decimal("0.002")
    """,
    )

    loaded = loader.load(str(path))

    assert loaded.cls.__name__ == "Mine"
    assert P.parse_pairs(loaded.cls, ["size=0.004"]) == {"size": Decimal("0.004")}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("class Broken(:\n", "line 1: invalid syntax"),
        ("x = 1\n", "defines no Strategy subclass"),
        (
            "from sim.strategy import Strategy\nclass A(Strategy): ...\nclass B(Strategy): ...\n",
            "defines several strategies (A, B); keep one per file",
        ),
    ],
)
def test_a_bad_strategy_file_is_a_one_line_input_error(
    tmp_path: Path, body: str, message: str
) -> None:
    path = write(tmp_path, body)

    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")) as err:
        loader.load(str(path))

    assert "\n" not in str(err.value)


def test_a_missing_file_names_the_shipped_examples(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="breakout, hedged_bag"):
        loader.load(str(tmp_path / "nope.py"))


# ---- running: hooks, guards, order actions --------------------------------------------------
def run(
    path: Path,
    book: SpecBook,
    options: RunOptions,
    candles: Path,
    minutes: int = 30,
    **overrides: object,
):
    return run_replay(
        loader.load(str(path)),
        dict(overrides),
        options,
        book,
        candles,
        since_ms=SLICE_FROM_MS,
        until_ms=SLICE_FROM_MS + minutes * 60_000,
    )


RECORDER = """
    from decimal import Decimal
    from sim.strategy import Strategy

    class Recorder(Strategy):
        def on_start(self, ctx):
            self.seen = []
            ctx.log(f"start equity {ctx.equity()}")

        def on_bar(self, ctx, bar):
            self.seen.append(("bar", bar.close))
            n = len(self.seen)
            if n == 2:
                self.entry = ctx.buy(Decimal("0.002"), tag="first")
            if n == 4:
                ctx.close()
            if n == 6:
                ctx.buy(Decimal("0.002"))   # a second entry today: the trade limit denies it
            if n == 8:
                frame = ctx.prices(n=3)
                ctx.log(f"frame {len(frame)} {list(frame.columns)} last {frame['close'].iloc[-1]}")
                ctx.log(f"entry ticket {self.entry.status} {self.entry.order_id}")

        def on_fill(self, ctx, fill):
            ctx.log(f"fill {fill.side} {fill.contracts} position {ctx.contracts()}")

        def on_denied(self, ctx, event):
            ctx.log(f"denied: {event.kind} {event.reason}")

        def on_stop(self, ctx):
            ctx.log(f"bars {len(self.seen)}")
"""


def test_hooks_see_fills_denials_and_prices(
    tmp_path: Path, book: SpecBook, options: RunOptions, candles_dir: Path
) -> None:
    path = write(tmp_path, RECORDER)
    one_trade = replace(options, guards=replace(options.guards, max_trades_per_day=1))

    result = run(path, book, one_trade, candles_dir, minutes=10)

    log = result.messages
    assert log[0] == "start equity 1000"
    assert log[1] == "fill buy 0.002 position 0.002"
    assert log[2] == "fill sell 0.002 position 0.000"
    assert log[3].startswith("denied: OrderDenied entries locked by the max trades per day")
    assert (
        log[4] == "frame 3 ['ts_ms', 'open', 'high', 'low', 'close'] last 95483.6"
    )  # the 16:07 close
    assert log[5] == "entry ticket accepted o1"
    assert log[6] == "bars 10"
    assert result.summary.trades == 1
    assert result.summary.denials == 1


LADDER = """
    from decimal import Decimal
    from sim.strategy import Strategy

    class Ladder(Strategy):
        def on_bar(self, ctx, bar):
            if ctx.last_bar() is bar and not getattr(self, "done", False):
                self.done = True
                c = bar.close
                self.tickets = ctx.scale("buy", Decimal("0.003"), c - 100, c - 300, 3)
                ctx.log(" ".join(f"{t.status}:{t.command.price}" for t in self.tickets))
                size = ctx.size_by_risk(bar.close - 200)
                hedge = ctx.hedge(Decimal(5000), Decimal("1.5"))
                ctx.log(f"size {size.contracts} hedge {hedge.contracts}")

        def on_stop(self, ctx):
            ids = " ".join(f"{t.status}:{t.order_id}" for t in self.tickets)
            ctx.log(f"{ids}; working {len(ctx.orders())}")
"""


def test_scale_size_and_hedge_use_the_desk_calculators(
    tmp_path: Path, book: SpecBook, options: RunOptions, candles_dir: Path
) -> None:
    path = write(tmp_path, LADDER)

    result = run(path, book, options, candles_dir, minutes=1)

    # first bar 16:00 closes at 95,419.9: rungs at 95,319.9 / 95,219.9 / 95,119.9, 0.001 each
    assert result.messages[0] == "queued:95319.9 queued:95219.9 queued:95119.9"
    # 1% of 1,000 over a 200 stop plus fees in and out (0.0005 × 190,639.8) → 0.033;
    # 5,000 × 1.5 / 95,419.9 = 0.0786 → 0.079 BTC
    assert result.messages[1] == "size 0.033 hedge 0.079"
    assert result.messages[2] == "accepted:o1 accepted:o2 accepted:o3; working 3"


BOOM = """
    from decimal import Decimal
    from sim.strategy import Strategy

    class Boom(Strategy):
        def on_bar(self, ctx, bar):
            self.n = getattr(self, "n", 0) + 1
            if self.n == 2:
                ctx.buy(Decimal("0.002"))
            if self.n == 5:
                self.explode(bar)

        def explode(self, bar):
            return bar.close / 0
"""


def test_an_error_in_a_hook_stops_the_run_with_the_users_traceback_and_a_sound_journal(
    tmp_path: Path, book: SpecBook, options: RunOptions, candles_dir: Path
) -> None:
    path = write(tmp_path, BOOM)

    with pytest.raises(loader.StrategyError) as err:
        run(path, book, options, candles_dir)

    assert "strategy boom raised DivisionByZero in on_bar at 2025-05-04 16:04:59 UTC" in str(
        err.value
    )
    tb = err.value.user_traceback
    assert str(path) in tb
    assert "return bar.close / 0" in tb
    assert "session.py" not in tb
    assert err.value.exit_code == 1
    with Journal.open(options.db) as journal:  # type: ignore[arg-type]
        events = journal.events("boom")
        assert [e.kind for e in events] == ["WalletCredited", "OrderAccepted", "OrderFilled"]
        assert journal.latest_snapshot("boom")["positions"]["BTC/USDT:USDT"]["contracts"] == "0.002"
        assert len(trades_frame(journal, "boom")) == 0
        # over, not interrupted: `journal report` marks it failed; nothing offers to continue it
        (session,) = journal.sessions()
        assert journal.session_statuses() == {"boom": "failed"}
        assert session.params["error"] == (
            "strategy boom raised DivisionByZero in on_bar at 2025-05-04 16:04:59 UTC: "
            "[<class 'decimal.DivisionByZero'>]"
        )

    # the same command again is a new run in a new account, failing the same way
    with pytest.raises(loader.StrategyError):
        run(path, book, options, candles_dir)
    with Journal.open(options.db) as journal:  # type: ignore[arg-type]
        assert journal.session_statuses() == {"boom": "failed", "boom-2": "failed"}


def test_a_strategy_that_raises_while_loading_is_a_strategy_error(tmp_path: Path) -> None:
    path = write(tmp_path, "from sim.strategy import Strategy\nraise RuntimeError('nope')\n")

    with pytest.raises(loader.StrategyError, match="raised RuntimeError while loading: nope"):
        loader.load(str(path))


def test_a_second_run_in_the_same_journal_gets_its_own_account(
    tmp_path: Path, book: SpecBook, options: RunOptions, candles_dir: Path
) -> None:
    path = write(tmp_path, LADDER)

    first = run(path, book, options, candles_dir, minutes=1)
    second = run(path, book, options, candles_dir, minutes=1)

    assert (first.account, second.account) == ("ladder", "ladder-2")


WARNED = """
    from decimal import Decimal
    from sim.strategy import Strategy

    class Warned(Strategy):
        def on_bar(self, ctx, bar):
            if not getattr(self, "sent", False):
                self.sent = True
                ctx.market("buy", Decimal("0.01"), stop_loss=bar.close - 3000,
                           leverage=Decimal(100), margin_mode="isolated")

        def on_price(self, ctx, symbol, price, ts_ms):
            self.points = getattr(self, "points", 0) + 1

        def on_event(self, ctx, event):
            if event.kind == "GuardWarned":
                ctx.log(f"{event.guard}: {event.message}")

        def on_stop(self, ctx):
            ctx.log(f"price points {self.points}")
"""


def test_guard_warnings_reach_the_strategy_and_on_price_sees_every_path_point(
    tmp_path: Path, book: SpecBook, options: RunOptions, candles_dir: Path
) -> None:
    path = write(tmp_path, WARNED)

    result = run(path, book, options, candles_dir, minutes=3)

    assert result.messages[0] == "leverage: leverage 100x is above your warning level of 20x"
    assert result.messages[1].startswith("liquidation_inside_stop: liquidation at 94")
    assert result.messages[1].endswith(
        "comes before your stop at 92419.9: lower the leverage or move the stop"
    )
    assert result.messages[2] == "price points 12"  # 3 bars × open, two extremes, close


def test_a_size_that_is_not_a_number_names_the_value(
    tmp_path: Path, book: SpecBook, options: RunOptions, candles_dir: Path
) -> None:
    """Orders take numbers as the engine does (``money.dec``): text that is no number is named,
    not a bare ``decimal.ConversionSyntax``; a float goes through its repr."""
    body = """
        from decimal import Decimal
        from sim.strategy import Strategy

        class Typo(Strategy):
            def on_bar(self, ctx, bar):
                ctx.buy(0.002 if ctx.contracts() == 0 else "0.oo2")
    """
    path = write(tmp_path, body)

    with pytest.raises(loader.StrategyError, match=r"expected a number, was '0\.oo2'"):
        run(path, book, options, candles_dir)
    with Journal.open(options.db) as journal:  # type: ignore[arg-type]
        fills = [e for e in journal.events("typo") if e.kind == "OrderFilled"]
    assert [f.contracts for f in fills] == [Decimal("0.002")]  # the float, as typed
