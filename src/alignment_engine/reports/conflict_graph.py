"""The conflict graph: departments on a circle, each finding an edge coloured by severity.

A finding between two departments is a curve (parallel findings bow apart); one naming three or
more departments is a hub joined to each; one naming a single department is a loop beside it.
Findings that name no department appear in the findings table only.

Past a size (more than DETAILED_FINDINGS findings or DETAILED_DEPARTMENTS departments) the
graph summarises instead (:func:`summary_graph`): the departments named in most findings, and
one edge per pair of them, as thick as the findings naming both, for the pairs that share most;
a page of 2,000 departments and 60,000 findings stays a few hundred kilobytes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from alignment_engine.i18n import _, current
from alignment_engine.model import Plan
from alignment_engine.model.findings import shown_texts
from alignment_engine.reports.svg import element, esc, fmt, text_block, two_lines

__all__ = [
    "DETAILED_DEPARTMENTS",
    "DETAILED_FINDINGS",
    "SEVERITIES",
    "conflict_graph",
    "graph_findings",
    "is_summarised",
]

SEVERITIES = ("critical", "high", "medium", "low")
WIDTH = 960.0
HEIGHT = 600.0
NODE_RADIUS = 22.0
LABEL_SIZE = 12.0
LABEL_WIDTH = 170.0


def _node_label(name: str, x: float, y: float, dy: float, anchor: str) -> str:
    """A department's name in full, on up to two lines (a bilingual name breaks between its
    languages), growing away from its node: upwards above the centre, downwards below it."""
    lines = two_lines(name, LABEL_WIDTH, LABEL_SIZE)
    extra = (len(lines) - 1) * LABEL_SIZE * 1.25
    if dy < -20:
        y -= extra
    elif abs(dy) <= 20 or anchor != "middle":
        y -= extra / 2
    return text_block(lines, x, y, LABEL_SIZE, anchor=anchor, css_class="node-label")


DETAILED_FINDINGS = 150
DETAILED_DEPARTMENTS = 40
SUMMARY_DEPARTMENTS = 30
SUMMARY_EDGES = 120


def is_summarised(plan: Plan, findings: Sequence[Mapping[str, Any]]) -> bool:
    """Whether the graph shows aggregates rather than one edge per finding."""
    return (
        len(graph_findings(plan, findings)) > DETAILED_FINDINGS
        or len(plan.departments) > DETAILED_DEPARTMENTS
    )


def graph_findings(plan: Plan, findings: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The findings drawn as edges: those naming at least one of the plan's departments."""
    known = {d.id for d in plan.departments}
    return [f for f in findings if any(d in known for d in f.get("departments") or ())]


def _positions(plan: Plan, radius: float, cx: float, cy: float) -> dict[str, tuple[float, float]]:
    count = len(plan.departments)
    positions = {}
    for index, department in enumerate(plan.departments):
        angle = -math.pi / 2 + 2 * math.pi * index / max(count, 1)
        positions[department.id] = (cx + radius * math.cos(angle), cy + radius * math.sin(angle))
    return positions


def _severity(finding: Mapping[str, Any]) -> str:
    severity = str(finding.get("severity", "low"))
    return severity if severity in SEVERITIES else "low"


def _tooltip(finding: Mapping[str, Any]) -> str:
    message, suggestion = shown_texts(finding, current())
    text = f"{finding.get('rule')} ({_(_severity(finding))}): {message}"
    if suggestion:
        text += f" — {suggestion}"
    return text


def _edge(
    finding: Mapping[str, Any],
    members: list[str],
    positions: dict[str, tuple[float, float]],
    centre: tuple[float, float],
    occurrence: int,
) -> str:
    """One finding's shape; ``occurrence`` counts earlier findings on the same departments."""
    severity = _severity(finding)
    shapes: list[str] = []
    if len(members) == 1:
        x, y = positions[members[0]]
        dx, dy = x - centre[0], y - centre[1]
        length = math.hypot(dx, dy) or 1.0
        loop = 12.0 + 5 * occurrence
        distance = NODE_RADIUS + loop - 4
        shapes.append(
            element(
                "circle",
                {
                    "cx": fmt(x + dx / length * distance),
                    "cy": fmt(y + dy / length * distance),
                    "r": fmt(loop),
                    "fill": "none",
                },
            )
        )
    elif len(members) == 2:
        (x1, y1), (x2, y2) = positions[members[0]], positions[members[1]]
        mx, my = (x1 + x2) / 2, (y1 + y2) / 2
        length = math.hypot(x2 - x1, y2 - y1) or 1.0
        nx, ny = -(y2 - y1) / length, (x2 - x1) / length
        step = (occurrence + 1) // 2 * 26.0 * (1 if occurrence % 2 else -1)
        bow = 0.12 * length + step
        shapes.append(
            element(
                "path",
                {
                    "d": f"M{fmt(x1)},{fmt(y1)} Q{fmt(mx + nx * bow)},{fmt(my + ny * bow)} "
                    f"{fmt(x2)},{fmt(y2)}",
                    "fill": "none",
                },
            )
        )
    else:
        points = [positions[m] for m in members]
        hx = sum(p[0] for p in points) / len(points)
        hy = sum(p[1] for p in points) / len(points)
        hx = (hx + centre[0]) / 2 + 7 * occurrence
        hy = (hy + centre[1]) / 2 + 7 * occurrence
        for x, y in points:
            shapes.append(
                element("line", {"x1": fmt(hx), "y1": fmt(hy), "x2": fmt(x), "y2": fmt(y)})
            )
        shapes.append(element("circle", {"class": "hub", "cx": fmt(hx), "cy": fmt(hy), "r": "5"}))
    return element(
        "g",
        {
            "class": f"finding-edge severity-{severity}",
            "data-rule": str(finding.get("rule", "")),
            "data-severity": severity,
            "data-departments": " ".join(members),
        },
        element("title", {}, esc(_tooltip(finding))) + "".join(shapes),
    )


def conflict_graph(plan: Plan, findings: Sequence[Mapping[str, Any]]) -> str:
    """One ``<svg>``: a ``g.department-node`` per department, a ``g.finding-edge`` per finding
    that names a department (or, past a size, the summary graph)."""
    if is_summarised(plan, findings):
        return summary_graph(plan, findings)
    known = {d.id for d in plan.departments}
    centre = (430.0, HEIGHT / 2)
    radius = min(HEIGHT / 2 - 80, 230.0)
    positions = _positions(plan, radius, *centre)
    drawn = graph_findings(plan, findings)
    touching = {d.id: 0 for d in plan.departments}
    loops = {d.id: 0 for d in plan.departments}
    seen: dict[tuple[str, ...], int] = {}
    edges = []
    for finding in drawn:
        members = list(dict.fromkeys(d for d in finding.get("departments") or () if d in known))
        key = tuple(sorted(members))
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        for member in members:
            touching[member] += 1
        if len(members) == 1:
            loops[members[0]] += 1
        edges.append(_edge(finding, members, positions, centre, occurrence))
    nodes = []
    for department in plan.departments:
        x, y = positions[department.id]
        dx, dy = x - centre[0], y - centre[1]
        length = math.hypot(dx, dy) or 1.0
        # Clear of the loops drawn beside the node for its single-department findings.
        offset = (
            NODE_RADIUS
            + 16
            + (2 * (12.0 + 5 * (loops[department.id] - 1)) if loops[department.id] else 0)
        )
        lx = x + dx / length * offset
        ly = y + dy / length * offset + 4
        anchor = "middle" if abs(dx) < 20 else ("start" if dx > 0 else "end")
        count = touching[department.id]
        nodes.append(
            element(
                "g",
                {"class": "department-node", "data-id": department.id, "data-findings": str(count)},
                element(
                    "title",
                    {},
                    esc(f"{department.id}: " + _("{count} finding(s)").format(count=count)),
                )
                + element(
                    "circle",
                    {"cx": fmt(x), "cy": fmt(y), "r": fmt(NODE_RADIUS), "class": "node"},
                )
                + text_block([str(count)], x, y + 4, 12, css_class="node-count", weight="600")
                + _node_label(department.name or department.id, lx, ly, dy, anchor),
            )
        )
    legend = _legend(drawn, WIDTH - 130)
    return element(
        "svg",
        {
            "class": "chart conflict-graph",
            "xmlns": "http://www.w3.org/2000/svg",
            "viewBox": f"0 0 {fmt(WIDTH)} {fmt(HEIGHT)}",
            "role": "img",
            "aria-label": _("Conflict graph"),
        },
        "".join(edges) + "".join(nodes) + "".join(legend),
    )


def _legend(drawn: Sequence[Mapping[str, Any]], x: float) -> list[str]:
    """One line per severity with the number of drawn findings of it."""
    counts = dict.fromkeys(SEVERITIES, 0)
    for finding in drawn:
        counts[_severity(finding)] += 1
    legend = []
    for index, severity in enumerate(SEVERITIES):
        y = 30 + index * 24
        legend.append(
            element(
                "g",
                {"class": f"legend severity-{severity}"},
                element("line", {"x1": fmt(x), "y1": fmt(y), "x2": fmt(x + 30), "y2": fmt(y)})
                + text_block(
                    [f"{_(severity)} ({counts[severity]:,})"], x + 38, y + 4, 12, anchor="start"
                ),
            )
        )
    return legend


def summary_graph(plan: Plan, findings: Sequence[Mapping[str, Any]]) -> str:
    """The departments named in most findings on a circle, joined by one ``g.pair-edge`` per
    pair (the SUMMARY_EDGES pairs sharing most findings), coloured by the most severe shared
    finding; counts in the titles."""
    import numpy as np

    drawn = graph_findings(plan, findings)
    order = {d.id: index for index, d in enumerate(plan.departments)}
    named = np.zeros(len(order), dtype=np.int64)
    for finding in drawn:
        for department in dict.fromkeys(finding.get("departments") or ()):
            if department in order:
                named[order[department]] += 1
    ranked = sorted(range(len(order)), key=lambda i: (-named[i], i))
    chosen = [i for i in ranked[:SUMMARY_DEPARTMENTS] if named[i] > 0]
    column = {department: position for position, department in enumerate(chosen)}
    # Findings x chosen departments, one matrix per severity: pair counts are B.T @ B. The
    # findings are read once, into (finding, department) index pairs.
    rows: dict[str, list[int]] = {severity: [] for severity in SEVERITIES}
    cols: dict[str, list[int]] = {severity: [] for severity in SEVERITIES}
    sizes = dict.fromkeys(SEVERITIES, 0)
    for finding in drawn:
        severity = _severity(finding)
        row = sizes[severity]
        sizes[severity] += 1
        for department in dict.fromkeys(finding.get("departments") or ()):
            position = column.get(order.get(department, -1))
            if position is not None:
                rows[severity].append(row)
                cols[severity].append(position)
    pairs = {}
    for severity in SEVERITIES:
        incidence = np.zeros((sizes[severity], len(chosen)), dtype=np.int32)
        incidence[rows[severity], cols[severity]] = 1
        pairs[severity] = incidence.T.astype(np.int64) @ incidence
    total = sum(pairs.values(), np.zeros((len(chosen), len(chosen)), dtype=np.int64))
    candidates = [
        (int(total[a, b]), a, b)
        for a in range(len(chosen))
        for b in range(a + 1, len(chosen))
        if total[a, b] > 0
    ]
    candidates.sort(key=lambda item: (-item[0], item[1], item[2]))
    shown = candidates[:SUMMARY_EDGES]
    departments = [plan.departments[i] for i in chosen]
    centre = (430.0, HEIGHT / 2)
    radius = min(HEIGHT / 2 - 80, 230.0)
    count = max(len(departments), 1)
    positions = {
        d.id: (
            centre[0] + radius * math.cos(-math.pi / 2 + 2 * math.pi * k / count),
            centre[1] + radius * math.sin(-math.pi / 2 + 2 * math.pi * k / count),
        )
        for k, d in enumerate(departments)
    }
    heaviest = max((n for n, _, _ in shown), default=1)
    edges = []
    for shared, a, b in shown:
        severity = next(s for s in SEVERITIES if pairs[s][a, b] > 0)
        first, second = departments[a].id, departments[b].id
        (x1, y1), (x2, y2) = positions[first], positions[second]
        width = 1.0 + 5.0 * math.log1p(shared) / math.log1p(heaviest)
        edges.append(
            element(
                "g",
                {
                    "class": f"pair-edge severity-{severity}",
                    "data-departments": f"{first} {second}",
                    "data-findings": str(shared),
                },
                element(
                    "title",
                    {},
                    esc(
                        _("{first} and {second}: {count} finding(s)").format(
                            first=first, second=second, count=f"{shared:,}"
                        )
                    ),
                )
                + element(
                    "line",
                    {
                        "x1": fmt(x1),
                        "y1": fmt(y1),
                        "x2": fmt(x2),
                        "y2": fmt(y2),
                        "stroke-width": fmt(width),
                    },
                ),
            )
        )
    nodes = []
    for department in departments:
        x, y = positions[department.id]
        dx, dy = x - centre[0], y - centre[1]
        length = math.hypot(dx, dy) or 1.0
        lx, ly = x + dx / length * (NODE_RADIUS + 16), y + dy / length * (NODE_RADIUS + 16) + 4
        anchor = "middle" if abs(dx) < 20 else ("start" if dx > 0 else "end")
        number = int(named[order[department.id]])
        nodes.append(
            element(
                "g",
                {
                    "class": "department-node",
                    "data-id": department.id,
                    "data-findings": str(number),
                },
                element(
                    "title",
                    {},
                    esc(f"{department.id}: " + _("{count} finding(s)").format(count=f"{number:,}")),
                )
                + element(
                    "circle", {"cx": fmt(x), "cy": fmt(y), "r": fmt(NODE_RADIUS), "class": "node"}
                )
                + text_block([f"{number:,}"], x, y + 4, 11, css_class="node-count", weight="600")
                + _node_label(department.name or department.id, lx, ly, dy, anchor),
            )
        )
    legend = [
        *_legend(drawn, WIDTH - 190),
        text_block(
            [
                _("{shown} of {total} departments").format(
                    shown=len(departments), total=f"{len(plan.departments):,}"
                ),
                _("(those named in most findings);"),
                _("{shown} of {total} pairs").format(
                    shown=len(shown), total=f"{len(candidates):,}"
                ),
                _("(those sharing most findings)"),
            ],
            WIDTH - 190,
            140,
            11,
            anchor="start",
            css_class="note",
        ),
    ]
    return element(
        "svg",
        {
            "class": "chart conflict-graph summary",
            "xmlns": "http://www.w3.org/2000/svg",
            "viewBox": f"0 0 {fmt(WIDTH)} {fmt(HEIGHT)}",
            "role": "img",
            "aria-label": _("Conflict graph (summary)"),
        },
        "".join(edges) + "".join(nodes) + "".join(legend),
    )
