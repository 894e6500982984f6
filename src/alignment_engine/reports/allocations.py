"""Allocation before and after: per resource, each department's amount today beside the
optimiser's proposal (or beside its demand when there is no proposal)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from alignment_engine.i18n import _
from alignment_engine.model import Plan
from alignment_engine.reports.payouts import amount
from alignment_engine.reports.svg import element, esc, fmt, row_label, text_block

__all__ = ["allocation_chart", "allocation_rows"]

WIDTH = 1100.0
LABEL_WIDTH = 180.0
STATS_WIDTH = 200.0
ROW_HEIGHT = 30.0
HEADER_HEIGHT = 34.0


def allocation_rows(
    plan: Plan, optimise: Mapping[str, Any] | None
) -> tuple[str, dict[str, list[tuple[str, float, float | None]]]]:
    """('proposed' | 'demand', resource -> [(department, current, other)]) in plan order."""
    rows: dict[str, list[tuple[str, float, float | None]]] = {}
    found = [a for a in (optimise or {}).get("allocations") or [] if isinstance(a, Mapping)]
    if found:
        for row in found:
            current = float(row.get("current") or 0.0)
            proposed = row.get("proposed")
            rows.setdefault(str(row.get("resource")), []).append(
                (
                    str(row.get("department")),
                    current,
                    float(proposed) if isinstance(proposed, int | float) else None,
                )
            )
        return "proposed", rows
    for resource in plan.resources:
        departments = list(dict.fromkeys([*resource.allocation, *resource.demand]))
        rows[resource.id] = [
            (d, float(resource.allocation.get(d, 0.0)), resource.demand.get(d)) for d in departments
        ]
    return "demand", rows


def _bar(css: str, kind: str, x: float, y: float, width: float, height: float) -> str:
    return element(
        "rect",
        {
            "class": css,
            "data-kind": kind,
            "x": fmt(x),
            "y": fmt(y),
            "width": fmt(max(width, 0.0)),
            "height": fmt(height),
        },
    )


def allocation_chart(plan: Plan, optimise: Mapping[str, Any] | None) -> str:
    """One ``<svg>``: per resource, a ``rect.alloc-bar`` for today's amount and one for the
    proposal (``data-kind``) per department."""
    kind, rows = allocation_rows(plan, optimise)
    names = plan.department_names()
    units = {r.id: r for r in plan.resources}
    plot_width = WIDTH - LABEL_WIDTH - STATS_WIDTH
    parts: list[str] = []
    y = 6.0
    legend_y = y + 12
    parts.append(_bar("alloc-bar legend", "current", LABEL_WIDTH, legend_y - 9, 14, 10))
    parts.append(text_block([_("today")], LABEL_WIDTH + 20, legend_y, 11, anchor="start"))
    parts.append(_bar("alloc-bar legend", kind, LABEL_WIDTH + 80, legend_y - 9, 14, 10))
    parts.append(text_block([_(kind)], LABEL_WIDTH + 100, legend_y, 11, anchor="start"))
    y += 24
    for resource_id, entries in rows.items():
        resource = units.get(resource_id)
        heading = resource.name or resource_id if resource else resource_id
        unit = resource.unit if resource else ""
        capacity = f", {_('capacity')} {amount(resource.capacity)}" if resource else ""
        parts.append(
            text_block(
                [f"{heading} ({unit}{capacity})" if unit else f"{heading}{capacity}"],
                10,
                y + 20,
                14,
                anchor="start",
                css_class="resource-title",
                weight="600",
            )
        )
        y += HEADER_HEIGHT
        largest = max([max(current, other or 0.0) for _, current, other in entries] or [1.0]) or 1.0
        for department, current, other in entries:
            change = ""
            if other is not None and current:
                change = f"{(other - current) / current * 100:+.1f}%"
            elif other is not None and other > 0:
                change = _("new")  # nothing today, something proposed (0 -> 0 is no change)
            suffix = f" {unit}" if unit else ""
            label = (
                f"{amount(current)} → {amount(other)}{suffix}  {change}".rstrip()
                if other is not None
                else f"{amount(current)}{suffix}"
            )
            tooltip = f"{resource_id} / {department}: " + _("today {amount}").format(
                amount=f"{current:,.2f}"
            )
            if other is not None:
                tooltip += ", " + (
                    _("proposed {amount}") if kind == "proposed" else _("demand {amount}")
                ).format(amount=f"{other:,.2f}")
            parts.append(
                element(
                    "g",
                    {
                        "class": "allocation",
                        "data-resource": resource_id,
                        "data-department": department,
                    },
                    element("title", {}, esc(tooltip))
                    + row_label(names.get(department, department), LABEL_WIDTH, y, ROW_HEIGHT)
                    + _bar(
                        "alloc-bar",
                        "current",
                        LABEL_WIDTH,
                        y + 3,
                        plot_width * current / largest,
                        ROW_HEIGHT / 2 - 3,
                    )
                    + (
                        _bar(
                            "alloc-bar",
                            kind,
                            LABEL_WIDTH,
                            y + ROW_HEIGHT / 2,
                            plot_width * other / largest,
                            ROW_HEIGHT / 2 - 3,
                        )
                        if other is not None
                        else ""
                    )
                    + text_block(
                        [label],
                        WIDTH - STATS_WIDTH + 10,
                        y + ROW_HEIGHT / 2 + 4,
                        11,
                        anchor="start",
                        css_class="stats",
                    ),
                )
            )
            y += ROW_HEIGHT
        y += 8
    return element(
        "svg",
        {
            "class": "chart allocations",
            "xmlns": "http://www.w3.org/2000/svg",
            "viewBox": f"0 0 {fmt(WIDTH)} {fmt(y + 6)}",
            "role": "img",
            "aria-label": _("Allocation before and after"),
        },
        "".join(parts),
    )
