"""Payee statements: one printable page per employee, from a score run's explanation of their
payout (KPI results, curves, weights, gates, caps, proration, pool, rounding, adjustments), and
the payroll export table beside them.

A statement is a pure function of the explanation, the run's facts and the language (the
current one, :mod:`alignment_engine.i18n`): the same run in the same language gives the same
bytes. Text from plans and tables is escaped (autoescape, as in report.html); ids, names and
numbers are never translated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from alignment_engine import __version__
from alignment_engine.i18n import _, current
from alignment_engine.reports.html import FONTS, page_templates
from alignment_engine.reports.phrases import matrix_position, phrase, summary_text, table_condition
from alignment_engine.scoring.money import format_units

__all__ = ["statement_html"]


def _titles() -> dict[str, str]:
    return {
        "company": _("Company results"),
        "department": _("Department results"),
        "shared": _("Shared goals"),
    }


def _headers() -> dict[str, str]:
    """The page's own words (the template's headings and column names)."""
    return {
        "kpi": _("KPI"),
        "actual": _("actual"),
        "target": _("target"),
        "attainment": _("attainment"),
        "curve": _("curve"),
        "factor": _("factor"),
        "weight": _("weight"),
        "steps": _("From scores to payout"),
        "adjustments": _("Adjustments"),
        "reason": _("reason"),
        "note": _("note"),
        "amount": _("amount"),
        "run": _("run"),
    }


def _number(value: Any, digits: int = 4) -> str:
    if value is None or isinstance(value, bool):
        return "–"
    if isinstance(value, int | float):
        return f"{value:,.{digits}g}" if abs(value) < 1e15 else f"{value:.6g}"
    return str(value)


def _percent(value: Any) -> str:
    return "–" if not isinstance(value, int | float) else f"{value:.1%}"


def _curve(curve: str, segment: str) -> str:
    """The curve (or matrix) a KPI was paid on and where its result fell on it."""
    if curve.startswith("matrix:"):
        return _("matrix:{matrix}: {cell}").format(
            matrix=curve.removeprefix("matrix:"), cell=matrix_position(segment)
        )
    return f"{curve}: {phrase(segment)}".rstrip(": ")


def _gate(gate: Mapping[str, Any]) -> str:
    """A gate that fired, with its condition and effect (ids and policy keys kept)."""
    if gate.get("table"):
        return _("{gate} (table, {condition}: {effect} {value})").format(
            gate=gate.get("gate"),
            condition=table_condition(str(gate.get("condition"))),
            effect=gate.get("effect"),
            value=_number(gate.get("value")),
        )
    return _("{gate} ({subject} {condition}: {effect} {value})").format(
        gate=gate.get("gate"),
        subject=gate.get("subject"),
        condition=gate.get("condition"),
        effect=gate.get("effect"),
        value=_number(gate.get("value")),
    )


def _proration(proration: Mapping[str, Any]) -> str:
    """The share of the period paid, how it was counted and the dates it covers."""
    method = str(proration.get("method", ""))
    shown = {"days": _("days"), "none": _("none")}.get(method, method)
    text = f"{_number(proration.get('share'), 6)} ({shown})"
    if proration.get("start_date") or proration.get("end_date"):
        text += _(", {start} to {end}").format(
            start=proration.get("start_date") or "…", end=proration.get("end_date") or "…"
        )
    return text


def _kpi_rows(kpis: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    return [
        {
            "kpi": str(k.get("kpi", "")),
            "actual": _number(k.get("actual"), 6),
            "target": _number(k.get("target"), 6),
            "attainment": _percent(k.get("attainment")),
            "curve": _curve(str(k.get("curve", "")), str(k.get("segment") or "")),
            "factor": _number(k.get("payout_factor")),
            "weight": _number(k.get("weight")),
        }
        for k in kpis
    ]


def _entry_texts() -> dict[str, str]:
    return {
        "deferred": _("deferred from {origin}, released in {due}"),
        "released": _("released, deferred from {origin}"),
        "advanced": _("advance for {origin}, settled in {due}"),
        "trued-up": _("advance of {origin} settled"),
        "recovered": _("recovered: restatement of {origin} (look-back to {due})"),
        "written-off": _("not recovered, look-back ended: restatement of {origin}"),
    }


def _ledger_steps(ledger: Mapping[str, Any], decimals: int, currency: str) -> list[tuple[str, str]]:
    """The statement's lines for pay across periods: each deferral, release, advance and
    recovery with its periods, then what is paid now."""
    steps = [(_("payout for the period"), f"{ledger['payout']:,.{decimals}f} {currency}")]
    texts = _entry_texts()
    for entry in ledger.get("entries") or []:
        template = texts.get(str(entry.get("entry")))
        if template is None:
            continue
        steps.append(
            (
                template.format(origin=entry.get("origin"), due=entry.get("due")),
                f"{abs(float(entry['amount'])):,.{decimals}f} {currency}",
            )
        )
    steps.append((_("paid now"), f"{ledger['paid']:,.{decimals}f} {currency}"))
    return steps


def statement_html(
    *,
    employee_id: str,
    name: str | None,
    explanation: Mapping[str, Any],
    run_id: str,
    period: str,
    plan: str,
    policy: str,
    currency: str,
    decimals: int,
    payout_units: int,
    department_names: Mapping[str, str] | None = None,
) -> str:
    """The statement page of one employee as text; departments by their names in the plan
    (``department_names``: id -> name), as the employee knows them."""
    names = department_names or {}

    def named(department: Any) -> str:
        return names.get(str(department)) or str(department)

    components = []
    titles = _titles()
    for component in explanation.get("components", []):
        kind = str(component.get("component"))
        if kind not in titles or not component.get("weight"):
            continue  # the individual component has no KPIs; a zero weight pays nothing
        kpis = component.get("kpis") if kind != "shared" else component.get("goals")
        score = component.get("score")
        components.append(
            {
                "title": _("{title}: score {score} x weight {weight}").format(
                    title=titles[kind],
                    score=_number(score),
                    weight=_number(component.get("weight")),
                ),
                "kpis": _kpi_rows(kpis or []),
                "empty": _("no KPI of this kind scored"),
            }
        )
    proration = explanation.get("proration") or {}
    gates = [
        _gate(g)
        for g in explanation.get("gates") or []
        if isinstance(g, Mapping) and g.get("triggered")
    ]
    steps = [
        (
            _("target bonus"),
            f"{_number(explanation.get('target_bonus'), 12)} {currency}"
            + (
                _(" ({percent}% of salary {salary})").format(
                    percent=_number(basis.get("percent")), salary=_number(basis.get("salary"), 12)
                )
                if isinstance(basis := explanation.get("target_bonus_basis"), Mapping)
                else ""
            ),
        ),
        (_("individual score"), _number(explanation.get("individual_score"))),
        (_("factor before gates"), _number(explanation.get("factor_before_gates"), 6)),
        (_("gates fired"), ", ".join(gates) or _("none")),
        (_("factor after gates"), _number(explanation.get("factor_after_gates"), 6)),
        (
            _("employee cap"),
            "–"
            if explanation.get("employee_cap") is None
            else f"{_number(explanation.get('employee_cap'))}"
            + (_(" (applied)") if explanation.get("capped") else _(" (not reached)")),
        ),
        (_("factor"), _number(explanation.get("factor"), 6)),
        (_("proration"), _proration(proration)),
        *(
            (
                _("segment {start} to {end}: {department}").format(
                    start=seg.get("start_date") or "…",
                    end=seg.get("end_date") or "…",
                    department=named(seg.get("department")),
                ),
                _("{bonus} x factor {factor} x proration {share} = {amount} {currency}").format(
                    bonus=_number(seg.get("target_bonus"), 12),
                    factor=_number(seg.get("factor"), 6),
                    share=_number(seg.get("proration"), 6),
                    amount=_number(seg.get("amount"), 12),
                    currency=currency,
                ),
            )
            for seg in explanation.get("segments") or []
        ),
        (_("amount before rounding"), _number(explanation.get("amount"), 12)),
        (
            _("pool"),
            _("{mode}, scale {scale}").format(
                mode=(explanation.get("pool") or {}).get("mode", ""),
                scale=_number((explanation.get("pool") or {}).get("scale"), 6),
            ),
        ),
    ]
    if explanation.get("formula_payout") is not None:
        steps.append(
            (_("payout before adjustments"), f"{explanation['formula_payout']:,.{decimals}f}")
        )
    shown = f"{format_units(payout_units, decimals, grouped=True)} {currency}"
    ledger = explanation.get("ledger")
    if isinstance(ledger, Mapping):
        steps.extend(_ledger_steps(ledger, decimals, currency))
        shown += " · " + _("paid now {amount}").format(
            amount=f"{ledger['paid']:,.{decimals}f} {currency}"
        )
    who = f"{employee_id} {name}" if name else employee_id
    return (
        page_templates()
        .get_template("statement.html.j2")
        .render(
            lang=current(),
            fonts=FONTS,
            t=_headers(),
            heading=_("Incentive statement {period}: {who}").format(period=period, who=who),
            meta=_("department {department} · plan {plan} · policy {policy}").format(
                department=named(explanation.get("department", "")), plan=plan, policy=policy
            ),
            payout=_("Payout {amount}").format(amount=shown),
            summary=summary_text(str(explanation.get("summary", ""))),
            components=components,
            steps=steps,
            adjustments=list(explanation.get("adjustments") or []),
            run_id=run_id,
            version=__version__,
        )
    )
