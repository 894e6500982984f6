"""The scorecard's pictures: a perspective x department heat map, departments grouped under
their ``parent`` (org units), each cell the share-weighted score of that department's own KPIs
serving the perspective's objectives (as the scorecard rolls up KPIs into objectives)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from alignment_engine.i18n import _
from alignment_engine.model import Plan
from alignment_engine.reports.strategy_map import PERSPECTIVES
from alignment_engine.reports.svg import element, esc, fmt, text_block, wrap

__all__ = ["department_order", "perspective_heat_map", "sparkline", "status_of"]

CELL_WIDTH = 170.0
CELL_HEIGHT = 34.0
LABEL_WIDTH = 260.0
MAX_ROWS = 60
"""Past this many departments the map shows the lowest-scoring ones (the rest in the tables)."""


def status_of(score: float | None, amber: float) -> str:
    if score is None:
        return "no-data"
    return "green" if score >= 1 else "amber" if score >= amber else "red"


def department_order(plan: Plan) -> list[tuple[str, int]]:
    """Departments in plan order with each one's children right below it: (id, depth)."""
    known = {d.id for d in plan.departments}
    children: dict[str | None, list[str]] = {}
    for department in plan.departments:
        parent = department.parent if department.parent in known else None
        children.setdefault(parent, []).append(department.id)
    ordered: list[tuple[str, int]] = []
    seen: set[str] = set()

    def visit(department_id: str, depth: int) -> None:
        if department_id in seen:  # a cycle cannot load; guarded all the same
            return
        seen.add(department_id)
        ordered.append((department_id, depth))
        for child in children.get(department_id, []):
            visit(child, depth + 1)

    for root in children.get(None, []):
        visit(root, 0)
    ordered += [(d.id, 0) for d in plan.departments if d.id not in seen]
    return ordered


def _cells(plan: Plan, scorecard: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """Department -> perspective -> share-weighted mean score of its own KPIs."""
    scores = {k["kpi"]: k["score"] for k in scorecard.get("kpis", []) if k.get("score") is not None}
    perspective_of = {o.id: o.perspective.value for o in plan.objectives}
    due = {o["objective"] for o in scorecard.get("objectives", []) if o.get("status") != "not-due"}
    cells: dict[str, dict[str, float]] = {}
    for department in plan.departments:
        sums: dict[str, list[float]] = {}
        for kpi in department.kpis:
            if kpi.id not in scores:
                continue
            for objective_id, share in kpi.objectives.items():
                perspective = perspective_of.get(objective_id)
                if perspective is None or objective_id not in due:
                    continue
                total = sums.setdefault(perspective, [0.0, 0.0])
                total[0] += float(share) * scores[kpi.id]
                total[1] += float(share)
        cells[department.id] = {p: s / w for p, (s, w) in sums.items() if w > 0}
    return cells


def perspective_heat_map(plan: Plan, scorecard: Mapping[str, Any]) -> str:
    """One ``<svg>``: a row per department (indented under its parent), a column per
    perspective, each ``rect.cell`` coloured by status (grey: no KPI of it scored)."""
    amber = float(plan.scorecard.amber)
    cells = _cells(plan, scorecard)
    rows = department_order(plan)
    hidden = 0
    if len(rows) > MAX_ROWS:

        def lowest(row: tuple[str, int]) -> float:
            values = list(cells.get(row[0], {}).values())
            return min(values) if values else float("inf")

        kept = {r[0] for r in sorted(rows, key=lowest)[:MAX_ROWS]}
        hidden = len(rows) - len(kept)
        rows = [r for r in rows if r[0] in kept]
    names = plan.department_names()
    width = LABEL_WIDTH + CELL_WIDTH * len(PERSPECTIVES) + 10
    height = 40 + CELL_HEIGHT * len(rows) + (24 if hidden else 10)
    parts = []
    for column, (_perspective, label) in enumerate(PERSPECTIVES):
        parts.append(
            text_block(
                [_(label)],
                LABEL_WIDTH + CELL_WIDTH * column + CELL_WIDTH / 2,
                24,
                12,
                css_class="heat-header",
                weight="600",
            )
        )
    for index, (department_id, depth) in enumerate(rows):
        y = 34 + CELL_HEIGHT * index
        # Wrapped onto two lines rather than cut: a Chinese name keeps its meaning.
        indent = 14.0 * depth
        lines = wrap(
            ("└ " if depth else "") + names[department_id], LABEL_WIDTH - 12 - indent, 12, 2
        )
        parts.append(
            text_block(
                lines,
                8 + indent,
                y + CELL_HEIGHT / 2 + 4 - (7.5 if len(lines) > 1 else 0),
                12,
                anchor="start",
                css_class="heat-label",
            )
        )
        for column, (perspective, perspective_label) in enumerate(PERSPECTIVES):
            score = cells.get(department_id, {}).get(perspective)
            status = status_of(score, amber)
            colour = status if status in ("green", "amber", "red") else "grey"
            x = LABEL_WIDTH + CELL_WIDTH * column
            shown = "–" if score is None else f"{score:.0%}"
            parts.append(
                element(
                    "g",
                    {
                        "class": "cell",
                        "data-department": department_id,
                        "data-perspective": perspective,
                        "data-status": status,
                    },
                    element(
                        "title",
                        {},
                        esc(
                            f"{names[department_id]}, {_(perspective_label)}: {shown} ({_(status)})"
                        ),
                    )
                    + element(
                        "rect",
                        {
                            "class": f"rag-{colour}",
                            "x": fmt(x + 2),
                            "y": fmt(y + 2),
                            "width": fmt(CELL_WIDTH - 4),
                            "height": fmt(CELL_HEIGHT - 4),
                            "rx": "4",
                        },
                    )
                    + text_block([shown], x + CELL_WIDTH / 2, y + CELL_HEIGHT / 2 + 4, 12),
                )
            )
    if hidden:
        parts.append(
            text_block(
                [
                    _("+{count} departments with higher scores (see kpis.csv)").format(
                        count=f"{hidden:,}"
                    )
                ],
                8,
                height - 8,
                11,
                anchor="start",
                css_class="heat-label",
            )
        )
    return element(
        "svg",
        {
            "class": "chart scorecard-heat-map",
            "xmlns": "http://www.w3.org/2000/svg",
            "viewBox": f"0 0 {fmt(width)} {fmt(height)}",
            "role": "img",
            "aria-label": _("Scores by perspective and department"),
        },
        "".join(parts),
    )


def sparkline(scores: Sequence[float | None], periods: Sequence[str]) -> str:
    """A KPI's score over the stored periods as a small ``<svg>`` line (the last point is this
    period's; a period without a score breaks the line)."""
    width, height, pad = 96.0, 22.0, 3.0
    known = [s for s in scores if s is not None]
    low, high = (min(known), max(known)) if known else (0.0, 1.0)
    if high - low < 1e-9:
        low, high = low - 0.5, high + 0.5
    step = (width - 2 * pad) / max(len(scores) - 1, 1)

    def point(index: int, score: float) -> str:
        y = height - pad - (score - low) / (high - low) * (height - 2 * pad)
        return f"{fmt(pad + index * step)},{fmt(y)}"

    runs: list[list[str]] = [[]]
    for index, score in enumerate(scores):
        if score is None:
            runs.append([])
        else:
            runs[-1].append(point(index, score))
    parts = [
        element("polyline", {"class": "spark", "points": " ".join(r), "fill": "none"})
        for r in runs
        if len(r) > 1
    ]
    if scores and scores[-1] is not None:
        x, y = point(len(scores) - 1, scores[-1]).split(",")
        parts.append(element("circle", {"class": "spark-now", "cx": x, "cy": y, "r": "2"}))
    shown = ", ".join(
        f"{p}: {'–' if s is None else f'{s:.0%}'}" for p, s in zip(periods, scores, strict=False)
    )
    return element(
        "svg",
        {
            "class": "sparkline",
            "xmlns": "http://www.w3.org/2000/svg",
            "width": fmt(width),
            "height": fmt(height),
            "viewBox": f"0 0 {fmt(width)} {fmt(height)}",
            "role": "img",
            "aria-label": shown,
        },
        element("title", {}, esc(shown)) + "".join(parts),
    )
