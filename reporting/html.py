"""The page: one self-contained HTML file (inline CSS and SVG, no scripts, nothing fetched)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from html import escape

from reporting import fmt
from reporting.data import AssetDay

NOT_AVAILABLE = "not available in this snapshot"

CSS = """
:root { color-scheme: light; --ink: #1d2b3a; --muted: #5b6472; --line: #e5e7eb; }
* { box-sizing: border-box; }
body { font-family: system-ui, sans-serif; color: var(--ink); background: #f7f7f5; margin: 0; line-height: 1.45; }
main { max-width: 1240px; margin: 0 auto; padding: 24px 20px 40px; }
h1 { font-size: 1.55rem; margin: 0 0 4px; }
h2 { font-size: 1.15rem; margin: 0 0 4px; }
.sub { color: var(--muted); margin: 0 0 18px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px 18px; margin: 0 0 18px; }
.caption { color: var(--muted); margin: 0 0 10px; font-size: 0.92rem; }
svg.chart { display: block; width: 100%; height: auto; }
.note { background: #f3f4f6; border-left: 4px solid #9ca3af; padding: 10px 14px; margin: 6px 0 0; }
table { border-collapse: collapse; width: 100%; font-size: 0.92rem; font-variant-numeric: tabular-nums; }
th, td { padding: 6px 10px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
th { color: var(--muted); font-weight: 600; font-size: 0.82rem; }
th:first-child, td:first-child, td.flags, th.flags, td.level, th.level { text-align: left; }
td.asset { font-weight: 700; }
.badge { display: inline-block; min-width: 5.5em; padding: 1px 8px; border-radius: 10px; font-weight: 600; }
.lvl-calm { background: #e6f4ea; color: #1e6b34; }
.lvl-elevated { background: #fff4c2; color: #7a5d00; }
.lvl-high { background: #ffd8a8; color: #8a3c00; }
.lvl-extreme { background: #ffb3b3; color: #8c1c2b; }
.lvl-none { background: #eef0f3; color: var(--muted); }
.flag { display: inline-block; padding: 0 6px; margin-right: 4px; border-radius: 4px; font-size: 0.82rem; }
.flag-pc { background: #efe3fb; color: #5a189a; }
.flag-dl { background: #dff0f7; color: #0b5675; }
footer { color: var(--muted); font-size: 0.9rem; }
footer li { margin-bottom: 4px; }
code { font-size: 0.9em; }
"""


@dataclass(frozen=True)
class Panel:
    slug: str
    title: str
    caption: str
    svg: str | None = None
    note: str | None = None


def _level_badge(day: AssetDay) -> str:
    if not day.has_row:
        return '<span class="badge lvl-none" title="no row for this day">no data</span>'
    if day.stress_level is None:
        return '<span class="badge lvl-none" title="no score yet: it needs about 60 days of history">n/a</span>'
    level = escape(day.stress_level)
    return f'<span class="badge lvl-{level}">{level} {fmt.score(day.stress_score)}</span>'


def _flags(day: AssetDay) -> str:
    flags = []
    if day.is_pressure_cooker:
        flags.append('<span class="flag flag-pc">pressure cooker</span>')
    if day.is_deleveraging:
        flags.append('<span class="flag flag-dl">deleveraging</span>')
    return "".join(flags) or fmt.MISSING


def _asset_row(day: AssetDay) -> str:
    level = escape(day.stress_level or "")
    cells = [
        f'<td class="asset">{escape(day.asset)}</td>',
        f'<td class="level">{_level_badge(day)}</td>',
        f"<td>{fmt.usd(day.long_usd)}</td>",
        f"<td>{fmt.usd(day.short_usd)}</td>",
        f"<td>{fmt.share(day.long_share)}</td>",
        f"<td>{fmt.funding(day.funding_8h)}</td>",
        f"<td>{fmt.usd(day.open_interest_usd)}</td>",
        f"<td>{fmt.pct(day.oi_change_pct, 2)}</td>",
        f"<td>{day.spike_hours}</td>",
        f'<td class="flags">{_flags(day)}</td>',
    ]
    return f'<tr data-asset="{escape(day.asset)}" data-stress-level="{level}">{"".join(cells)}</tr>'


def asset_table(days: list[AssetDay], as_of: date) -> str:
    if not any(d.has_row for d in days):
        return f'<p class="note">fct_leverage_stress_daily is {NOT_AVAILABLE}: it has no rows for {as_of}.</p>'
    head = (
        "<tr><th>Asset</th><th class='level'>Stress level · score</th><th>Longs liquidated</th>"
        "<th>Shorts liquidated</th><th>Long share</th><th>Funding / 8 h</th><th>Open interest</th>"
        "<th>OI change 1 d</th><th title='exchange-hours of the day flagged is_spike'>Spike hours</th>"
        "<th class='flags'>Flags</th></tr>"
    )
    rows = "\n".join(_asset_row(d) for d in days)
    return f'<table id="asset-table">\n<thead>{head}</thead>\n<tbody>\n{rows}\n</tbody>\n</table>'


def _panel(panel: Panel) -> str:
    body = panel.svg if panel.svg is not None else f'<p class="note">{escape(panel.note or NOT_AVAILABLE)}</p>'
    return (
        f'<section class="panel" id="panel-{panel.slug}">\n<h2>{escape(panel.title)}</h2>\n'
        f'<p class="caption">{escape(panel.caption)}</p>\n{body}\n</section>'
    )


FOOTER = """
<footer>
<section>
<h2>How to read this report</h2>
<ul>
<li><b>Liquidation totals are floors.</b> Public liquidation streams undercount (Binance sends at most one
event per symbol per second), so read them as lower bounds and compare them over time, not with
aggregator headlines.</li>
<li><b>Stress score</b> (0–100) is the percentile of today's composite among the asset's own trailing 90 days:
how unusual today is for that asset, not an absolute risk level. Levels: calm &lt; 60 ≤ elevated &lt; 80 ≤
high &lt; 95 ≤ extreme. It is empty (n/a) until about 60 days of history exist.</li>
<li><b>Pressure cooker</b>: price range below its trailing-30-day 25th percentile while liquidations are above
their 75th percentile. <b>Deleveraging</b>: open interest down more than 3 % on the day with liquidations above
their 75th percentile.</li>
<li><b>Long</b> = long positions liquidated (forced sells); <b>short</b> = shorts liquidated (forced buys).
Funding is per 8 hours and OI-weighted across exchanges; positive funding means longs pay shorts.</li>
<li>Every figure uses data up to and including the report day (UTC); nothing later.
Full definitions: <code>docs/methodology.md</code> in the levstress repository.</li>
</ul>
</section>
</footer>
"""


def page(as_of: date, snapshot_name: str, table: str, panels: list[Panel]) -> str:
    sections = "\n".join(_panel(p) for p in panels)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>levstress daily report · {as_of.isoformat()}</title>
<style>{CSS}</style>
</head>
<body>
<main>
<h1>levstress daily report · {as_of.isoformat()}</h1>
<p class="sub">Leverage stress, liquidations, funding, open interest and market caps up to and including
{as_of.isoformat()} (UTC), from snapshot <code>{escape(snapshot_name)}</code>.</p>
<section id="assets">
<h2>Assets on {as_of.isoformat()}</h2>
<p class="caption">Each tracked asset's stress level and score, the day's liquidations over all exchanges
(floors), funding, open interest and flags.</p>
{table}
</section>
{sections}
{FOOTER}
</main>
</body>
</html>
"""
