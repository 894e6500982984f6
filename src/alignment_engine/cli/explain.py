"""One payout's explanation as text for people (``score --explain``, ``runs show --explain``),
in the command's language: the words are translated, the numbers, ids and policy keys not."""

from __future__ import annotations

from typing import Any

from alignment_engine.i18n import _

__all__ = ["gate_line", "render_explanation"]


def phrase(text: str) -> str:
    # Imported when an explanation is shown: the reports package loads the table libraries.
    from alignment_engine.reports.phrases import phrase as translated

    return translated(text)


def summary_text(text: str) -> str:
    from alignment_engine.reports.phrases import summary_text as translated

    return translated(text)


def readable(value: Any) -> str:
    """A result's mean to six significant digits (0.956826666667 -> 0.956827), grouped; the
    explanation keeps every digit."""
    from alignment_engine.reports.numbers import readable as shown

    return "-" if not isinstance(value, int | float) else shown(value)


def grouped(text: str) -> str:
    from alignment_engine.reports.numbers import grouped_numbers

    return grouped_numbers(text)


def _money(value: float) -> str:
    return f"{value:,.12g}"


def matrix_position(text: str) -> str:
    from alignment_engine.reports.phrases import matrix_position as translated

    return translated(text)


def table_condition(text: str) -> str:
    from alignment_engine.reports.phrases import table_condition as translated

    return translated(text)


def gate_line(gate: dict[str, Any]) -> str:
    """A gate's outcome as a sentence: ``gate quality-gate fired: kpi:quality.defect_rate
    attainment < 0.85 (observed 0.8108) -> multiply 0.8 on department:production``."""
    value = gate.get("value")
    effect = f"{gate.get('effect')} {value}" if value is not None else str(gate.get("effect"))
    table = gate.get("table")
    if isinstance(table, dict):
        read = ", ".join(
            f"{name} {_('no result') if v is None else format(v, '.4g')}"
            for name, v in table.get("inputs", {}).items()
        )
        outcome = (
            _("-> {effect} on {target}").format(effect=effect, target=gate.get("applies_to"))
            if gate.get("triggered")
            else ""
        )
        return (
            _("table {gate}: {condition} reading {inputs}").format(
                gate=gate.get("gate"),
                condition=table_condition(str(gate.get("condition"))),
                inputs=read,
            )
            + f" {outcome}"
        ).rstrip()
    observed = gate.get("observed")
    seen = f"{observed:.4g}" if isinstance(observed, int | float) else _("no result")
    words = (
        _("gate {gate} fired: {subject} {condition} (observed {observed})")
        if gate.get("triggered")
        else _("gate {gate} did not fire: {subject} {condition} (observed {observed})")
    )
    return (
        words.format(
            gate=gate.get("gate"),
            subject=gate.get("subject"),
            condition=gate.get("condition"),
            observed=seen,
        )
        + " "
        + _("-> {effect} on {target}").format(effect=effect, target=gate.get("applies_to"))
    )


def _paid_on(kpi: dict[str, Any]) -> str:
    curve = str(kpi["curve"])
    if curve.startswith("matrix:"):
        return _("matrix '{matrix}' at {cell}").format(
            matrix=curve.removeprefix("matrix:"), cell=matrix_position(str(kpi["segment"]))
        )
    return _("curve '{curve}' {segment}").format(curve=curve, segment=phrase(str(kpi["segment"])))


def _kpi_line(kpi: dict[str, Any]) -> str:
    factor = kpi.get("payout_factor")
    factor_text = (
        _("excluded") if factor is None else _("factor {factor}").format(factor=f"{factor:.4f}")
    )
    line = _("{kpi}: actual {actual} vs target {target} ({source}); {paid_on} -> {factor}").format(
        kpi=kpi["kpi"],
        actual=readable(kpi["actual"]),
        target=readable(kpi["target"]),
        source=phrase(str(kpi["source"])),
        paid_on=_paid_on(kpi),
        factor=factor_text,
    ) + _(" x weight {weight}").format(weight=f"{kpi['weight']:.3f}")
    if kpi["gates"]:
        line += _("; gates {gates}").format(gates=", ".join(kpi["gates"]))
    return line


def render_explanation(explanation: dict[str, Any], employee_id: str, currency: str) -> str:
    lines = [
        _("Employee {employee} ({department})").format(
            employee=employee_id, department=explanation["department"]
        )
    ]
    for component in explanation["components"]:
        score = component.get("score", explanation.get("individual_score"))
        score_text = "-" if score is None else f"{score:.4f}"
        lines.append(
            "  "
            + _("{component}: score {score} x weight {weight}").format(
                component=_(str(component["component"])),
                score=score_text,
                weight=f"{component['weight']:.3f}",
            )
            + (
                _(" ({note})").format(note=phrase(str(component["rule"])))
                if component.get("rule")
                else ""
            )
        )
        for kpi in component.get("kpis", []) + component.get("goals", []):
            lines.append(f"    {_kpi_line(kpi)}")
        for gate in component.get("gates", []):
            lines.append("    " + _("gate {gate}").format(gate=gate))
    if "individual_score" in explanation:
        lines.append(
            "  " + _("individual score {score}").format(score=explanation["individual_score"])
        )
    lines.append(
        "  "
        + _("factor before gates {factor}").format(
            factor=f"{explanation['factor_before_gates']:.6f}"
        )
    )
    for gate in explanation.get("gates", []):
        lines.append(
            f"  {gate_line(gate)}"
            if isinstance(gate, dict)
            else "  " + _("gate {gate}").format(gate=gate)
        )
    cap = explanation.get("employee_cap")
    if cap is None:
        cap_text = _("no employee cap")
    elif explanation.get("capped"):
        cap_text = _("employee cap {cap} applied").format(cap=cap)
    else:
        cap_text = _("employee cap {cap} not reached").format(cap=cap)
    lines.append(
        f"  {cap_text} " + _("-> factor {factor}").format(factor=f"{explanation['factor']:.6f}")
    )
    basis = explanation.get("target_bonus_basis")
    if basis:
        lines.append(
            "  "
            + _("target bonus {bonus} = {percent}% of salary {salary}").format(
                bonus=_money(explanation["target_bonus"]),
                percent=f"{basis['percent']:g}",
                salary=_money(basis["salary"]),
            )
        )
    proration = explanation["proration"]
    lines.append(
        "  "
        + _("proration {method}: share {share}").format(
            method={"days": _("days"), "none": _("none")}.get(
                str(proration["method"]), proration["method"]
            ),
            share=f"{proration['share']:.6f}",
        )
    )
    for segment in explanation.get("segments") or []:
        lines.append(
            "  "
            + _("segment {start} to {end}: {department}").format(
                start=segment["start_date"] or "…",
                end=segment["end_date"] or "…",
                department=segment["department"],
            )
            + ", "
            + _("target bonus {bonus} x factor {factor} x proration {share} = {amount}").format(
                bonus=_money(segment["target_bonus"]),
                factor=f"{segment['factor']:.6f}",
                share=f"{segment['proration']:.6f}",
                amount=f"{segment['amount']:,.6f}",
            )
        )
    pool = explanation["pool"]
    lines.append(
        "  "
        + _("pool {mode}: scale {scale} ({allocation})").format(
            mode=pool["mode"], scale=pool["scale"], allocation=phrase(str(pool["allocation"]))
        )
    )
    # Amounts grouped in thousands when shown; the stored summary keeps plain digits.
    lines.append(f"  {grouped(summary_text(str(explanation['summary'])))}")
    lines.append(
        "  "
        + _("payout {amount} {currency}").format(
            amount=grouped(str(explanation["payout"])), currency=currency
        )
    )
    return "\n".join(lines)
