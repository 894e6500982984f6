"""The RAG heat map: one row per scope (company, each department, shared goals), one cell per
KPI, coloured by result: green at or above target, amber between threshold and target, red
below threshold, grey without a result."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from alignment_engine.i18n import _
from alignment_engine.model import Kpi, Plan
from alignment_engine.reports.numbers import readable
from alignment_engine.reports.svg import element, esc, fmt, text_block, two_lines, wrap

__all__ = ["heat_map", "heat_rows", "rag"]

CELL_WIDTH = 150.0
CELL_HEIGHT = 58.0  # a KPI's name on up to two lines, then its attainment and factor
LABEL_WIDTH = 170.0
SCORE_WIDTH = 90.0
MAX_COLUMNS = 8
MAX_ROWS = 40


def _cell_text(name: str, detail: str, x: float, top: float) -> str:
    """A cell's KPI name in full where two lines of the cell hold it, and its figures."""
    lines = two_lines(name, CELL_WIDTH - 12, 10.5)
    if not lines[-1].endswith("…"):
        first = top + (17 if len(lines) == 2 else 24)
        return text_block([*lines, detail], x, first, 10.5, line_height=1.3, css_class="cell-text")
    # A name two lines cannot hold: three smaller ones.
    lines = wrap(name, CELL_WIDTH - 10, 9.5, 3)
    return text_block([*lines, detail], x, top + 13, 9.5, line_height=1.22, css_class="cell-text")


"""Past this many rows the heat map shows the company, the shared goals and the lowest-scoring
departments, and one row summarising the others' cells."""


def rag(result: Mapping[str, Any] | None) -> str:
    """green | amber | red | grey for one KPI result (payout factor first, else attainment)."""
    if not result:
        return "grey"
    factor = result.get("payout_factor")
    if isinstance(factor, int | float) and not isinstance(factor, bool):
        if factor >= 1.0 - 1e-9:
            return "green"
        return "amber" if factor > 0 else "red"
    attainment = result.get("attainment")
    if isinstance(attainment, int | float) and not isinstance(attainment, bool):
        if attainment >= 1.0 - 1e-9:
            return "green"
        return "amber" if attainment >= 0.9 else "red"
    return "grey"


def heat_rows(plan: Plan) -> list[tuple[str, str, list[Kpi]]]:
    """(scope key, row label, KPIs) in plan order; rows without KPIs are left out."""
    rows: list[tuple[str, str, list[Kpi]]] = []
    if plan.company_kpis:
        rows.append(("company", _("Company"), list(plan.company_kpis)))
    for department in plan.departments:
        if department.kpis:
            rows.append((department.id, department.name or department.id, list(department.kpis)))
    if plan.shared_goals:
        rows.append(("shared", _("Shared goals"), list(plan.shared_goals)))
    return rows


def _shown(value: Any) -> str:
    return (
        readable(value) if isinstance(value, int | float) and not isinstance(value, bool) else "–"
    )


def _percent(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value * 100:.0f}%"
    return "–"


def _factor(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:.2f}"
    return "–"


def heat_map(plan: Plan, score: Mapping[str, Any]) -> str:
    """One ``<svg>`` with a ``rect.rag-cell`` per KPI of the plan."""
    results = {str(r.get("kpi")): r for r in score.get("kpis") or [] if isinstance(r, Mapping)}
    departments = {
        str(d.get("department")): d
        for d in score.get("departments") or []
        if isinstance(d, Mapping)
    }
    rows = heat_rows(plan)
    rows, rest = _capped(rows, departments, results)
    columns = min(MAX_COLUMNS, max((len(kpis) for _, _, kpis in rows), default=1))
    width = LABEL_WIDTH + columns * CELL_WIDTH + SCORE_WIDTH + 10
    parts: list[str] = []
    y = 30.0
    parts.append(
        text_block([_("score")], width - SCORE_WIDTH / 2 - 5, 20, 11, css_class="axis-label")
    )
    for scope, label, kpis in rows:
        lines = (len(kpis) + columns - 1) // columns
        row_height = lines * CELL_HEIGHT
        # Wrapped onto two lines, not cut: "Human Resources 人力资源部" keeps its Chinese half.
        label_lines = wrap(label, LABEL_WIDTH - 16, 13, 2)
        parts.append(
            text_block(
                label_lines,
                LABEL_WIDTH - 10,
                y + min(row_height, CELL_HEIGHT) / 2 + 4 - (8 if len(label_lines) > 1 else 0),
                13,
                anchor="end",
                css_class="row-label",
                weight="600",
            )
        )
        for index, kpi in enumerate(kpis):
            x = LABEL_WIDTH + (index % columns) * CELL_WIDTH
            top = y + (index // columns) * CELL_HEIGHT
            result = results.get(kpi.id)
            colour = rag(result)
            detail = _("no result")
            if result:
                detail = (
                    f"{_('att')} {_percent(result.get('attainment'))} · "
                    f"{_('f')} {_factor(result.get('payout_factor'))}"
                )
            tooltip = f"{kpi.id}: {kpi.name}; " + _("actual {actual}, target {target}").format(
                actual=_shown(result.get("actual") if result else None), target=_shown(kpi.target)
            )
            tooltip += f"; {detail}"
            parts.append(
                element(
                    "g",
                    {"class": "rag", "data-kpi": kpi.id, "data-scope": scope},
                    element("title", {}, esc(tooltip))
                    + element(
                        "rect",
                        {
                            "class": f"rag-cell rag-{colour}",
                            "data-rag": colour,
                            "x": fmt(x + 2),
                            "y": fmt(top + 2),
                            "width": fmt(CELL_WIDTH - 4),
                            "height": fmt(CELL_HEIGHT - 4),
                            "rx": "4",
                        },
                    )
                    + _cell_text(kpi.name or kpi.id, detail, x + CELL_WIDTH / 2, top),
                )
            )
        department = departments.get(scope)
        if department is not None:
            parts.append(
                text_block(
                    [_factor(department.get("score"))],
                    width - SCORE_WIDTH / 2 - 5,
                    y + min(row_height, CELL_HEIGHT) / 2 + 5,
                    13,
                    css_class="row-score",
                    weight="600",
                )
            )
        y += row_height + 4
    if rest is not None:
        parts.append(
            element(
                "g",
                {"class": "rest-summary"},
                text_block([rest], LABEL_WIDTH - 10, y + 20, 13, anchor="start", css_class="note"),
            )
        )
        y += CELL_HEIGHT
    return element(
        "svg",
        {
            "class": "chart heat-map",
            "xmlns": "http://www.w3.org/2000/svg",
            "viewBox": f"0 0 {fmt(width)} {fmt(y + 6)}",
            "role": "img",
            "aria-label": _("KPI results by department"),
        },
        "".join(parts),
    )


def _capped(
    rows: list[tuple[str, str, list[Kpi]]],
    departments: Mapping[str, Mapping[str, Any]],
    results: Mapping[str, Mapping[str, Any]],
) -> tuple[list[tuple[str, str, list[Kpi]]], str | None]:
    """At most MAX_ROWS rows: the company, the shared goals and the lowest-scoring departments
    (the ones a reader looks for), in plan order; and a sentence counting the rest's cells."""
    if len(rows) <= MAX_ROWS:
        return rows, None
    fixed = {"company", "shared"}
    candidates = [row for row in rows if row[0] not in fixed]
    room = MAX_ROWS - (len(rows) - len(candidates))

    def score(row: tuple[str, str, list[Kpi]]) -> float:
        value = (departments.get(row[0]) or {}).get("score")
        return float(value) if isinstance(value, int | float) else float("inf")

    shown = {row[0] for row in sorted(candidates, key=score)[:room]}
    kept = [row for row in rows if row[0] in fixed or row[0] in shown]
    hidden = [row for row in candidates if row[0] not in shown]
    colours = {"green": 0, "amber": 0, "red": 0, "grey": 0}
    for _department, _label, kpis in hidden:
        for kpi in kpis:
            colours[rag(results.get(kpi.id))] += 1
    counted = ", ".join(f"{n:,} {c}" for c, n in colours.items() if n)
    return kept, (
        f"{len(hidden):,} more departments (the {len(shown)} lowest-scoring are shown): "
        f"{counted} KPI cells; kpis.csv and departments.csv list every one"
    )
