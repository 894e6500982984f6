"""Outputs for people: ``report.html`` (inline SVG charts, no scripts, no network)."""

from alignment_engine.reports.html import as_result_dict, render_report, write_report

__all__ = ["as_result_dict", "render_report", "write_report"]
