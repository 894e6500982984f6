"""The budget frontier as an SVG line chart: the best objective at each total of a resource,
today's total marked, infeasible totals left out of the line."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from alignment_engine.i18n import _
from alignment_engine.reports.svg import element, esc, fmt, svg_document, text_block

__all__ = ["frontier_chart"]

WIDTH, HEIGHT = 640.0, 360.0
LEFT, RIGHT, TOP, BOTTOM = 70.0, 20.0, 40.0, 50.0


def _amount(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.4g}"


def frontier_chart(frontier: Mapping[str, Any]) -> str:
    """One ``<svg>``: ``polyline.frontier`` through the feasible points (``circle.point`` each,
    with a title), ``line.today`` at today's total."""
    points = [p for p in frontier["points"] if p["objective"] is not None]
    resource = str(frontier["resource"])
    parts = [
        text_block(
            [_("Best objective by total {resource}").format(resource=resource)],
            LEFT,
            22,
            14,
            anchor="start",
            weight="600",
        )
    ]
    if not points:
        parts.append(
            text_block([_("no total fits the bounds")], LEFT, TOP + 40, 12, anchor="start")
        )
        return _svg(parts)
    totals = [float(p["total"]) for p in points] + [float(frontier["total_today"])]
    values = [float(p["objective"]) for p in points]
    x_low, x_high = min(totals), max(totals)
    y_low, y_high = min(values), max(values)
    x_span = (x_high - x_low) or 1.0
    y_span = (y_high - y_low) or max(abs(y_high), 1.0) * 0.01
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x_of(total: float) -> float:
        return LEFT + (total - x_low) / x_span * plot_w

    def y_of(value: float) -> float:
        return TOP + plot_h - (value - y_low) / y_span * plot_h

    parts.append(
        element(
            "rect",
            {"class": "plot", "x": fmt(LEFT), "y": fmt(TOP), "width": fmt(plot_w),
             "height": fmt(plot_h), "fill": "none", "stroke": "#ccc"},
        )
    )  # fmt: skip
    today = float(frontier["total_today"])
    parts.append(
        element(
            "line",
            {"class": "today", "x1": fmt(x_of(today)), "x2": fmt(x_of(today)), "y1": fmt(TOP),
             "y2": fmt(TOP + plot_h), "stroke": "#888", "stroke-dasharray": "4 3"},
        )
    )  # fmt: skip
    parts.append(
        text_block(
            [_("today {amount}").format(amount=_amount(today))],
            x_of(today) + 4,
            TOP + 12,
            11,
            anchor="start",
        )
    )
    line = " ".join(
        f"{fmt(x_of(float(p['total'])))},{fmt(y_of(float(p['objective'])))}" for p in points
    )
    parts.append(
        element(
            "polyline",
            {"class": "frontier", "points": line, "fill": "none", "stroke": "#1f6feb",
             "stroke-width": "2"},
        )
    )  # fmt: skip
    for p in points:
        parts.append(
            element(
                "circle",
                {"class": "point", "cx": fmt(x_of(float(p["total"]))),
                 "cy": fmt(y_of(float(p["objective"]))), "r": "3", "fill": "#1f6feb"},
                element("title", {}, esc(f"{_amount(float(p['total']))}: {p['objective']:.6f}")),
            )
        )  # fmt: skip
    for value, y in ((y_low, TOP + plot_h), (y_high, TOP)):
        parts.append(text_block([f"{value:.4f}"], LEFT - 6, y + 4, 11, anchor="end"))
    for total in (x_low, x_high):
        parts.append(
            text_block([_amount(total)], x_of(total), TOP + plot_h + 18, 11, anchor="middle")
        )
    parts.append(
        text_block(
            [_("total {resource}").format(resource=resource)],
            LEFT + plot_w / 2,
            HEIGHT - 10,
            12,
            anchor="middle",
        )
    )
    return _svg(parts)


def _svg(parts: list[str]) -> str:
    return svg_document(WIDTH, HEIGHT, parts)
