"""Review charts: equity with drawdown, P&L per trade, R distribution; PNG and terminal.

Floats are fine here: charts only show numbers, they never write them back. PNGs are drawn on a
bare Agg canvas (no pyplot, no GUI backend); terminal charts come from plotext as text.
"""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from sim.errors import InputError
from sim.review import outputs
from sim.review.stats import AccountReport


def series(report: AccountReport) -> dict[str, list[float]]:
    """Plot-ready float series: equity (start first), drawdown, net per trade, R per trade."""
    start = report.summary.starting_balance
    equity = [start] + [e for _, e in report.equity_curve]
    peak, drawdown = start, []
    for value in equity:
        peak = max(peak, value)
        drawdown.append(float(value - peak))
    nets = [float(b - a) for a, b in pairwise(equity)]
    return {
        "equity": [float(e) for e in equity],
        "drawdown": drawdown,
        "net": nets,
        "r": [float(r) for _, r in report.r_multiples],
    }


def _title(report: AccountReport, what: str) -> str:
    return f"{report.account}: {what} ({report.currency or 'account currency'})"


def png_names(report: AccountReport, stamp: str | None = None) -> list[str]:
    """File names of the three PNGs (equity, P&L, R) of ``report``, stamped with today (UTC)."""
    stamp = stamp or datetime.now(tz=UTC).strftime("%Y%m%d")
    return [f"{report.account}-{kind}-{stamp}.png" for kind in ("equity", "pnl", "r")]


def write_pngs(report: AccountReport, out_dir: Path, names: list[str] | None = None) -> list[Path]:
    """Write equity+drawdown, P&L per trade and R distribution PNGs into the existing folder
    ``out_dir`` (checked by ``outputs.prepare``); return their paths."""
    equity_name, pnl_name, r_name = names or png_names(report)
    data = series(report)
    paths = []

    fig = Figure(figsize=(10, 6))
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    top.plot(range(len(data["equity"])), data["equity"], color="tab:blue")
    top.set_title(_title(report, "equity after each closed trade"))
    top.set_ylabel("equity")
    bottom.fill_between(range(len(data["drawdown"])), data["drawdown"], 0, color="tab:red")
    bottom.set_ylabel("drawdown")
    bottom.set_xlabel("trade #")
    paths.append(_save(fig, out_dir / equity_name))

    fig = Figure(figsize=(10, 4))
    ax = fig.subplots()
    colors = ["tab:green" if n > 0 else "tab:red" for n in data["net"]]
    ax.bar(range(1, len(data["net"]) + 1), data["net"], color=colors)
    ax.axhline(0, color="black", linewidth=0.5)
    ax.set_title(_title(report, "net P&L per trade"))
    ax.set_xlabel("trade #")
    paths.append(_save(fig, out_dir / pnl_name))

    fig = Figure(figsize=(8, 4))
    ax = fig.subplots()
    if data["r"]:
        ax.hist(data["r"], bins=min(40, max(5, len(data["r"]) // 3)), color="tab:purple")
    ax.axvline(0, color="black", linewidth=0.5)
    ax.set_title(f"{report.account}: R-multiples (trades with a stop)")
    ax.set_xlabel("R")
    paths.append(_save(fig, out_dir / r_name))
    return paths


def _save(fig: Figure, path: Path) -> Path:
    FigureCanvasAgg(fig)
    fig.tight_layout()
    with outputs.open_target(path, "wb") as f:  # never through a symlink
        try:
            fig.savefig(f, dpi=100, format="png")
        except OSError as e:
            raise InputError(f"cannot write plot {path}: {e.strerror}") from None
    return path


def terminal(report: AccountReport, width: int = 100, height: int = 20, color: bool = True) -> str:
    """The three charts drawn as terminal text (plotext), one after the other.

    ``color=False`` strips plotext's ANSI codes (even the "clear" theme emits resets), for
    output piped to a file or another program.
    """
    import plotext as plt

    data = series(report)
    parts = []
    for title, kind, values in (
        (_title(report, "equity"), "line", data["equity"]),
        (_title(report, "net P&L per trade"), "bar", data["net"]),
        (f"{report.account}: R-multiples", "hist", data["r"]),
    ):
        plt.clear_figure()
        plt.plotsize(width, height)
        plt.theme("clear")
        plt.title(title)
        if not values:
            plt.title(f"{title}: no data")
        elif kind == "line":
            plt.plot(list(range(len(values))), values)
        elif kind == "bar":
            plt.bar(list(range(1, len(values) + 1)), values)
        else:
            plt.hist(values, bins=min(20, max(5, len(values) // 3)))
        built = plt.build()
        parts.append(built if color else plt.uncolorize(built))
    plt.clear_figure()
    return "\n".join(parts)
