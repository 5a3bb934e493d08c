"""build_report: one published snapshot and one day in, one self-contained HTML page out."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd
from matplotlib.figure import Figure

from reporting import charts, fmt
from reporting.data import (
    CLUSTERS,
    EVENT_STUDY,
    HEATMAP_COINS,
    HOURLY,
    IMBALANCE,
    LEVELS,
    LEVELS_RANGE_PCT,
    MARKET_CAP,
    MONTH_DAYS,
    STRESS,
    WEEK_DAYS,
    AssetDay,
    SnapshotData,
    Windows,
    asset_days,
    load,
    tracked_assets,
)
from reporting.html import NOT_AVAILABLE, Panel, asset_table, page

FLOORS = "liquidation totals are floors (public liquidation streams undercount)"

TITLE_STRESS = "Stress score by asset"
TITLE_EXCHANGES = "Daily long vs short liquidations by exchange"
TITLE_HOURLY = "Hourly liquidations, last 7 days"
TITLE_MARKET_CAP = "Market caps: daily change heatmap and breadth"
TITLE_FUNDING_OI = "Funding and open interest"
TITLE_CLUSTERS = "Liquidation clusters against price"
TITLE_LEVELS = "Estimated liquidation levels"
TITLE_EVENT_STUDY = "Does the stress score warn? Event study"
PANEL_TITLES = (
    TITLE_STRESS,
    TITLE_EXCHANGES,
    TITLE_HOURLY,
    TITLE_MARKET_CAP,
    TITLE_FUNDING_OI,
    TITLE_CLUSTERS,
    TITLE_LEVELS,
    TITLE_EVENT_STUDY,
)
STUDY_THRESHOLD = 80  # the "high" stress level: the alert rule's
STUDY_HORIZON = 3  # days, for the one-line verdict


@dataclass(frozen=True)
class Report:
    path: Path
    summary_markdown: str
    charts: list[str]  # titles of the panels that rendered a chart (a panel without data shows a note instead)


def _unavailable(table: str, frame: pd.DataFrame | None, as_of: date) -> str | None:
    if frame is None:
        return f"{table} is {NOT_AVAILABLE}: the table is missing."
    if frame.empty:
        return f"{table} is {NOT_AVAILABLE}: it has no rows for this window (up to {as_of.isoformat()})."
    return None


def _panel(
    slug: str, title: str, caption: str, table: str, frame: pd.DataFrame | None, as_of: date, draw: Callable[[], Figure]
) -> Panel:
    note = _unavailable(table, frame, as_of)
    if note is not None:
        return Panel(slug, title, caption, note=note)
    return Panel(slug, title, caption, svg=charts.to_svg(draw(), slug, title))


def _start(frame: pd.DataFrame | None, column: str, window_start: date) -> date:
    """A window's first day, moved up to the snapshot's first day so a young warehouse is not an empty axis."""
    if frame is None or frame.empty:
        return window_start
    return max(window_start, pd.Timestamp(frame[column].min()).date())


def _panels(data: SnapshotData, assets: list[str], w: Windows, history_days: int) -> list[Panel]:
    as_of = w.as_of
    stress_start = _start(data.stress, "date", w.history_start)
    exchanges_start = _start(data.exchange_daily, "date", w.month_start)
    hourly_start = _start(data.hourly, "hour_start", w.week_start)
    caps_start = _start(data.market_caps, "date", w.month_start)
    return [
        _panel(
            "stress",
            TITLE_STRESS,
            f"Each asset's stress score (0–100: the percentile of its own trailing 90 days) over the last "
            f"{history_days} days, on the calm / elevated / high / extreme bands, with pressure-cooker (▲) and "
            f"deleveraging (▼) days marked; the liquidation totals behind it are floors, so the score says how "
            f"unusual a day is for the asset, not how big it was.",
            STRESS,
            data.stress,
            as_of,
            lambda: charts.stress_timeline(data.stress, assets, stress_start, as_of),
        ),
        _panel(
            "exchanges",
            TITLE_EXCHANGES,
            f"Longs liquidated (above zero) and shorts liquidated (below zero) per day over the last {MONTH_DAYS} "
            f"days, all assets together, stacked by exchange; {FLOORS}.",
            IMBALANCE,
            data.exchange_daily,
            as_of,
            lambda: charts.exchange_liquidations(data.exchange_daily, exchanges_start, as_of),
        ),
        _panel(
            "hourly",
            TITLE_HOURLY,
            f"Hourly longs (above zero) and shorts (below zero) liquidated over the last {WEEK_DAYS} days, all "
            f"exchanges summed and stacked by asset, with ▼ over hours in which an exchange-asset total was a spike "
            f"(robust z > 5 and at least $1M); {FLOORS}.",
            HOURLY,
            data.hourly,
            as_of,
            lambda: charts.hourly_liquidations(data.hourly, assets, hourly_start, as_of),
        ),
        _panel(
            "market-cap",
            TITLE_MARKET_CAP,
            f"The {HEATMAP_COINS} largest coins on the report day (largest on top, with that day's market cap), "
            f"coloured by their 1-day market-cap change over the last {MONTH_DAYS} days, above the total market cap "
            f"and BTC dominance of our ~50-coin universe: the spot backdrop to the liquidations in the other panels, "
            f"whose totals are floors.",
            MARKET_CAP,
            data.market_caps,
            as_of,
            lambda: charts.market_cap_heatmap(data.market_caps, data.breadth, caps_start, as_of),
        ),
        _panel(
            "funding-oi",
            TITLE_FUNDING_OI,
            f"Per asset over the last {history_days} days, open-interest-weighted funding in % per 8 hours (left) "
            f"and open interest summed over exchanges (right): the positioning behind the liquidations in the other "
            f"panels, whose totals are floors.",
            STRESS,
            data.stress,
            as_of,
            lambda: charts.funding_and_oi(data.stress, assets, stress_start, as_of),
        ),
        _panel(
            "clusters",
            TITLE_CLUSTERS,
            f"Per asset, longs (left) and shorts (right) liquidated in each price band over the {WEEK_DAYS} days up to "
            f"the report day, with the day's close (solid line) and the trailing 7-day low (dashed), bands near that "
            f"low highlighted; {FLOORS}.",
            CLUSTERS,
            data.clusters,
            as_of,
            lambda: charts.liquidation_clusters(data.clusters, assets),
        ),
        _panel(
            "levels",
            TITLE_LEVELS,
            f"Per asset, where the positions still open would be liquidated, as of the report day's close (within "
            f"{LEVELS_RANGE_PCT} % of it): longs a fall would force out (left), shorts a rise would (right), the "
            f"nearest large band on each side darkened. An estimate, not an observation: open interest added each "
            f"hour, split by positioning and spread over leverage tiers, removed when the price crosses it or open "
            f"interest falls (docs/methodology.md); compare with the realised clusters above, whose totals are floors.",
            LEVELS,
            data.levels,
            as_of,
            lambda: charts.estimated_levels(data.levels, assets),
        ),
        _panel(
            "event-study",
            TITLE_EVENT_STUDY,
            f"Walk-forward, from the days up to the report day only: after a day scoring at least "
            f"{STUDY_THRESHOLD}, how often a long-liquidation event (an asset's long liquidations above 95 % of its "
            f"earlier days) followed within 1, 3 or 7 days, as lift over the base rate (dashed: 1, no skill), for "
            f"the stress score and for single signals as percentiles of their own 90 days; p precision, r recall "
            f"(share of events warned of), then the alert count. {_study_verdict(data.event_study)} "
            f"{_map_verdict(data.map_validation)} Events are counted from liquidation totals, which are floors; see "
            f"docs/methodology.md.",
            EVENT_STUDY,
            data.event_study,
            as_of,
            lambda: charts.event_study(data.event_study, STUDY_THRESHOLD),
        ),
    ]


def _map_verdict(validation: pd.DataFrame | None) -> str:
    """The estimated map against where long liquidations then happened, against its two baselines."""
    if validation is None or validation.empty:
        return ""
    row = validation.iloc[0]
    largest, nearest, uniform = row.largest_bands_share, row.nearest_bands_share, row.uniform_share
    baselines = (("an even spread", uniform), ("distance alone", nearest))
    beats = [name for name, share in baselines if largest > share]
    loses = [name for name, share in baselines if largest <= share]
    return (
        f"The estimated liquidation map: its 5 largest long bands held {fmt.share(largest)} of the next 3 days' long "
        f"liquidations on average ({int(row.asset_days)} asset-days), the 5 bands nearest below the close "
        f"{fmt.share(nearest)}, the map's range spread evenly {fmt.share(uniform)}; it beats "
        f"{' and '.join(beats) or 'neither'}{', not ' + ' or '.join(loses) if loses else ''}."
    )


def _study_verdict(study: pd.DataFrame | None) -> str:
    """One sentence: does the stress score beat each baseline on lift, at the alert threshold and
    the middle horizon? Said plainly either way."""
    if study is None or study.empty:
        return ""
    rows = study[(study["threshold"] == STUDY_THRESHOLD) & (study["horizon_days"] == STUDY_HORIZON)]
    lift = {r.signal: r.lift for r in rows.itertuples() if pd.notna(r.lift)}
    stress = rows[rows["signal"] == "stress"]
    if "stress" not in lift or stress.empty:
        return f"The stress score has no {STUDY_HORIZON}-day result yet."
    row = stress.iloc[0]
    others = {s: v for s, v in lift.items() if s != "stress"}
    beaten = [charts.SIGNAL_LABELS[s] for s, v in others.items() if v < lift["stress"]]
    not_beaten = [f"{charts.SIGNAL_LABELS[s]} ({v:.2f})" for s, v in others.items() if v >= lift["stress"]]
    verdict = (
        f"At {STUDY_THRESHOLD} and {STUDY_HORIZON} days the score's lift is {lift['stress']:.2f} "
        f"over {int(row.events)} events"
    )
    verdict += f"; it beats {', '.join(beaten)}" if beaten else "; it beats no baseline"
    verdict += f", and does not beat {', '.join(not_beaten)}." if not_beaten else "."
    return verdict


def _stress_line(days: list[AssetDay]) -> str:
    if not any(d.has_row for d in days):
        return f"- Stress: {STRESS} has no row for the day ({NOT_AVAILABLE})"
    parts = []
    for d in days:
        if d.stress_level is None:
            parts.append(f"{d.asset} n/a")
        else:
            parts.append(f"{d.asset} **{d.stress_level}** {fmt.score(d.stress_score)}")
    return "- Stress: " + (" · ".join(parts) if parts else NOT_AVAILABLE)


def _liquidation_line(days: list[AssetDay]) -> str:
    if not any(d.has_row for d in days):
        return f"- Liquidations: {STRESS} has no row for the day ({NOT_AVAILABLE})"
    with_data = [d for d in days if d.total_usd > 0]
    if not with_data:
        return "- Liquidations: none recorded for the day"
    top = max(with_data, key=lambda d: d.total_usd)
    longs = sum(d.long_usd or 0.0 for d in days)
    shorts = sum(d.short_usd or 0.0 for d in days)
    return (
        f"- Largest liquidations: {top.asset} {fmt.usd(top.long_usd)} longs vs {fmt.usd(top.short_usd)} shorts "
        f"({fmt.share(top.long_share)} long); all assets {fmt.usd(longs)} vs {fmt.usd(shorts)} (floors)"
    )


def _spike_line(days: list[AssetDay], hourly: pd.DataFrame | None) -> str:
    if hourly is None:
        return f"- Spikes: {HOURLY} {NOT_AVAILABLE}"
    week = int(hourly["spikes"].sum()) if not hourly.empty else 0
    today = sum(d.spike_hours for d in days)
    return f"- Spikes: {today} spike hours (exchange × asset) on the day, {week} in the last {WEEK_DAYS} days"


def _flag_line(days: list[AssetDay]) -> str:
    pressure = ", ".join(d.asset for d in days if d.is_pressure_cooker) or "none"
    delever = ", ".join(d.asset for d in days if d.is_deleveraging) or "none"
    return f"- Pressure cooker: {pressure} · Deleveraging: {delever}"


def _cluster_line(clusters: pd.DataFrame | None) -> str:
    if clusters is None or clusters.empty:
        return f"- Liquidation clusters: {NOT_AVAILABLE}"
    near = clusters[clusters["near_local_low"].astype(bool)]
    if near.empty:
        return "- Liquidation clusters: no band near the 7-day local low"
    top = near.loc[near["long_liquidations_usd"].idxmax()]
    return (
        f"- Biggest cluster near the local low: {top['asset']} {fmt.usd(top['long_liquidations_usd'])} longs "
        f"(+{fmt.usd(top['short_liquidations_usd'])} shorts) at {fmt.price(top['price_band_low'])}–"
        f"{fmt.price(top['price_band_high'])}, {fmt.pct(top['distance_from_close_pct'])} from the close, "
        f"7-day low {fmt.price(top['local_low_price'])}"
    )


def summary_markdown(as_of: date, days: list[AssetDay], data: SnapshotData, path: Path, panels: list[Panel]) -> str:
    rendered = sum(p.svg is not None for p in panels)
    lines = [
        f"**levstress daily report · {as_of.isoformat()}** (UTC day; liquidation totals are floors)",
        _stress_line(days),
        _liquidation_line(days),
        _spike_line(days, data.hourly),
        _flag_line(days),
        _cluster_line(data.clusters),
        f"- Report: `{path.name}`, {rendered} of {len(panels)} charts rendered",
    ]
    return "\n".join(lines)


def write_atomically(path: Path, text: str) -> None:
    """Readers see the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; the report is meant to be shared
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    # The rename itself is durable only once the directory entry is on disk.
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def build_report(snapshot_path: Path, as_of: date, out_dir: Path, history_days: int = 120) -> Report:
    snapshot_path, out_dir = Path(snapshot_path), Path(out_dir)
    if isinstance(as_of, datetime):  # a datetime is a date too, and would leak its hours into the SQL bounds
        as_of = as_of.date()
    if not snapshot_path.is_file():
        raise FileNotFoundError(f"snapshot not found: {snapshot_path}")
    windows = Windows.ending(as_of, history_days)
    with duckdb.connect(str(snapshot_path), read_only=True) as con:
        data = load(con, windows)
    assets = tracked_assets(data)
    days = asset_days(data, assets, as_of)
    with charts.style():
        panels = _panels(data, assets, windows, history_days)
    path = out_dir / f"{as_of.isoformat()}.html"
    write_atomically(path, page(as_of, snapshot_path.name, asset_table(days, as_of), panels))
    return Report(
        path=path,
        summary_markdown=summary_markdown(as_of, days, data, path, panels),
        charts=[p.title for p in panels if p.svg is not None],
    )


__all__ = ["PANEL_TITLES", "Report", "build_report", "summary_markdown", "write_atomically"]
