"""The daily HTML report, rendered from a snapshot the real job published (conftest's demo_history):
self-contained, one section per panel, the header agrees with the mart, and nothing after as_of is used."""

from __future__ import annotations

import re
import shutil
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from orchestration.settings import tracked_assets
from reporting import PANEL_TITLES, Report, build_report, fmt
from reporting.report import TITLE_CLUSTERS

pytestmark = pytest.mark.slow  # demo_history runs the real job over 68 demo days (shared by the session)

AS_OF = date(2026, 1, 20)  # inside the January stress period; demo_history has 2026-01-21 too
EARLY = date(2025, 11, 17)  # the third day of demo_history: no stress score yet
NOT_AVAILABLE = "not available in this snapshot"


class _Resources(HTMLParser):
    """Every tag name, and every attribute that could make a browser fetch something."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.urls += [v or "" for k, v in attrs if k in ("src", "href", "xlink:href", "srcset", "data", "poster")]


def _sections(html: str) -> dict[str, str]:
    return dict(re.findall(r'<section class="panel" id="panel-([\w-]+)">(.*?)</section>', html, flags=re.S))


def _header_rows(html: str) -> dict[str, str]:
    return dict(re.findall(r'<tr data-asset="([^"]*)" data-stress-level="([^"]*)">', html))


def _copy(snapshot: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy2(snapshot, folder / snapshot.name))


@pytest.fixture(scope="module")
def snapshot(demo_history: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _copy(demo_history / "serving.duckdb", tmp_path_factory.mktemp("snapshot"))


@pytest.fixture(scope="module")
def built(snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> Report:
    return build_report(snapshot, AS_OF, tmp_path_factory.mktemp("reports"))


def test_report_is_one_self_contained_file(built: Report) -> None:
    report = built
    assert report.path.name == "2026-01-20.html" and report.path.is_file()
    assert [p.name for p in report.path.parent.iterdir()] == [report.path.name]  # no temp file left behind

    html = report.path.read_text(encoding="utf-8")
    parser = _Resources()
    parser.feed(html)
    assert not parser.tags & {"script", "link", "img", "iframe", "object", "embed", "image"}
    assert all(u.startswith("#") for u in parser.urls), [u for u in parser.urls if not u.startswith("#")][:5]
    assert "http://" not in html and "https://" not in html and "@import" not in html
    assert not re.findall(r"url\((?!#)", html)  # only the SVGs' own clip paths
    assert "system-ui, sans-serif" in html
    assert "docs/methodology.md" in html


def test_every_panel_has_its_title_a_floors_caption_and_a_chart(built: Report, snapshot: Path) -> None:
    report = built
    sections = _sections(report.path.read_text(encoding="utf-8"))
    assert len(sections) == len(PANEL_TITLES)
    with duckdb.connect(str(snapshot), read_only=True) as con:
        clusters_rows = con.execute(
            "SELECT count(*) FROM marts.fct_liquidation_clusters WHERE date = ?", [AS_OF]
        ).fetchone()[0]
    assert clusters_rows > 0  # the mart is part of the published snapshot
    for title, body in zip(PANEL_TITLES, sections.values(), strict=True):
        assert f"<h2>{title}</h2>" in body
        caption = re.search(r'<p class="caption">(.*?)</p>', body, flags=re.S).group(1)
        assert "floors" in caption, title
        assert body.count("<svg") == 1 and NOT_AVAILABLE not in body, title
    assert report.charts == list(PANEL_TITLES)


def test_header_table_has_each_tracked_asset_with_the_marts_stress_level(built: Report, snapshot: Path) -> None:
    report = built
    with duckdb.connect(str(snapshot), read_only=True) as con:
        mart = dict(
            con.execute(
                "SELECT asset, coalesce(stress_level, '') FROM marts.fct_leverage_stress_daily WHERE date = ?", [AS_OF]
            ).fetchall()
        )
    assert set(mart) == set(tracked_assets())
    assert any(mart.values()), "demo_history should have stress scores by mid-January"
    assert _header_rows(report.path.read_text(encoding="utf-8")) == mart

    lines = report.summary_markdown.splitlines()
    assert 5 <= len(lines) <= 12
    assert AS_OF.isoformat() in lines[0]
    for asset, level in mart.items():
        expected = f"{asset} **{level}**" if level else f"{asset} n/a"
        assert expected in report.summary_markdown


def _truncate_after(snapshot: Path, as_of: date) -> None:
    """Delete every mart row dated after as_of, in whatever table and date column it has."""
    with duckdb.connect(str(snapshot)) as con:
        columns = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'marts' AND column_name IN ('date', 'hour_start')"
        ).fetchall()
        for table, column in columns:
            bound = as_of + timedelta(days=1)
            con.execute(f"DELETE FROM marts.{table} WHERE {column} >= ?", [bound])


def test_nothing_after_as_of_is_used(built: Report, snapshot: Path, tmp_path: Path) -> None:
    report = built
    next_day = AS_OF + timedelta(days=1)
    with duckdb.connect(str(snapshot), read_only=True) as con:
        rows = con.execute(
            "SELECT asset, date, long_liquidations_usd, short_liquidations_usd FROM marts.fct_leverage_stress_daily "
            "WHERE date IN (?, ?)",
            [AS_OF, next_day],
        ).fetchall()
    figures = {(asset, day): {fmt.usd(long), fmt.usd(short)} for asset, day, long, short in rows}
    later_only = set().union(*(figures[(a, next_day)] - figures[(a, AS_OF)] for a, d in figures if d == AS_OF))
    assert later_only, "the next day should have figures of its own"
    assert not [f for f in later_only if f in report.summary_markdown]
    html = report.path.read_text(encoding="utf-8")
    assert next_day.isoformat() not in html and next_day.strftime("%d %b") not in html

    # The same report from a copy with every later row deleted is the same page, byte for byte.
    truncated = _copy(snapshot, tmp_path / "truncated")
    _truncate_after(truncated, AS_OF)
    again = build_report(truncated, AS_OF, tmp_path / "out")
    assert again.path.read_text(encoding="utf-8") == html
    assert again.summary_markdown == report.summary_markdown


@pytest.mark.parametrize(
    "change",
    ["DROP TABLE marts.fct_liquidation_clusters", "DELETE FROM marts.fct_liquidation_clusters"],
    ids=["missing", "empty"],
)
def test_a_snapshot_without_clusters_gets_a_note_in_that_panel(snapshot: Path, tmp_path: Path, change: str) -> None:
    older = _copy(snapshot, tmp_path / "older")
    with duckdb.connect(str(older)) as con:
        con.execute(change)
    report = build_report(older, AS_OF, tmp_path / "out")
    sections = _sections(report.path.read_text(encoding="utf-8"))
    assert NOT_AVAILABLE in sections["clusters"] and "<svg" not in sections["clusters"]
    assert all("<svg" in body for slug, body in sections.items() if slug != "clusters")
    assert report.charts == [t for t in PANEL_TITLES if t != TITLE_CLUSTERS]
    assert NOT_AVAILABLE in report.summary_markdown


def test_a_day_without_stress_scores_yet_renders_with_na(snapshot: Path, tmp_path: Path) -> None:
    with duckdb.connect(str(snapshot), read_only=True) as con:
        levels = con.execute(
            "SELECT DISTINCT stress_level FROM marts.fct_leverage_stress_daily WHERE date = ?", [EARLY]
        ).fetchall()
        clusters_rows = con.execute(
            "SELECT count(*) FROM marts.fct_liquidation_clusters WHERE date = ?", [EARLY]
        ).fetchone()[0]
    assert levels == [(None,)]
    report = build_report(snapshot, EARLY, tmp_path)
    html = report.path.read_text(encoding="utf-8")
    assert set(_header_rows(html).values()) == {""}
    assert "no stress score yet" in _sections(html)["stress"]
    assert "The stress score has no 3-day result yet." in _sections(html)["event-study"]
    assert report.summary_markdown.count(" n/a") == len(tracked_assets())
    assert report.charts == [t for t in PANEL_TITLES if clusters_rows or t != TITLE_CLUSTERS]
