"""The report's charts as inline SVG strings.

Figures are built with matplotlib.figure.Figure, not pyplot: nothing is registered in pyplot's global
figure manager, so nothing leaks in a long-lived Dagster process and no GUI backend is involved (the
SVG canvas renders on its own). Render time grows with the number of axes and artists, so lanes on
one axes, collections instead of bar patches, and fixed tick positions are used where they read as well.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from html import escape

import matplotlib
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, Formatter, FuncFormatter, MaxNLocator, NullLocator

from reporting import fmt

WIDTH_IN = 12.0

# Level bands of the stress score (methodology: calm < 60 <= elevated < 80 <= high < 95 <= extreme).
LEVELS = (
    ("calm", 0, 60, "#e6f4ea"),
    ("elevated", 60, 80, "#fff1b8"),
    ("high", 80, 95, "#ffd29e"),
    ("extreme", 95, 100, "#ff9f9f"),
)
INK = "#1d2b3a"
MUTED = "#6b7280"
PRESSURE_COLOR = "#7b2cbf"
DELEVERAGING_COLOR = "#0b6e99"
SPIKE_COLOR = "#111111"
CLOSE_COLOR = "#111111"
LOW_COLOR = "#0b6e99"
NEAR_LOW_BG = "#fff1a8"
LONG_COLOR = "#e07a86"
LONG_NEAR_LOW_COLOR = "#a4161a"
SHORT_COLOR = "#2a9d8f"
SHORT_NEAREST_COLOR = "#14532d"
FUNDING_POS = "#3a7bd5"
FUNDING_NEG = "#e76f51"
ASSET_COLORS = ("#f2a900", "#5b6ee1", "#14b8a6", "#6b7280", "#c9a227", "#e76f51", "#8d99ae")
EXCHANGE_COLORS = {
    "binance": "#e0a800",
    "bybit": "#3d4451",
    "okx": "#3a7bd5",
    "hyperliquid": "#2bb39a",
    "gate": "#c0392b",
}
EXTRA_COLORS = ("#9b5de5", "#f15bb5", "#00bbf9", "#fb8500")

STYLE = {
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.titlesize": 9.5,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "axes.edgecolor": "#9ca3af",
    "grid.color": "#e5e7eb",
    "grid.linewidth": 0.6,
    "legend.frameon": False,
    "legend.fontsize": 8.5,
    "xtick.labelsize": 8.5,
    "ytick.labelsize": 8.5,
    "xtick.color": "#374151",
    "ytick.color": "#374151",
}

LANE = 100.0  # one stress lane spans the 0-100 score
LANE_GAP = 42.0  # room between lanes for the flag markers
PC_OFFSET = 110.0  # pressure-cooker markers sit above a lane, deleveraging below, so they show with NULL scores
DL_OFFSET = -10.0


@contextmanager
def style() -> Iterator[None]:
    with matplotlib.rc_context(STYLE):
        yield


def to_svg(fig: Figure, slug: str, title: str) -> str:
    """Inline-ready SVG: no XML prolog or DOCTYPE, no namespace URLs, scales to its container."""
    buf = io.StringIO()
    # A per-chart salt keeps clip-path ids unique across the SVGs of one page and stable between runs.
    with matplotlib.rc_context({"svg.hashsalt": slug}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    fig.clear()
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]
    head, body = svg.split(">", 1)
    head = re.sub(r'\s(xmlns(:xlink)?|width|height)="[^"]*"', "", head)
    head += f' role="img" aria-label="{escape(title)}" class="chart"'
    return head + ">" + body


# Shared helpers --------------------------------------------------------------------------------


def _tex_safe(text: str) -> str:
    # Two "$" in one label would switch matplotlib into (slow, wrong) mathtext.
    return text.replace("$", r"\$")


class _UsdFormatter(Formatter):
    """$ ticks by magnitude (shorts are drawn below zero) with just enough decimals to tell ticks apart."""

    def __init__(self) -> None:
        self._digits = 0

    def set_locs(self, locs: Sequence[float]) -> None:
        self.locs = locs
        nonzero = [v for v in locs if v != 0]
        for digits in range(4):
            self._digits = digits
            if len({(v > 0, fmt.usd(abs(v), digits)) for v in nonzero}) == len(nonzero):
                break

    def __call__(self, x: float, pos: int | None = None) -> str:
        return "$0" if x == 0 else _tex_safe(fmt.usd(abs(x), self._digits))


class _PriceFormatter(Formatter):
    """Price ticks with one number of decimals per axis, the fewest that keep neighbouring ticks apart."""

    def __init__(self) -> None:
        self._decimals = 0

    def set_locs(self, locs: Sequence[float]) -> None:
        self.locs = locs
        for decimals in range(7):
            self._decimals = decimals
            if len({f"{v:.{decimals}f}" for v in locs}) == len(locs):
                break

    def __call__(self, x: float, pos: int | None = None) -> str:
        return _tex_safe(f"${x:,.{self._decimals}f}")


def _usd_axis(axis: matplotlib.axis.Axis, nbins: int = 5) -> None:
    axis.set_major_locator(MaxNLocator(nbins))
    axis.set_major_formatter(_UsdFormatter())


def _day_ticks(first: date, last: date, max_ticks: int) -> list[date]:
    """Mondays, or the 1st and 15th, thinned to max_ticks; computed here because AutoDateLocator's
    rrules were a large share of the render time."""
    span = (last - first).days + 1
    days = [first + timedelta(days=i) for i in range(span)]
    if span > max_ticks:
        days = [d for d in days if d.weekday() == 0] if span <= 70 else [d for d in days if d.day in (1, 15)]
    step = math.ceil(len(days) / max_ticks) if days else 1
    return days[::step]


def _days_axis(ax: Axes, first: date, last: date, labels: bool = True, max_ticks: int = 12) -> None:
    # Half a day of margin each side keeps the day ticks inside [first, last]: no label past as_of.
    ax.set_xlim(
        mdates.date2num(datetime.combine(first, time()) - timedelta(hours=12)),
        mdates.date2num(datetime.combine(last, time(12))),
    )
    if not labels:
        ax.xaxis.set_major_locator(NullLocator())
        return
    ax.xaxis.set_major_locator(FixedLocator(mdates.date2num(_day_ticks(first, last, max_ticks))))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))


def _days(first: date, last: date) -> pd.DatetimeIndex:
    return pd.date_range(first, last, freq="D")


def _day_edges(days: pd.DatetimeIndex) -> np.ndarray:
    return mdates.date2num((days - pd.Timedelta(hours=12)).append(days[-1:] + pd.Timedelta(hours=12)))


def _no_data(ax: Axes, text: str, y: float = 0.5) -> None:
    ax.text(0.5, y, text, transform=ax.transAxes, ha="center", va="center", color=MUTED, fontsize=9)


def _rects(
    ax: Axes,
    x0: np.ndarray,
    x1: np.ndarray,
    y0: np.ndarray,
    y1: np.ndarray,
    colors: Sequence[str] | str,
    alpha: float = 1.0,
) -> None:
    """Many rectangles as one collection: bar() makes one Patch per bar, which is slow to build and draw."""
    keep = (y1 - y0) != 0
    x0, x1, y0, y1 = x0[keep], x1[keep], y0[keep], y1[keep]
    if isinstance(colors, str):
        colors = [colors] * int(keep.sum())
    else:
        colors = [c for c, k in zip(colors, keep, strict=True) if k]
    if not len(x0):
        return
    verts = np.stack([np.column_stack(p) for p in ((x0, y0), (x0, y1), (x1, y1), (x1, y0))], axis=1)
    ax.add_collection(PolyCollection(verts, facecolors=colors, alpha=alpha, linewidths=0), autolim=True)
    ax.update_datalim(
        [(float(x0.min()), float(min(y0.min(), y1.min()))), (float(x1.max()), float(max(y0.max(), y1.max())))]
    )
    ax.autoscale_view()


def _grid(
    fig: Figure,
    nrows: int,
    ncols: int,
    *,
    left: float,
    right: float,
    top: float,
    bottom: float,
    wgap: float = 0.0,
    hgap: float = 0.0,
) -> np.ndarray:
    """Axes placed by margins and gaps in inches. A fixed layout renders in half the time of the
    constrained one (which draws every figure twice), and the labels' sizes are known in advance."""
    width, height = fig.get_size_inches()
    cell_w = (width - left - right - wgap * (ncols - 1)) / ncols
    cell_h = (height - top - bottom - hgap * (nrows - 1)) / nrows
    axes = np.empty((nrows, ncols), dtype=object)
    for r in range(nrows):
        for c in range(ncols):
            x0 = left + c * (cell_w + wgap)
            y0 = height - top - (r + 1) * cell_h - r * hgap
            axes[r, c] = fig.add_axes((x0 / width, y0 / height, cell_w / width, cell_h / height))
    return axes


def _top_legend(fig: Figure, handles: list[matplotlib.artist.Artist]) -> None:
    fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 1.0), ncols=len(handles), borderaxespad=0.4)


# 1. Stress score -------------------------------------------------------------------------------


def _lane_base(i: int, n: int) -> float:
    return (n - 1 - i) * (LANE + LANE_GAP)


def _stress_lane(ax: Axes, rows: pd.DataFrame, base: float, asset: str) -> None:
    for _, low, high, color in LEVELS:
        ax.axhspan(base + low, base + high, color=color, lw=0, zorder=0)
    x = mdates.date2num(pd.DatetimeIndex(rows["date"]))
    scores = rows["stress_score"].to_numpy(dtype=float)
    ax.plot(x, base + scores, color=INK, lw=1.2, marker="o", ms=2.0, zorder=3)
    pc = x[rows["is_pressure_cooker"].to_numpy(dtype=bool)]
    dl = x[rows["is_deleveraging"].to_numpy(dtype=bool)]
    ax.scatter(pc, np.full(len(pc), base + PC_OFFSET), marker="^", s=24, color=PRESSURE_COLOR, zorder=4, lw=0)
    ax.scatter(dl, np.full(len(dl), base + DL_OFFSET), marker="v", s=24, color=DELEVERAGING_COLOR, zorder=4, lw=0)
    ax.text(-0.045, base + LANE / 2, asset, transform=ax.get_yaxis_transform(), ha="right", va="center")
    if np.isnan(scores).all():
        ax.text(
            0.5,
            base + LANE / 2,
            "no stress score yet: it needs about 60 days of history",
            transform=ax.get_yaxis_transform(),
            ha="center",
            va="center",
            color=MUTED,
        )


def _stress_legend(fig: Figure) -> None:
    handles: list[matplotlib.artist.Artist] = [
        Patch(color=color, label=f"{name} {low}–{high}") for name, low, high, color in LEVELS
    ]
    handles += [
        Line2D([], [], color=INK, marker="o", ms=3, lw=1.2, label="stress score"),
        Line2D([], [], color=PRESSURE_COLOR, marker="^", ls="", ms=6, label="pressure cooker"),
        Line2D([], [], color=DELEVERAGING_COLOR, marker="v", ls="", ms=6, label="deleveraging"),
    ]
    _top_legend(fig, handles)


def stress_timeline(stress: pd.DataFrame, assets: Sequence[str], first: date, as_of: date) -> Figure:
    """One lane per asset on a single axes: reads like small multiples at a fifth of the render cost."""
    n = len(assets)
    fig = Figure(figsize=(WIDTH_IN, 0.9 + 1.15 * n))
    ax = _grid(fig, 1, 1, left=0.95, right=0.2, top=0.45, bottom=0.35)[0, 0]
    ticks, labels = [], []
    for i, asset in enumerate(assets):
        base = _lane_base(i, n)
        _stress_lane(ax, stress[stress["asset"] == asset], base, asset)
        ticks += [base + v for v in (0, 60, 80, 95)]
        labels += ["0", "60", "80", "95"]
    for label in ax.texts:
        if label.get_text() in assets:
            label.set_fontweight("bold")
            label.set_fontsize(10)
    ax.set_yticks(ticks, labels, fontsize=7, color=MUTED)
    ax.tick_params(axis="y", length=2)
    ax.set_ylim(DL_OFFSET - 14, _lane_base(0, n) + PC_OFFSET + 14)
    ax.grid(axis="y", visible=False)
    ax.spines[["left"]].set_visible(False)
    _days_axis(ax, first, as_of)
    _stress_legend(fig)
    return fig


# 2. Daily liquidations by exchange ---------------------------------------------------------------


def _exchange_colors(exchanges: Sequence[str]) -> dict[str, str]:
    extra = iter(EXTRA_COLORS * 4)
    return {e: EXCHANGE_COLORS.get(e) or next(extra) for e in exchanges}


def _stacked_day_bars(ax: Axes, table: pd.DataFrame, colors: dict[str, str], sign: int, alpha: float) -> None:
    centres = mdates.date2num(table.index)
    bottom = np.zeros(len(table))
    for exchange in table.columns:
        top = bottom + sign * table[exchange].to_numpy(dtype=float)
        _rects(ax, centres - 0.4, centres + 0.4, bottom, top, colors[exchange], alpha)
        bottom = top


def exchange_liquidations(daily: pd.DataFrame, first: date, as_of: date) -> Figure:
    days = _days(first, as_of)
    totals = daily.groupby("exchange")[["long_usd", "short_usd"]].sum().sum(axis=1)
    order = list(totals.sort_values(ascending=False).index)
    longs = daily.pivot_table(index="date", columns="exchange", values="long_usd", aggfunc="sum")
    shorts = daily.pivot_table(index="date", columns="exchange", values="short_usd", aggfunc="sum")
    colors = _exchange_colors(order)

    fig = Figure(figsize=(WIDTH_IN, 4.4))
    ax = _grid(fig, 1, 1, left=1.0, right=0.2, top=0.45, bottom=0.35)[0, 0]
    _stacked_day_bars(ax, longs.reindex(index=days, columns=order).fillna(0.0), colors, 1, 1.0)
    _stacked_day_bars(ax, shorts.reindex(index=days, columns=order).fillna(0.0), colors, -1, 0.5)
    ax.axhline(0, color=INK, lw=0.8)
    _usd_axis(ax.yaxis)
    ax.set_ylabel("shorts liquidated ↓   |   longs liquidated ↑", color=MUTED)
    _days_axis(ax, first, as_of)
    handles: list[matplotlib.artist.Artist] = [Patch(color=colors[e], label=e) for e in order]
    handles += [
        Patch(color="#6b7280", label="solid, above 0: longs"),
        Patch(color="#6b7280", alpha=0.5, label="pale, below 0: shorts"),
    ]
    _top_legend(fig, handles)
    return fig


# 3. Hourly liquidations, last 7 days -------------------------------------------------------------


def _hour_index(first: date, as_of: date) -> pd.DatetimeIndex:
    return pd.date_range(datetime.combine(first, time()), datetime.combine(as_of, time(23)), freq="h")


def _stacked_steps(ax: Axes, table: pd.DataFrame, colors: dict[str, str], sign: int, alpha: float) -> np.ndarray:
    # One closing point an hour after the last, so the last hour keeps its width (step='post').
    x = mdates.date2num(table.index.append(table.index[-1:] + pd.Timedelta(hours=1)))
    bottom = np.zeros(len(x))
    for asset in table.columns:
        values = sign * table[asset].to_numpy(dtype=float)
        top = bottom + np.append(values, values[-1])
        ax.fill_between(x, bottom, top, step="post", color=colors[asset], alpha=alpha, lw=0)
        bottom = top
    return bottom[:-1]


def _spike_markers(ax: Axes, spikes: pd.Series, long_top: np.ndarray) -> int:
    hit = spikes.to_numpy() > 0
    x = mdates.date2num(spikes.index[hit] + pd.Timedelta(minutes=30))
    pad = 0.025 * max(float(long_top.max()) if len(long_top) else 0.0, 1.0)
    ax.scatter(x, long_top[hit] + pad, marker="v", s=20, color=SPIKE_COLOR, zorder=5, lw=0)
    return int(spikes.sum())


def _hours_axis(ax: Axes, hours: pd.DatetimeIndex) -> None:
    # Stop a minute before midnight so no tick lands on the day after as_of.
    ax.set_xlim(mdates.date2num(hours[0]), mdates.date2num(hours[-1] + pd.Timedelta(minutes=59)))
    midnights = hours[hours.hour == 0]
    ax.xaxis.set_major_locator(FixedLocator(mdates.date2num(midnights)))
    ax.xaxis.set_minor_locator(FixedLocator(mdates.date2num(hours[hours.hour % 6 == 0])))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%a %d %b"))
    ax.grid(axis="x", which="major", color="#cbd5e1")


def hourly_liquidations(hourly: pd.DataFrame, assets: Sequence[str], first: date, as_of: date) -> Figure:
    hours = _hour_index(first, as_of)
    seen = set(hourly["asset"])
    present = [a for a in assets if a in seen] + sorted(seen - set(assets))
    colors = {a: ASSET_COLORS[i % len(ASSET_COLORS)] for i, a in enumerate(present)}
    longs = hourly.pivot_table(index="hour_start", columns="asset", values="long_usd", aggfunc="sum")
    shorts = hourly.pivot_table(index="hour_start", columns="asset", values="short_usd", aggfunc="sum")
    spikes = hourly.groupby("hour_start")["spikes"].sum().reindex(hours).fillna(0)

    fig = Figure(figsize=(WIDTH_IN, 4.4))
    ax = _grid(fig, 1, 1, left=1.0, right=0.2, top=0.45, bottom=0.35)[0, 0]
    long_top = _stacked_steps(ax, longs.reindex(index=hours, columns=present).fillna(0.0), colors, 1, 0.95)
    _stacked_steps(ax, shorts.reindex(index=hours, columns=present).fillna(0.0), colors, -1, 0.5)
    flags = _spike_markers(ax, spikes, long_top)
    ax.axhline(0, color=INK, lw=0.8)
    _usd_axis(ax.yaxis)
    ax.set_ylabel("shorts liquidated ↓   |   longs liquidated ↑", color=MUTED)
    _hours_axis(ax, hours)
    handles: list[matplotlib.artist.Artist] = [Patch(color=colors[a], label=a) for a in present]
    handles.append(
        Line2D([], [], color=SPIKE_COLOR, marker="v", ls="", ms=6, label=f"spike hour ({flags} exchange×asset flags)")
    )
    _top_legend(fig, handles)
    return fig


# 4. Market-cap heatmap and breadth ---------------------------------------------------------------


def _heatmap(ax: Axes, caps: pd.DataFrame, days: pd.DatetimeIndex) -> matplotlib.collections.QuadMesh:
    coins = caps.drop_duplicates("coin_id")[["coin_id", "symbol", "latest_market_cap_usd"]]
    grid = caps.pivot_table(index="coin_id", columns="date", values="market_cap_change_pct_1d", aggfunc="first")
    values = np.ma.masked_invalid(grid.reindex(index=coins["coin_id"], columns=days).to_numpy(dtype=float))
    finite = np.abs(values.compressed())
    # Clip the colour scale at the 98th percentile so one outlier does not wash out the rest.
    limit = max(1.0, float(np.percentile(finite, 98))) if finite.size else 1.0
    cmap = matplotlib.colormaps["RdYlGn"].with_extremes(bad="#eeeeee")
    mesh = ax.pcolormesh(
        _day_edges(days),
        np.arange(len(coins) + 1),
        values,
        cmap=cmap,
        norm=TwoSlopeNorm(vcenter=0.0, vmin=-limit, vmax=limit),
        edgecolors="white",
        linewidth=0.4,
    )
    labels = [
        _tex_safe(f"{s}  {fmt.usd(c, 2)}") for s, c in zip(coins["symbol"], coins["latest_market_cap_usd"], strict=True)
    ]
    ax.set_yticks(np.arange(len(coins)) + 0.5, labels)
    ax.set_ylim(len(coins), 0)
    ax.grid(False)
    ax.spines[["left", "bottom"]].set_visible(False)
    ax.tick_params(axis="y", length=0)
    return mesh


def _breadth(ax: Axes, breadth: pd.DataFrame) -> None:
    x = mdates.date2num(pd.DatetimeIndex(breadth["date"]))
    total = ax.plot(x, breadth["total_market_cap_usd"].to_numpy(dtype=float), color=INK, lw=1.6)
    _usd_axis(ax.yaxis, nbins=3)
    ax.set_ylabel("total cap", color=MUTED)
    twin = ax.twinx()
    dominance = twin.plot(x, breadth["btc_dominance_pct"].to_numpy(dtype=float), color="#f2a900", lw=1.6)
    twin.yaxis.set_major_locator(MaxNLocator(3))
    twin.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.1f} %"))
    twin.set_ylabel("BTC dominance", color=MUTED)
    twin.grid(False)
    twin.spines["right"].set_visible(True)
    ax.legend(
        [total[0], dominance[0]],
        ["total market cap of our ~50 coins (left)", "BTC dominance within them (right)"],
        loc="lower left",
        bbox_to_anchor=(0, 1.0),
        ncols=2,
        borderaxespad=0.2,
    )


def market_cap_heatmap(caps: pd.DataFrame, breadth: pd.DataFrame | None, first: date, as_of: date) -> Figure:
    days = _days(first, as_of)
    with_breadth = breadth is not None and not breadth.empty
    heat_h, breadth_h, gap = 0.25 * caps["coin_id"].nunique(), 1.5, 0.65
    top, bottom = 0.65, 0.35
    height = top + heat_h + bottom + ((gap + breadth_h) if with_breadth else 0.0)
    fig = Figure(figsize=(WIDTH_IN, height))
    left, right = 1.25, 0.95
    width = WIDTH_IN - left - right
    ax = fig.add_axes((left / WIDTH_IN, (height - top - heat_h) / height, width / WIDTH_IN, heat_h / height))
    mesh = _heatmap(ax, caps, days)
    cax = fig.add_axes(
        ((left + width * 0.3) / WIDTH_IN, (height - 0.42) / height, width * 0.4 / WIDTH_IN, 0.1 / height)
    )
    cbar = fig.colorbar(mesh, cax=cax, orientation="horizontal")
    # matplotlib rasterizes long colorbars into an embedded PNG; vector keeps the page free of images.
    cbar.solids.set_rasterized(False)
    cbar.solids.set_edgecolor("face")  # no anti-aliasing seams between the vector cells
    cbar.ax.xaxis.set_ticks_position("top")
    cbar.ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:+.0f} %"))
    cbar.ax.text(-0.02, 0.5, "1-day market-cap change:  down", transform=cax.transAxes, ha="right", va="center")
    cbar.ax.text(1.02, 0.5, "up", transform=cax.transAxes, ha="left", va="center")
    _days_axis(ax, first, as_of)
    if with_breadth:
        bx = fig.add_axes((left / WIDTH_IN, bottom / height, width / WIDTH_IN, breadth_h / height))
        _breadth(bx, breadth)
        _days_axis(bx, first, as_of)
    return fig


# 5. Funding and open interest --------------------------------------------------------------------


def _funding_axis(ax: Axes, rows: pd.DataFrame, days: pd.DatetimeIndex) -> None:
    values = 100 * rows.set_index("date")["funding_rate_8h"].reindex(days).to_numpy(dtype=float)
    filled = np.nan_to_num(values)
    # Two filled staircases (positive, negative) instead of one bar per day: far fewer SVG paths.
    edges = _day_edges(days)
    ax.stairs(np.where(filled >= 0, filled, 0.0), edges, fill=True, color=FUNDING_POS, lw=0)
    ax.stairs(np.where(filled < 0, filled, 0.0), edges, fill=True, color=FUNDING_NEG, lw=0)
    ax.axhline(0, color=INK, lw=0.6)
    ax.yaxis.set_major_locator(MaxNLocator(3, symmetric=True))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.3f} %"))
    if np.isnan(values).all():
        _no_data(ax, "no funding in this window")


def _oi_axis(ax: Axes, rows: pd.DataFrame, days: pd.DatetimeIndex) -> None:
    oi = rows.set_index("date")["open_interest_usd"].reindex(days).to_numpy(dtype=float)
    x = mdates.date2num(days)
    ax.plot(x, oi, color=INK, lw=1.3, marker="o", ms=1.6)
    if np.isfinite(oi).any():
        ax.fill_between(x, np.nanmin(oi), oi, color="#94a3b8", alpha=0.25, lw=0)
    else:
        _no_data(ax, "no open interest in this window")
    _usd_axis(ax.yaxis, nbins=3)


def funding_and_oi(stress: pd.DataFrame, assets: Sequence[str], first: date, as_of: date) -> Figure:
    days = _days(first, as_of)
    n = len(assets)
    fig = Figure(figsize=(WIDTH_IN, 0.75 + 1.2 * n))
    # Not sharex: shared axes share their tick machinery, and only the bottom row needs date labels.
    axes = _grid(fig, n, 2, left=1.3, right=0.2, top=0.35, bottom=0.35, wgap=0.8, hgap=0.18)
    for i, asset in enumerate(assets):
        rows = stress[stress["asset"] == asset]
        f_ax, o_ax = axes[i]
        _funding_axis(f_ax, rows, days)
        _oi_axis(o_ax, rows, days)
        for ax in (f_ax, o_ax):
            _days_axis(ax, first, as_of, labels=i == n - 1, max_ticks=6)
        f_ax.set_ylabel(asset, rotation=0, ha="right", va="center", fontweight="bold", fontsize=10, labelpad=6)
    axes[0, 0].set_title("Funding, % per 8 h, OI-weighted (blue: longs pay · orange: shorts pay)")
    axes[0, 1].set_title("Open interest, all exchanges")
    return fig


# 6. Liquidation clusters against price -----------------------------------------------------------


def _cluster_axis(ax: Axes, rows: pd.DataFrame, asset: str) -> None:
    rows = rows.sort_values("price_band_low")
    near = rows["near_local_low"].to_numpy(dtype=bool)
    if near.any():
        ax.axhspan(
            rows["price_band_low"][near].min(), rows["price_band_high"][near].max(), color=NEAR_LOW_BG, lw=0, zorder=0
        )
    local_low = float(rows["local_low_price"].iloc[0])
    ax.axhline(local_low, color=LOW_COLOR, lw=1.4, ls="--", zorder=3)
    _band_axis(
        ax,
        rows,
        ("long_liquidations_usd", "short_liquidations_usd"),
        (np.where(near, LONG_NEAR_LOW_COLOR, LONG_COLOR).tolist(), SHORT_COLOR),
        f"{asset} — close {fmt.price(float(rows['price_close'].iloc[0]))} · 7-day low {fmt.price(local_low)}",
    )


def _band_axis(
    ax: Axes, rows: pd.DataFrame, usd: tuple[str, str], colors: tuple[list[str] | str, list[str] | str], title: str
) -> None:
    """Price bands (``rows`` sorted by band): longs (``usd[0]``) to the left, shorts to the right of a
    zero line, prices up the side, the close across."""
    low, high = rows["price_band_low"].to_numpy(float), rows["price_band_high"].to_numpy(float)
    pad = (high - low) * 0.08
    longs, shorts = rows[usd[0]].to_numpy(float), rows[usd[1]].to_numpy(float)
    zeros = np.zeros(len(rows))
    _rects(ax, -longs, zeros, low + pad, high - pad, colors[0])
    _rects(ax, zeros, shorts, low + pad, high - pad, colors[1])
    ax.axhline(float(rows["price_close"].iloc[0]), color=CLOSE_COLOR, lw=1.2, zorder=3)
    ax.axvline(0, color="#9ca3af", lw=0.6)
    limit = max(float(longs.max()), float(shorts.max()), 1.0) * 1.08
    ax.set_xlim(-limit, limit)
    _usd_axis(ax.xaxis, nbins=4)
    ax.xaxis.set_major_locator(MaxNLocator(4, symmetric=True))
    ax.yaxis.set_major_locator(MaxNLocator(6))
    ax.yaxis.set_major_formatter(_PriceFormatter())
    ax.set_title(_tex_safe(title))
    ax.grid(axis="y", visible=False)


def _cluster_legend(fig: Figure) -> None:
    handles: list[matplotlib.artist.Artist] = [
        Patch(color=LONG_COLOR, label="longs liquidated (left)"),
        Patch(color=LONG_NEAR_LOW_COLOR, label="longs in a band near the low"),
        Patch(color=SHORT_COLOR, label="shorts liquidated (right)"),
        Patch(color=NEAR_LOW_BG, label="near-low bands"),
        Line2D([], [], color=CLOSE_COLOR, lw=1.2, label="day's close"),
        Line2D([], [], color=LOW_COLOR, lw=1.4, ls="--", label="trailing 7-day low"),
    ]
    _top_legend(fig, handles)


def _per_asset(rows: pd.DataFrame, assets: Sequence[str], draw: Callable[[Axes, pd.DataFrame, str], None]) -> Figure:
    """Price-band charts, one axes per asset present, three to a row."""
    seen = set(rows["asset"])
    present = [a for a in assets if a in seen] + sorted(seen - set(assets))
    ncols = min(3, len(present))
    nrows = math.ceil(len(present) / ncols)
    fig = Figure(figsize=(WIDTH_IN, 1.1 + 2.9 * nrows + 0.65 * (nrows - 1)))
    grid = _grid(fig, nrows, ncols, left=0.85, right=0.2, top=0.75, bottom=0.35, wgap=0.95, hgap=0.65)
    axes = grid.ravel()
    for ax, asset in zip(axes, present, strict=False):
        draw(ax, rows[rows["asset"] == asset], asset)
    for ax in axes[len(present) :]:
        fig.delaxes(ax)
    return fig


def liquidation_clusters(clusters: pd.DataFrame, assets: Sequence[str]) -> Figure:
    fig = _per_asset(clusters, assets, _cluster_axis)
    _cluster_legend(fig)
    return fig


# 8. Estimated liquidation levels ------------------------------------------------------------------


def _levels_axis(ax: Axes, rows: pd.DataFrame, asset: str) -> None:
    rows = rows.sort_values("price_band_low")
    nearest_long = rows["is_nearest_large_long_band"].to_numpy(dtype=bool)
    nearest_short = rows["is_nearest_large_short_band"].to_numpy(dtype=bool)
    _band_axis(
        ax,
        rows,
        ("long_liquidation_usd", "short_liquidation_usd"),
        (
            np.where(nearest_long, LONG_NEAR_LOW_COLOR, LONG_COLOR).tolist(),
            np.where(nearest_short, SHORT_NEAREST_COLOR, SHORT_COLOR).tolist(),
        ),
        f"{asset} — close {fmt.price(float(rows['price_close'].iloc[0]))}",
    )


def estimated_levels(levels: pd.DataFrame, assets: Sequence[str]) -> Figure:
    fig = _per_asset(levels, assets, _levels_axis)
    handles: list[matplotlib.artist.Artist] = [
        Patch(color=LONG_COLOR, label="longs that a fall would liquidate (left)"),
        Patch(color=LONG_NEAR_LOW_COLOR, label="nearest large long band"),
        Patch(color=SHORT_COLOR, label="shorts that a rise would liquidate (right)"),
        Patch(color=SHORT_NEAREST_COLOR, label="nearest large short band"),
        Line2D([], [], color=CLOSE_COLOR, lw=1.2, label="day's close"),
    ]
    _top_legend(fig, handles)
    return fig


# 7. Event study ------------------------------------------------------------------------------------

SIGNAL_LABELS = {
    "stress": "stress score",
    "liquidations": "long liquidations alone",
    "funding": "funding alone",
    "oi_change": "OI change alone",
    "realized_vol": "realised vol alone",
    "random": "random",
}


def event_study(study: pd.DataFrame, threshold: int) -> Figure:
    """Per horizon, each signal's lift (precision over the base rate) at one alert threshold, the
    no-skill line at 1, and its precision, recall and alert count beside the bar."""
    rows = study[study["threshold"] == threshold]
    horizons = sorted(rows["horizon_days"].unique())
    signals = [s for s in SIGNAL_LABELS if s in set(rows["signal"])]
    fig = Figure(figsize=(WIDTH_IN, 1.0 + 0.36 * len(signals)))
    grid = _grid(fig, 1, len(horizons), left=1.75, right=0.25, top=0.45, bottom=0.45, wgap=0.35)
    top = max(1.5, float(rows["lift"].max(skipna=True) or 0) * 1.45)
    for col, (ax, horizon) in enumerate(zip(grid[0], horizons, strict=True)):
        by_signal = rows[rows["horizon_days"] == horizon].set_index("signal")
        for y, signal in enumerate(signals):
            row = by_signal.loc[signal] if signal in by_signal.index else None
            lift = None if row is None or pd.isna(row["lift"]) else float(row["lift"])
            color = INK if signal == "stress" else ("#c4c9d0" if signal == "random" else MUTED)
            if lift is not None:
                ax.barh(y, lift, height=0.62, color=color)
            label = (
                "no alert"
                if row is None or not row["alerts"]
                else (f"p {fmt.share(row['precision'])} · r {fmt.share(row['recall'])} · {int(row['alerts'])}")
            )
            ax.text((lift or 0) + top * 0.02, y, label, va="center", fontsize=7, color=MUTED)
        ax.axvline(1.0, color=LONG_NEAR_LOW_COLOR, lw=1, ls="--")
        ax.set_xlim(0, top)
        ax.set_ylim(len(signals) - 0.5, -0.5)
        ax.set_yticks(range(len(signals)), [SIGNAL_LABELS[s] for s in signals] if col == 0 else [])
        ax.grid(axis="y", visible=False)
        ax.set_title(f"event within {horizon} day{'s' if horizon > 1 else ''}: lift")
    return fig
