"""``report.html``: one self-contained page for people (inline SVG and CSS, no scripts, nothing
fetched when viewed) with the strategy map, the conflict graph, a RAG heat map of KPI results,
payout distributions and the allocation before and after.

The markup is in Jinja2 templates beside this module (``templates/``: the page, its CSS and the
parts this module assembles), rendered with autoescape: text from plans and results is escaped
wherever it lands, and only the hand-made SVG charts and the templates' own parts are passed in
as markup. Escaping is ``reports.svg.esc`` (the standard library's, quotes included) everywhere,
so the page and the charts in it escape alike.

The page is a pure function of the plan and the ``--format json`` shapes of check, score and optimise
results (and, for scenarios, a comparison and a sweep table): the same inputs give the same
bytes. Nothing time-dependent is written unless ``generated_at`` is passed in.
"""

from __future__ import annotations

import inspect
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from alignment_engine import __version__
from alignment_engine.i18n import _, current
from alignment_engine.model import Plan
from alignment_engine.model.findings import shown_texts
from alignment_engine.reports.allocations import allocation_chart
from alignment_engine.reports.conflict_graph import (
    SEVERITIES,
    conflict_graph,
    graph_findings,
    is_summarised,
)
from alignment_engine.reports.heatmap import heat_map
from alignment_engine.reports.payouts import payout_chart
from alignment_engine.reports.phrases import page_title
from alignment_engine.reports.scorecard import perspective_heat_map, sparkline
from alignment_engine.reports.strategy_map import PERSPECTIVES, strategy_map
from alignment_engine.reports.svg import esc

__all__ = ["as_result_dict", "render_report", "write_report"]

FONTS = (
    '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", '
    '"Helvetica Neue", Arial, sans-serif'
)


ResultLike = Mapping[str, Any] | Any


def _escaped(value: Any) -> Any:
    """Jinja2's ``finalize``: text escaped as the charts escape it, markup left alone."""
    return value if hasattr(value, "__html__") else Markup(esc(value))


@cache
def _templates() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("alignment_engine.reports", "templates"),
        autoescape=True,
        finalize=_escaped,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        auto_reload=False,  # templates ship with the package: no file check per render
    )
    environment.globals["_"] = _  # the language of the rendering, looked up at each call
    return environment


def page_templates() -> jinja2.Environment:
    """The templates of the pages this package writes (report.html, payee statements), with
    the escaping every page shares."""
    return _templates()


@cache
def _parts() -> Any:
    return _templates().get_template("parts.html.j2").module


def _part(macro: str, *arguments: Any) -> Markup:
    """One macro of ``templates/parts.html.j2``: text arguments escaped, Markup ones kept."""
    return Markup(getattr(_parts(), macro)(*arguments))


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
    return str(value)


def _delta(value: Any, digits: int = 2, *, lower_is_better: bool = False) -> Markup | str:
    """A signed change, green when it is an improvement and red when not (a KPI where lower
    is better improves as it falls)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "–"
    better = -value if lower_is_better else value
    css = "delta-up" if better > 0 else "delta-down" if better < 0 else ""
    return _part("delta", css, f"{value:+,.{digits}f}")


def _table(
    headers: Sequence[str], rows: Sequence[Sequence[Any]], numeric: Sequence[int] = ()
) -> Markup:
    """A table: text cells are escaped, Markup cells (badges, deltas) kept; headers in the
    report's language."""
    return _part("table", [_(h) if h else h for h in headers], rows, tuple(numeric))


def _badge(severity: Any) -> Markup:
    name = str(severity)
    return _part("badge", name if name in SEVERITIES else "low", _(name))


def _list(values: Any) -> str:
    return ", ".join(str(v) for v in values or ())


def _section(
    anchor: str, title: str, note: str, body: Markup, *, long: bool = False
) -> dict[str, Any]:
    """A section for the page template; ``body`` is markup already (its text escaped).
    ``title`` is translated here; ``note`` comes translated (figures put in after)."""
    return {"anchor": anchor, "title": _(title), "note": note, "body": body, "long": long}


def _figure(svg: str) -> Markup:
    return _part("figure", Markup(svg))


def _cards(
    plan: Plan,
    check: Mapping[str, Any] | None,
    score: Mapping[str, Any] | None,
    optimise: Mapping[str, Any] | None,
) -> Markup:
    cards = [
        (_("Objectives"), str(len(plan.objectives))),
        (_("Departments"), str(len(plan.departments))),
        (_("KPIs and shared goals"), str(sum(1 for _kpi in plan.kpis()))),
    ]
    if check is not None:
        findings = check.get("findings") or []
        by_severity = [
            f"{sum(1 for f in findings if f.get('severity') == s)} {_(s)}" for s in SEVERITIES
        ]
        cards.append(
            (_("Findings ({counts})").format(counts=_(", ").join(by_severity)), str(len(findings)))
        )
    if score is not None:
        totals = score.get("totals") or {}
        currency = totals.get("currency") or plan.currency
        cards.append(
            (
                _("Total payout ({currency})").format(currency=currency),
                _number(totals.get("payout")),
            )
        )
        if totals.get("pool") is not None:
            cards.append(
                (
                    _("Bonus pool ({currency})").format(currency=currency),
                    _number(totals.get("pool")),
                )
            )
            cards.append((_("Pool scale"), _number(totals.get("scale"), 3)))
        cards.append((_("Employees paid"), _number(len(score.get("employees") or []))))
    if optimise is not None:
        # The optimiser's objective is a weighted sum no one reads; the departments' mean
        # performance (share of target) before and after says what the proposal does.
        departments = [
            d
            for d in optimise.get("departments") or []
            if isinstance(d.get("current"), int | float)
            and isinstance(d.get("proposed"), int | float)
        ]
        if departments:
            today = sum(float(d["current"]) for d in departments) / len(departments)
            after = sum(float(d["proposed"]) for d in departments) / len(departments)
            cards.append(
                (
                    _("Mean department performance, today -> proposed"),
                    f"{today:.1%} -> {after:.1%}",
                )
            )
    return _part("cards", cards)


TABLE_FINDINGS = 200
"""Findings listed in the page at most (the most severe first); check.json has all of them."""


def _capped_findings(
    findings: Sequence[Mapping[str, Any]], names: Mapping[str, str] | None = None
) -> Markup:
    if not findings:
        return _part("note", _("No findings."))
    if len(findings) <= TABLE_FINDINGS:
        return _findings_table(findings, names)
    rank = {severity: index for index, severity in enumerate(SEVERITIES)}
    shown = sorted(
        findings,
        key=lambda f: (
            rank.get(str(f.get("severity")), len(rank)),
            -len(f.get("kpis") or ()) - len(f.get("departments") or ()),
        ),
    )[:TABLE_FINDINGS]
    return _findings_table(shown, names) + _part(
        "capped_findings", TABLE_FINDINGS, f"{len(findings):,}"
    )


def _findings_table(
    findings: Sequence[Mapping[str, Any]], names: Mapping[str, str] | None = None
) -> Markup:
    """Findings with their departments by display name (``names``: id -> name)."""
    shown = names or {}
    language = current()
    rows = [
        [
            _badge(f.get("severity")),
            f.get("rule", ""),
            _(str(f.get("kind", ""))) if f.get("kind") else "",
            _list(shown.get(str(d), d) for d in f.get("departments") or ()),
            _list(f.get("kpis")),
            *shown_texts(f, language),
        ]
        for f in findings
    ]
    return _table(
        ["severity", "rule", "kind", "departments", "KPIs", "finding", "suggestion"], rows
    )


TABLE_DEPARTMENTS = 200
"""Departments listed in the page at most (the lowest-scoring); departments.csv has all."""


def _department_table(score: Mapping[str, Any], names: Mapping[str, str]) -> Markup:
    """Departments by their display names (HR knows "Human Resources 人力资源部", not "hr")."""
    departments = list(score.get("departments") or [])
    note = ""
    if len(departments) > TABLE_DEPARTMENTS:

        def low(d: Mapping[str, Any]) -> float:
            value = d.get("score")
            return float(value) if isinstance(value, int | float) else float("inf")

        kept = {id(d) for d in sorted(departments, key=low)[:TABLE_DEPARTMENTS]}
        note = _part(
            "note",
            _(
                "The {shown} lowest-scoring of {total} departments; departments.csv lists "
                "every one."
            ).format(shown=TABLE_DEPARTMENTS, total=f"{len(departments):,}"),
        )
        departments = [d for d in departments if id(d) in kept]
    rows = [
        [
            names.get(str(d.get("department", "")), str(d.get("department", ""))),
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
    for _scope, kpi in plan.kpis():
        direction = str(kpi.direction) if kpi.direction is not None else None
        if direction == "decrease" or (direction is None and better.get(kpi.metric) == "lower"):
            found.add(kpi.id)
    return found


PREDICTION_NOISE = 1e-9
"""A predicted change smaller than this share of the KPI's value is no change."""


def _changes(prediction: Mapping[str, Any]) -> bool:
    current, proposed = prediction.get("current"), prediction.get("proposed")
    if not isinstance(current, int | float) or not isinstance(proposed, int | float):
        return False
    return abs(proposed - current) > PREDICTION_NOISE * max(1.0, abs(current))


def _predicted_table(
    optimise: Mapping[str, Any], lower_is_better: set[str], names: Mapping[str, str]
) -> Markup:
    """Only the KPIs the proposal moves (a table of unchanged KPIs hid the few that do)."""
    predicted = list(optimise.get("predicted") or [])
    moved = [p for p in predicted if _changes(p)]
    if predicted and not moved:
        return _part("note", _("The proposal changes no KPI's predicted value."))
    rows = [
        [
            names.get(str(p.get("kpi", "")), str(p.get("kpi", ""))),
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
        for p in moved
    ]
    if not rows:
        return Markup("")
    unchanged = len(predicted) - len(moved)
    table = _table(["KPI", "predicted today", "predicted after", "change"], rows, (1, 2, 3))
    if unchanged:
        table += _part(
            "note",
            _(
                "{count} other KPIs keep their predicted value (optimise --format json lists "
                "every KPI)."
            ).format(count=f"{unchanged:,}"),
        )
    return table


def _comparison(compare: Mapping[str, Any], names: Mapping[str, str] | None = None) -> Markup:
    findings = compare.get("findings") or {}
    parts: list[Markup] = []
    for key, title in (("added", _("Findings added")), ("resolved", _("Findings resolved"))):
        items = findings.get(key) or []
        parts.append(_part("heading", f"{title} ({len(items)})"))
        parts.append(_findings_table(items, names) if items else _part("note", _("None.")))
    changed = findings.get("changed") or []
    if changed:
        parts.append(_part("heading", f"{_('Severity changed')} ({len(changed)})"))
        parts.append(
            _table(
                ["rule", "departments", "KPIs", "before", "after"],
                [
                    [
                        c.get("rule", ""),
                        _list(c.get("departments")),
                        _list(c.get("kpis")),
                        _badge(c.get("severity_before")),
                        _badge(c.get("severity_after")),
                    ]
                    for c in changed
                ],
            )
        )
    scorecard = compare.get("scorecard")
    if scorecard:
        rows = [{"perspective": "overall", **scorecard["overall"]}, *scorecard["perspectives"]]
        parts.append(_part("heading", _("Scorecard: base and forecast")))
        parts.append(
            _table(
                ["", "before", "after", "change", "status before", "status after"],
                [
                    [
                        _perspective(r["perspective"]),
                        _percent(r.get("before")),
                        _percent(r.get("after")),
                        _delta(r.get("delta"), 3),
                        _status(r.get("status_before") or "no-data"),
                        _status(r.get("status_after") or "no-data"),
                    ]
                    for r in rows
                ],
                (1, 2, 3),
            )
        )
    scores = [
        s for s in compare.get("scores") or [] if s.get("delta") or s.get("payout_factor_delta")
    ]
    if scores:
        parts.append(_part("heading", _("Score changes")))
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
                        s.get("department", ""),
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
        parts.append(_part("heading", _("Payout changes")))
        parts.append(
            _table(
                ["department", "before", "after", "change"],
                [
                    [
                        p.get("department", ""),
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
        parts.append(_part("heading", _("Allocation changes")))
        parts.append(
            _table(
                ["resource", "department", "today before", "after", "proposed before", "after"],
                [
                    [
                        a.get("resource", ""),
                        a.get("department", ""),
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
    return Markup("").join(parts)


_STATUS_COLUMNS = frozenset({"optimise_status", "scorecard_status"})
"""Sweep columns holding a status word (optimal, amber): shown in the page's language."""


def _sweep_table(rows: Sequence[Mapping[str, Any]]) -> Markup:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    numeric = tuple(
        i
        for i, column in enumerate(columns)
        if all(isinstance(r.get(column), int | float) or r.get(column) is None for r in rows)
    )

    def cell(row: Mapping[str, Any], index: int, column: str) -> Any:
        if index in numeric:
            return _number(row.get(column), 4)
        value = row.get(column, "")
        if column in _STATUS_COLUMNS and isinstance(value, str) and value:
            return _(value)
        return value

    return _table(
        columns,  # the keys of the JSON table, translated as headers by _table
        [[cell(r, i, c) for i, c in enumerate(columns)] for r in rows],
        numeric,
    )


def _scorecard_cards(scorecard: Mapping[str, Any]) -> Markup:
    def shown(item: Mapping[str, Any]) -> str:
        score = item.get("score")
        status = _(str(item.get("status", "")))
        text = status if score is None else f"{score:.1%} {status}"
        change = item.get("change")
        return text if change is None else f"{text} ({change:+.1%})"

    cards = [(_("Overall"), shown(scorecard.get("overall") or {}))]
    cards += [
        (_perspective(p.get("perspective", ""), capital=True), shown(p))
        for p in scorecard.get("perspectives", [])
    ]
    return _part("cards", cards)


def _perspective(perspective: Any, *, capital: bool = False) -> str:
    """A scorecard perspective (``internal_process``, ``overall``) by its name in the page's
    language: "internal process" (or "Internal process" with ``capital``) in English."""
    key = str(perspective)
    if current() == "en":
        shown = key.replace("_", " ")
        return shown.capitalize() if capital else shown
    if key == "overall":
        return _("Overall")
    label = dict(PERSPECTIVES).get(key)
    return _(label) if label is not None else key


def _status(status: Any) -> Markup:
    return _part("status", str(status), _(str(status)))


def _percent(value: Any) -> str:
    return "–" if not isinstance(value, int | float) or isinstance(value, bool) else f"{value:.1%}"


def _scorecard_sections(
    plan: Plan, scorecard: Mapping[str, Any], history: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    trend = scorecard.get("compared_with") is not None
    extra = ["change"] if trend else []
    periods = [str(h.get("period")) for h in history] + [str(scorecard.get("period"))]
    lines = ["trend"] if history else []

    def trend_line(kpi: str, score: Any) -> list[Markup]:
        if not history:
            return []
        values = [(h.get("scores") or {}).get(f"kpi:{kpi}") for h in history] + [score]
        return [Markup(sparkline(values, periods))]

    # People read names; an id stays where the plan gives no name.
    objective_names = {o.id: o.name for o in plan.objectives if o.name}
    kpi_names = {kpi.id: kpi.name for _scope, kpi in plan.kpis() if kpi.name}
    scope_names = plan.department_names() | {g.id: g.name for g in plan.shared_goals if g.name}

    def names(ids: Any, known: Mapping[str, str]) -> str:
        return _list(known.get(str(i), str(i)) for i in ids or ())

    objective_rows = [
        [
            objective_names.get(o["objective"], o["objective"]),
            _perspective(o["perspective"]),
            _percent(o.get("score")),
            _status(o.get("status")),
            *([_delta(o.get("change"), 3)] if trend else []),
            names(o.get("kpis"), kpi_names),
        ]
        for o in scorecard.get("objectives", [])
    ]
    kpi_rows = [
        [
            _("company") if k["scope"] == "company" else names([k["scope"]], scope_names),
            kpi_names.get(k["kpi"], k["kpi"]),
            _number(k.get("actual"), 4),
            _number(k.get("target"), 4),
            _percent(k.get("attainment")),
            _percent(k.get("score")),
            _status(k.get("status")),
            *([_delta(k.get("change"), 3)] if trend else []),
            *trend_line(k["kpi"], k.get("score")),
        ]
        for k in scorecard.get("kpis", [])
    ]
    since = (
        " "
        + _("Change: against {period} (run {run}).").format(
            period=scorecard["compared_with"].get("period"),
            run=scorecard["compared_with"].get("run_id"),
        )
        if trend
        else ""
    )
    return [
        _section(
            "scorecard",
            "Scorecard by perspective and department",
            _(
                "Each cell: the share-weighted score of the department's own KPIs serving the "
                "perspective's objectives (departments under their parent unit)."
            )
            + since,
            _figure(perspective_heat_map(plan, scorecard))
            + _table(
                ["objective", "perspective", "score", "status", *extra, "KPIs"],
                objective_rows,
                (2,),
            ),
            long=True,
        ),
        _section(
            "scorecard-kpis",
            "KPI scores",
            _(
                "Score: attainment (actual against target, by the KPI's direction) between 0 "
                "and {cap}."
            ).format(cap=f"{plan.scorecard.cap:g}"),
            _table(
                [
                    "scope",
                    "KPI",
                    "actual",
                    "target",
                    "attainment",
                    "score",
                    "status",
                    *extra,
                    *lines,
                ],
                kpi_rows,
                (2, 3, 4, 5),
            ),
            long=True,
        ),
    ]


def render_report(
    *,
    plan: Plan,
    check: ResultLike | None = None,
    score: ResultLike | None = None,
    optimise: ResultLike | None = None,
    compare: Mapping[str, Any] | None = None,
    sweep: Sequence[Mapping[str, Any]] | None = None,
    scorecard: Mapping[str, Any] | None = None,
    scorecard_history: Sequence[Mapping[str, Any]] = (),
    title: str | None = None,
    subtitle: str | None = None,
    generated_at: str | None = None,
) -> str:
    """The whole page as text. ``scorecard_history``: the stored scorecards of the periods
    before ``scorecard``'s, oldest first (``{"period", "scores"}``), for the KPIs' trend lines."""
    check_d, score_d, optimise_d = (
        as_result_dict(check),
        as_result_dict(score),
        as_result_dict(optimise),
    )
    heading = (
        page_title(title)
        if title
        else _("{plan}: alignment report").format(plan=plan.name or plan.id)
    )
    meta = [f"{_('plan')} {plan.id}", plan.currency]
    if plan.fiscal_year is not None:
        meta.append(f"{_('fiscal year')} {plan.fiscal_year}")
    if score_d is not None:
        meta.append(f"{_('period')} {score_d.get('period', '')}")
        if score_d.get("policy"):
            meta.append(f"{_('policy')} {score_d['policy']}")
        if score_d.get("run_id"):
            meta.append(f"{_('run')} {score_d['run_id']}")
    if scorecard is not None:
        meta.append(f"{_('scorecard')} {scorecard.get('period', '')}")
        if scorecard.get("department"):
            meta.append(f"{_('department')} {scorecard['department']}")
        if scorecard.get("run_id"):
            meta.append(f"{_('run')} {scorecard['run_id']}")
    if generated_at:
        meta.append(f"{_('generated')} {generated_at}")
    if subtitle:
        meta.insert(0, subtitle)
    map_note = _(
        "Objectives by perspective; arrows show what drives what; each box lists the KPIs "
        "and shared goals that serve the objective (dashed boxes: short-term objectives)."
    )
    if scorecard is None:
        summary = _cards(plan, check_d, score_d, optimise_d)
        drawn_map = strategy_map(plan)
    else:
        summary = _scorecard_cards(scorecard)
        drawn_map = strategy_map(
            plan,
            {o["objective"]: (o["score"], o["status"]) for o in scorecard.get("objectives", [])},
            {
                p["perspective"]: (p["score"], p["status"])
                for p in scorecard.get("perspectives", [])
            },
        )
        map_note += " " + _(
            "Coloured by the scorecard: green at or above target, amber from {amber}, red "
            "below, grey without data or not due this period."
        ).format(amber=f"{plan.scorecard.amber:.0%}")
    sections = [
        _section("summary", "Summary", "", summary),
        _section("strategy-map", "Strategy map", map_note, _figure(drawn_map)),
    ]
    if scorecard is not None:
        sections += _scorecard_sections(plan, scorecard, scorecard_history)
    if check_d is not None:
        findings = list(check_d.get("findings") or [])
        drawn = len(graph_findings(plan, findings))
        if is_summarised(plan, findings):
            caption = _(
                "{findings} findings; {drawn} involve departments. The graph shows the "
                "departments named in most findings, joined where they share findings (thicker: "
                "more). Hover a line or a department for its count."
            ).format(findings=f"{len(findings):,}", drawn=f"{drawn:,}")
        else:
            caption = _(
                "{findings} findings; {drawn} involve departments and are drawn as edges "
                "(a loop for one department, a hub for three or more). Hover an edge for details."
            ).format(findings=len(findings), drawn=drawn)
        sections.append(
            _section(
                "conflicts",
                "Conflicts and alignment findings",
                caption,
                _figure(conflict_graph(plan, findings))
                + _capped_findings(findings, plan.department_names()),
                long=True,
            )
        )
    if score_d is not None:
        sections.append(
            _section(
                "results",
                "KPI results",
                _(
                    "Green: at or above target; amber: between threshold and target; red: below "
                    "threshold; grey: no result. Each cell shows attainment and payout factor."
                ),
                _figure(heat_map(plan, score_d))
                + _department_table(score_d, plan.department_names()),
                long=True,
            )
        )
        currency = str((score_d.get("totals") or {}).get("currency") or plan.currency)
        sections.append(
            _section(
                "payouts",
                "Payout distribution",
                _(
                    "Employee payouts per department ({currency}): whiskers from lowest to "
                    "highest, the box from the first to the third quartile, the line at the median."
                ).format(currency=currency),
                _figure(payout_chart(plan, score_d, currency)),
            )
        )
    if optimise_d is not None or plan.resources:
        note = (
            _("Today's allocation and the optimiser's proposal (status: {status}).").format(
                status=_(str(optimise_d.get("status")))
            )
            if optimise_d is not None and optimise_d.get("allocations")
            else _("Today's allocation beside each department's demand (no proposal was computed).")
        )
        if optimise_d is not None and optimise_d.get("message"):
            note += f" {optimise_d['message']}"
        body = _figure(allocation_chart(plan, optimise_d))
        if optimise_d is not None:
            names = {kpi.id: kpi.name or kpi.id for _scope, kpi in plan.kpis()}
            body += _predicted_table(optimise_d, _lower_is_better(plan), names)
        sections.append(_section("allocations", "Resource allocation", note, body, long=True))
    if compare is not None:
        sections.append(
            _section(
                "comparison",
                "What changed",
                _(
                    "Against the base: findings the changes add and resolve, and the deltas of "
                    "scores, payouts and allocations."
                ),
                _comparison(compare, plan.department_names()),
                long=True,
            )
        )
    if sweep:
        sections.append(
            _section("sweep", "Sweep", _("One run per value."), _sweep_table(sweep), long=True)
        )
    return (
        _templates()
        .get_template("report.html.j2")
        .render(
            heading=heading,
            lang=current(),
            meta=" · ".join(meta),
            fonts=FONTS,
            sections=sections,
            version=__version__,
        )
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
    scorecard: Mapping[str, Any] | None = None,
    scorecard_history: Sequence[Mapping[str, Any]] = (),
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
        scorecard=scorecard,
        scorecard_history=scorecard_history,
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
