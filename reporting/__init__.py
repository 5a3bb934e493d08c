"""Daily offline HTML report of the published snapshot (see reporting.report.build_report)."""

from reporting.report import PANEL_TITLES, Report, build_report

__all__ = ["PANEL_TITLES", "Report", "build_report"]
