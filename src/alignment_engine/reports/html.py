"""``report.html``: one self-contained page for people (inline SVG and CSS, no scripts, nothing
fetched when viewed) with the strategy map, the conflict graph, a RAG heat map of KPI results,
payout distributions and the allocation before and after.

The page is a pure function of the plan and the ``--format json`` shapes of check, score and optimise
results (and, for scenarios, a comparison and a sweep table): the same inputs give the same
bytes. Nothing time-dependent is written unless ``generated_at`` is passed in.
"""

from __future__ import annotations

import inspect
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from alignment_engine import __version__
from alignment_engine.model import Plan
from alignment_engine.reports.allocations import allocation_chart
from alignment_engine.reports.conflict_graph import (
    SEVERITIES,
    conflict_graph,
    graph_findings,
    is_summarised,
)
from alignment_engine.reports.heatmap import heat_map
from alignment_engine.reports.payouts import payout_chart
from alignment_engine.reports.strategy_map import strategy_map
from alignment_engine.reports.svg import esc

__all__ = ["as_result_dict", "render_report", "write_report"]

FONTS = (
    '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", '
    '"Helvetica Neue", Arial, sans-serif'
)

CSS = """
:root { --ink: #1f2937; --muted: #6b7280; --line: #d1d5db; --paper: #ffffff;
  --critical: #7f1d1d; --high: #dc2626; --medium: #f59e0b; --low: #3b82f6;
  --green: #16a34a; --amber: #f59e0b; --red: #dc2626; --grey: #d1d5db; }
* { box-sizing: border-box; }
body { font-family: FONTS; color: var(--ink); background: #f3f4f6; margin: 0; line-height: 1.45; }
main { max-width: 1280px; margin: 0 auto; padding: 24px; }
header.page { background: #111827; color: #f9fafb; padding: 24px; }
header.page h1 { margin: 0 0 6px 0; font-size: 26px; }
header.page p { margin: 0; color: #d1d5db; }
section { background: var(--paper); border-radius: 10px; padding: 18px 22px; margin: 18px 0;
  box-shadow: 0 1px 3px rgba(0, 0, 0, 0.08); }
section h2 { margin: 0 0 4px 0; font-size: 20px; }
section p.note { color: var(--muted); margin: 0 0 12px 0; font-size: 14px; }
figure { margin: 8px 0; }
svg.chart { width: 100%; height: auto; display: block; font-family: FONTS; }
svg text { fill: var(--ink); }
.cards { display: flex; flex-wrap: wrap; gap: 12px; }
.card { flex: 1 1 180px; border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.card .value { font-size: 22px; font-weight: 600; }
.card .label { color: var(--muted); font-size: 13px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; margin: 8px 0 4px 0; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: #f9fafb; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.badge { display: inline-block; border-radius: 10px; padding: 1px 8px; color: #fff; font-size: 12px; }
.badge.severity-critical { background: var(--critical); }
.badge.severity-high { background: var(--high); }
.badge.severity-medium { background: var(--medium); color: #111827; }
.badge.severity-low { background: var(--low); }
.delta-up { color: var(--green); }
.delta-down { color: var(--red); }
/* strategy map */
.band { stroke: none; }
.band-financial { fill: #eef2ff; }
.band-customer { fill: #ecfeff; }
.band-internal_process { fill: #f0fdf4; }
.band-learning_growth { fill: #fefce8; }
.band-label { fill: #374151; }
.objective-box { fill: #ffffff; stroke: #4b5563; stroke-width: 1.2; }
.objective-box.horizon-short { stroke-dasharray: 5 3; }
.objective-id { fill: var(--muted); }
.objective-kpis { fill: #374151; }
.drive { fill: none; stroke: #6b7280; stroke-width: 1.4; opacity: 0.8; }
.drive-head { fill: #6b7280; }
/* conflict graph */
.node { fill: #e5e7eb; stroke: #374151; stroke-width: 1.5; }
.finding-edge, .legend { fill: none; stroke-width: 2.5; opacity: 0.85; }
.pair-edge { fill: none; opacity: 0.7; }
.conflict-graph .note { fill: var(--muted); stroke: none; }
.finding-edge .hub { stroke-width: 1; }
.severity-critical { stroke: var(--critical); }
.severity-critical .hub { fill: var(--critical); }
.severity-high { stroke: var(--high); }
.severity-high .hub { fill: var(--high); }
.severity-medium { stroke: var(--medium); }
.severity-medium .hub { fill: var(--medium); }
.severity-low { stroke: var(--low); stroke-dasharray: 4 3; }
.severity-low .hub { fill: var(--low); }
.legend text { stroke: none; }
/* heat map */
.rag-green { fill: #bbf7d0; stroke: var(--green); }
.rag-amber { fill: #fde68a; stroke: var(--amber); }
.rag-red { fill: #fecaca; stroke: var(--red); }
.rag-grey { fill: #f3f4f6; stroke: var(--grey); }
/* payouts and allocations */
.grid { stroke: #e5e7eb; stroke-width: 1; }
.axis-label, .stats { fill: var(--muted); }
.whisker { stroke: #374151; stroke-width: 1.5; }
.box { fill: #bfdbfe; stroke: #1d4ed8; stroke-width: 1.2; }
.median { stroke: #1e3a8a; stroke-width: 2.5; }
.payout-bar { fill: #60a5fa; }
.alloc-bar[data-kind="current"] { fill: #9ca3af; }
.alloc-bar[data-kind="proposed"] { fill: #2563eb; }
.alloc-bar[data-kind="demand"] { fill: #f59e0b; }
footer { color: var(--muted); font-size: 12px; text-align: center; padding: 12px 0 24px 0; }
@media print {
  @page { size: A4 landscape; margin: 12mm; }
  body { background: #ffffff; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  main { max-width: none; padding: 0; }
  header.page { background: #ffffff; color: #000000; border-bottom: 2px solid #000000; padding: 0 0 8px 0; }
  header.page p { color: #374151; }
  section { box-shadow: none; border: 1px solid #d1d5db; break-inside: avoid-page; page-break-inside: avoid; }
  section.long { break-inside: auto; page-break-inside: auto; }
  figure, svg.chart, tr { break-inside: avoid; page-break-inside: avoid; }
  thead { display: table-header-group; }
}
""".replace("FONTS", FONTS)

ResultLike = Mapping[str, Any] | Any


def as_result_dict(result: ResultLike | None) -> dict[str, Any] | None:
    """A result as its ``--format json`` shape: dicts as they are, engine results via ``to_dict()``
    (score results without per-employee explanations, which the page does not show)."""
    if result is None:
        return None
    if isinstance(result, Mapping):
        return dict(result)
    to_dict: Callable[..., dict[str, Any]] = result.to_dict
    try:
        parameters = inspect.signature(to_dict).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins without signatures
        return to_dict()
    if "explanations" in parameters:
        return to_dict(explanations="none")
    return to_dict()


def _number(value: Any, digits: int = 2) -> str:
    if isinstance(value, bool) or value is None:
        return "–"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if abs(value) >= 1000:
            return f"{value:,.{min(digits, 2)}f}"
        return f"{value:,.{digits}f}"
    return esc(value)


def _delta(value: Any, digits: int = 2, *, lower_is_better: bool = False) -> str:
    """A signed change, green when it is an improvement and red when not (a KPI where lower
    is better improves as it falls)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "–"
    better = -value if lower_is_better else value
    css = "delta-up" if better > 0 else "delta-down" if better < 0 else ""
    text = f"{value:+,.{digits}f}"
    return f'<span class="{css}">{esc(text)}</span>' if css else esc(text)


def _table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[int] = ()
) -> str:
    """A table; cells are HTML already (callers escape text with ``esc``)."""
    head = "".join(
        f'<th class="num">{esc(h)}</th>' if i in numeric else f"<th>{esc(h)}</th>"
        for i, h in enumerate(headers)
    )
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{cell}</td>' if i in numeric else f"<td>{cell}</td>"
            for i, cell in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _badge(severity: Any) -> str:
    name = str(severity)
    css = name if name in SEVERITIES else "low"
    return f'<span class="badge severity-{css}">{esc(name)}</span>'


def _list(values: Any) -> str:
    return esc(", ".join(str(v) for v in values or ()))


def _section(anchor: str, title: str, note: str, body: str, *, long: bool = False) -> str:
    css = ' class="long"' if long else ""
    note_html = f'<p class="note">{esc(note)}</p>' if note else ""
    return f'<section id="{esc(anchor)}"{css}><h2>{esc(title)}</h2>{note_html}{body}</section>'


def _figure(svg: str) -> str:
    return f"<figure>{svg}</figure>"


def _cards(
    plan: Plan,
    check: Mapping[str, Any] | None,
    score: Mapping[str, Any] | None,
    optimise: Mapping[str, Any] | None,
) -> str:
    cards = [
        ("Objectives", str(len(plan.objectives))),
        ("Departments", str(len(plan.departments))),
        ("KPIs and shared goals", str(sum(1 for _ in plan.kpis()))),
    ]
    if check is not None:
        findings = check.get("findings") or []
        by_severity = [
            f"{sum(1 for f in findings if f.get('severity') == s)} {s}" for s in SEVERITIES
        ]
        cards.append((f"Findings ({', '.join(by_severity)})", str(len(findings))))
    if score is not None:
        totals = score.get("totals") or {}
        currency = totals.get("currency") or plan.currency
        cards.append((f"Total payout ({currency})", _number(totals.get("payout"))))
        if totals.get("pool") is not None:
            cards.append((f"Bonus pool ({currency})", _number(totals.get("pool"))))
            cards.append(("Pool scale", _number(totals.get("scale"), 3)))
        cards.append(("Employees paid", _number(len(score.get("employees") or []))))
    if optimise is not None:
        cards.append(
            (
                f"Optimiser ({esc(optimise.get('status', ''))}) objective",
                _number(optimise.get("objective"), 4),
            )
        )
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card"><div class="value">{value}</div><div class="label">{esc(label)}</div></div>'
            for label, value in cards
        )
        + "</div>"
    )


TABLE_FINDINGS = 200
"""Findings listed in the page at most (the most severe first); check.json has all of them."""


def _capped_findings(findings: Sequence[Mapping[str, Any]]) -> str:
    if not findings:
        return '<p class="note">No findings.</p>'
    if len(findings) <= TABLE_FINDINGS:
        return _findings_table(findings)
    rank = {severity: index for index, severity in enumerate(SEVERITIES)}
    shown = sorted(
        findings,
        key=lambda f: (
            rank.get(str(f.get("severity")), len(rank)),
            -len(f.get("kpis") or ()) - len(f.get("departments") or ()),
        ),
    )[:TABLE_FINDINGS]
    return _findings_table(shown) + (
        f'<p class="note">The {TABLE_FINDINGS} most severe and broadest of {len(findings):,} '
        "findings. Every finding, with every department and KPI: <code>alignment-engine check "
        "--format json</code>, or <code>runs show</code> on the stored check run.</p>"
    )


def _findings_table(findings: Sequence[Mapping[str, Any]]) -> str:
    rows = [
        [
            _badge(f.get("severity")),
            esc(f.get("rule", "")),
            esc(f.get("kind", "")),
            _list(f.get("departments")),
            _list(f.get("kpis")),
            esc(f.get("message", "")),
            esc(f.get("suggestion") or ""),
        ]
        for f in findings
    ]
    return _table(
        ["severity", "rule", "kind", "departments", "KPIs", "finding", "suggestion"], rows
    )


TABLE_DEPARTMENTS = 200
"""Departments listed in the page at most (the lowest-scoring); departments.csv has all."""


def _department_table(score: Mapping[str, Any]) -> str:
    departments = list(score.get("departments") or [])
    note = ""
    if len(departments) > TABLE_DEPARTMENTS:

        def low(d: Mapping[str, Any]) -> float:
            value = d.get("score")
            return float(value) if isinstance(value, int | float) else float("inf")

        kept = {id(d) for d in sorted(departments, key=low)[:TABLE_DEPARTMENTS]}
        note = (
            f'<p class="note">The {TABLE_DEPARTMENTS} lowest-scoring of {len(departments):,} '
            "departments; departments.csv lists every one.</p>"
        )
        departments = [d for d in departments if id(d) in kept]
    rows = [
        [
            esc(d.get("department", "")),
            _number(d.get("score"), 3),
            _number(d.get("payout_factor"), 3),
            _number(d.get("employees")),
            _number(d.get("payout")),
            _list(d.get("gates")),
        ]
        for d in departments
    ]
    return (
        _table(
            ["department", "score", "payout factor", "employees", "payout", "gates"],
            rows,
            (1, 2, 3, 4),
        )
        + note
    )


def _lower_is_better(plan: Plan) -> set[str]:
    """The KPIs (and shared goals) that improve as they fall: ``decrease``, or no direction
    on a lower-is-better metric."""
    better = {m.id: str(m.better) for m in plan.metrics}
    found = set()
    for _, kpi in plan.kpis():
        direction = str(kpi.direction) if kpi.direction is not None else None
        if direction == "decrease" or (direction is None and better.get(kpi.metric) == "lower"):
            found.add(kpi.id)
    return found


def _predicted_table(optimise: Mapping[str, Any], lower_is_better: set[str]) -> str:
    rows = [
        [
            esc(p.get("kpi", "")),
            _number(p.get("current"), 4),
            _number(p.get("proposed"), 4),
            _delta(
                p["proposed"] - p["current"]
                if isinstance(p.get("proposed"), int | float)
                and isinstance(p.get("current"), int | float)
                else None,
                4,
                lower_is_better=p.get("kpi") in lower_is_better,
            ),
        ]
        for p in optimise.get("predicted") or []
    ]
    if not rows:
        return ""
    return _table(["KPI", "predicted today", "predicted after", "change"], rows, (1, 2, 3))


def _comparison(compare: Mapping[str, Any]) -> str:
    findings = compare.get("findings") or {}
    parts = []
    for key, title in (("added", "Findings added"), ("resolved", "Findings resolved")):
        items = findings.get(key) or []
        parts.append(f"<h3>{esc(title)} ({len(items)})</h3>")
        parts.append(_findings_table(items) if items else '<p class="note">None.</p>')
    changed = findings.get("changed") or []
    if changed:
        parts.append(f"<h3>Severity changed ({len(changed)})</h3>")
        parts.append(
            _table(
                ["rule", "departments", "KPIs", "before", "after"],
                [
                    [
                        esc(c.get("rule", "")),
                        _list(c.get("departments")),
                        _list(c.get("kpis")),
                        _badge(c.get("severity_before")),
                        _badge(c.get("severity_after")),
                    ]
                    for c in changed
                ],
            )
        )
    scores = [
        s for s in compare.get("scores") or [] if s.get("delta") or s.get("payout_factor_delta")
    ]
    if scores:
        parts.append("<h3>Score changes</h3>")
        parts.append(
            _table(
                [
                    "department",
                    "score before",
                    "after",
                    "change",
                    "factor before",
                    "after",
                    "change",
                ],
                [
                    [
                        esc(s.get("department", "")),
                        _number(s.get("before"), 3),
                        _number(s.get("after"), 3),
                        _delta(s.get("delta"), 3),
                        _number(s.get("payout_factor_before"), 3),
                        _number(s.get("payout_factor_after"), 3),
                        _delta(s.get("payout_factor_delta"), 3),
                    ]
                    for s in scores
                ],
                (1, 2, 3, 4, 5, 6),
            )
        )
    payouts = [p for p in compare.get("payouts") or [] if p.get("delta")]
    if payouts:
        parts.append("<h3>Payout changes</h3>")
        parts.append(
            _table(
                ["department", "before", "after", "change"],
                [
                    [
                        esc(p.get("department", "")),
                        _number(p.get("before")),
                        _number(p.get("after")),
                        _delta(p.get("delta")),
                    ]
                    for p in payouts
                ],
                (1, 2, 3),
            )
        )
    allocations = [
        a
        for a in compare.get("allocations") or []
        if a.get("current_delta") or a.get("proposed_delta")
    ]
    if allocations:
        parts.append("<h3>Allocation changes</h3>")
        parts.append(
            _table(
                ["resource", "department", "today before", "after", "proposed before", "after"],
                [
                    [
                        esc(a.get("resource", "")),
                        esc(a.get("department", "")),
                        _number(a.get("current_before")),
                        _number(a.get("current_after")),
                        _number(a.get("proposed_before")),
                        _number(a.get("proposed_after")),
                    ]
                    for a in allocations
                ],
                (2, 3, 4, 5),
            )
        )
    return "".join(parts)


def _sweep_table(rows: Sequence[Mapping[str, Any]]) -> str:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    numeric = tuple(
        i
        for i, column in enumerate(columns)
        if all(isinstance(r.get(column), int | float) or r.get(column) is None for r in rows)
    )
    return _table(
        columns,
        [
            [
                _number(r.get(c), 4) if i in numeric else esc(r.get(c, ""))
                for i, c in enumerate(columns)
            ]
            for r in rows
        ],
        numeric,
    )


def render_report(
    *,
    plan: Plan,
    check: ResultLike | None = None,
    score: ResultLike | None = None,
    optimise: ResultLike | None = None,
    compare: Mapping[str, Any] | None = None,
    sweep: Sequence[Mapping[str, Any]] | None = None,
    title: str | None = None,
    subtitle: str | None = None,
    generated_at: str | None = None,
) -> str:
    """The whole page as text."""
    check_d, score_d, optimise_d = (
        as_result_dict(check),
        as_result_dict(score),
        as_result_dict(optimise),
    )
    heading = title or f"{plan.name or plan.id}: alignment report"
    meta = [f"plan {plan.id}", plan.currency]
    if plan.fiscal_year is not None:
        meta.append(f"fiscal year {plan.fiscal_year}")
    if score_d is not None:
        meta.append(f"period {score_d.get('period', '')}")
        if score_d.get("policy"):
            meta.append(f"policy {score_d['policy']}")
        if score_d.get("run_id"):
            meta.append(f"run {score_d['run_id']}")
    if generated_at:
        meta.append(f"generated {generated_at}")
    if subtitle:
        meta.insert(0, subtitle)
    sections = [
        _section("summary", "Summary", "", _cards(plan, check_d, score_d, optimise_d)),
        _section(
            "strategy-map",
            "Strategy map",
            "Objectives by perspective; arrows show what drives what; each box lists the KPIs "
            "and shared goals that serve the objective (dashed boxes: short-term objectives).",
            _figure(strategy_map(plan)),
        ),
    ]
    if check_d is not None:
        findings = list(check_d.get("findings") or [])
        drawn = len(graph_findings(plan, findings))
        if is_summarised(plan, findings):
            caption = (
                f"{len(findings):,} findings; {drawn:,} involve departments. The graph shows the "
                "departments named in most findings, joined where they share findings (thicker: "
                "more). Hover a line or a department for its count."
            )
        else:
            caption = (
                f"{len(findings)} findings; {drawn} involve departments and are drawn as edges "
                "(a loop for one department, a hub for three or more). Hover an edge for details."
            )
        sections.append(
            _section(
                "conflicts",
                "Conflicts and alignment findings",
                caption,
                _figure(conflict_graph(plan, findings)) + _capped_findings(findings),
                long=True,
            )
        )
    if score_d is not None:
        sections.append(
            _section(
                "results",
                "KPI results",
                "Green: at or above target; amber: between threshold and target; red: below "
                "threshold; grey: no result. Each cell shows attainment and payout factor.",
                _figure(heat_map(plan, score_d)) + _department_table(score_d),
                long=True,
            )
        )
        currency = str((score_d.get("totals") or {}).get("currency") or plan.currency)
        sections.append(
            _section(
                "payouts",
                "Payout distribution",
                f"Employee payouts per department ({currency}): whiskers from lowest to highest, "
                "the box from the first to the third quartile, the line at the median.",
                _figure(payout_chart(plan, score_d, currency)),
            )
        )
    if optimise_d is not None or plan.resources:
        note = (
            f"Today's allocation and the optimiser's proposal (status: {optimise_d.get('status')})."
            if optimise_d is not None and optimise_d.get("allocations")
            else "Today's allocation beside each department's demand (no proposal was computed)."
        )
        if optimise_d is not None and optimise_d.get("message"):
            note += f" {optimise_d['message']}"
        body = _figure(allocation_chart(plan, optimise_d))
        if optimise_d is not None:
            body += _predicted_table(optimise_d, _lower_is_better(plan))
        sections.append(_section("allocations", "Resource allocation", note, body, long=True))
    if compare is not None:
        sections.append(
            _section(
                "comparison",
                "What changed",
                "Against the base: findings the changes add and resolve, and the deltas of "
                "scores, payouts and allocations.",
                _comparison(compare),
                long=True,
            )
        )
    if sweep:
        sections.append(
            _section("sweep", "Sweep", "One run per value.", _sweep_table(sweep), long=True)
        )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(heading)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f'<header class="page"><h1>{esc(heading)}</h1><p>{esc(" · ".join(meta))}</p></header>\n'
        "<main>\n" + "\n".join(sections) + "\n</main>\n"
        f"<footer>alignment-engine {esc(__version__)}</footer>\n</body>\n</html>\n"
    )


def write_report(
    path: str | Path,
    *,
    plan: Plan,
    check: ResultLike | None = None,
    score: ResultLike | None = None,
    optimise: ResultLike | None = None,
    compare: Mapping[str, Any] | None = None,
    sweep: Sequence[Mapping[str, Any]] | None = None,
    title: str | None = None,
    subtitle: str | None = None,
    generated_at: str | None = None,
) -> Path:
    """Write the page to ``path`` atomically (a temporary file beside it, then a rename), so a
    reader never sees half a report. Returns the path written."""
    text = render_report(
        plan=plan,
        check=check,
        score=score,
        optimise=optimise,
        compare=compare,
        sweep=sweep,
        title=title,
        subtitle=subtitle,
        generated_at=generated_at,
    )
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
    )
    try:
        Path(temporary).chmod(0o644)  # mkstemp makes files private; a report is for reading
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        Path(temporary).replace(target)  # os.replace: atomic on one file system
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target
