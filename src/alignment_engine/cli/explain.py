"""One payout's explanation as text for people (``score --explain``, ``runs show --explain``)."""

from __future__ import annotations

from typing import Any

__all__ = ["gate_line", "render_explanation"]


def gate_line(gate: dict[str, Any]) -> str:
    """A gate's outcome as a sentence: ``gate quality-gate fired: kpi:quality.defect_rate
    attainment < 0.85 (observed 0.8108) -> multiply 0.8 on department:production``."""
    value = gate.get("value")
    effect = f"{gate.get('effect')} {value}" if value is not None else str(gate.get("effect"))
    table = gate.get("table")
    if isinstance(table, dict):
        read = ", ".join(
            f"{name} {'no result' if v is None else format(v, '.4g')}"
            for name, v in table.get("inputs", {}).items()
        )
        outcome = f"-> {effect} on {gate.get('applies_to')}" if gate.get("triggered") else ""
        return (
            f"table {gate.get('gate')}: {gate.get('condition')} reading {read} {outcome}".rstrip()
        )
    observed = gate.get("observed")
    seen = f"{observed:.4g}" if isinstance(observed, int | float) else "no result"
    state = "fired" if gate.get("triggered") else "did not fire"
    return (
        f"gate {gate.get('gate')} {state}: {gate.get('subject')} {gate.get('condition')} "
        f"(observed {seen}) -> {effect} on {gate.get('applies_to')}"
    )


def _paid_on(kpi: dict[str, Any]) -> str:
    curve = str(kpi["curve"])
    if curve.startswith("matrix:"):
        return f"matrix '{curve.removeprefix('matrix:')}' at {kpi['segment']}"
    return f"curve '{curve}' {kpi['segment']}"


def render_explanation(explanation: dict[str, Any], employee_id: str, currency: str) -> str:
    lines = [f"Employee {employee_id} ({explanation['department']})"]
    for component in explanation["components"]:
        score = component.get("score", explanation.get("individual_score"))
        score_text = "-" if score is None else f"{score:.4f}"
        lines.append(
            f"  {component['component']}: score {score_text} x weight {component['weight']:.3f}"
            + (f" ({component['rule']})" if component.get("rule") else "")
        )
        for kpi in component.get("kpis", []) + component.get("goals", []):
            factor = kpi.get("payout_factor")
            factor_text = "excluded" if factor is None else f"factor {factor:.4f}"
            lines.append(
                f"    {kpi['kpi']}: actual {kpi['actual']} vs target {kpi['target']} "
                f"({kpi['source']}); {_paid_on(kpi)} -> {factor_text}"
                f" x weight {kpi['weight']:.3f}"
                + (f"; gates {', '.join(kpi['gates'])}" if kpi["gates"] else "")
            )
        for gate in component.get("gates", []):
            lines.append(f"    gate {gate}")
    if "individual_score" in explanation:
        lines.append(f"  individual score {explanation['individual_score']}")
    lines.append(f"  factor before gates {explanation['factor_before_gates']:.6f}")
    for gate in explanation.get("gates", []):
        lines.append(f"  {gate_line(gate)}" if isinstance(gate, dict) else f"  gate {gate}")
    cap = explanation.get("employee_cap")
    if cap is None:
        cap_text = "no employee cap"
    elif explanation.get("capped"):
        cap_text = f"employee cap {cap} applied"
    else:
        cap_text = f"employee cap {cap} not reached"
    lines.append(f"  {cap_text} -> factor {explanation['factor']:.6f}")
    basis = explanation.get("target_bonus_basis")
    if basis:
        lines.append(
            f"  target bonus {explanation['target_bonus']:g} = {basis['percent']:g}% of salary "
            f"{basis['salary']:g}"
        )
    proration = explanation["proration"]
    lines.append(f"  proration {proration['method']}: share {proration['share']:.6f}")
    for segment in explanation.get("segments") or []:
        lines.append(
            f"  segment {segment['start_date'] or '…'} to {segment['end_date'] or '…'}: "
            f"{segment['department']}, target bonus {segment['target_bonus']:g} x factor "
            f"{segment['factor']:.6f} x proration {segment['proration']:.6f} = "
            f"{segment['amount']:.6f}"
        )
    pool = explanation["pool"]
    lines.append(f"  pool {pool['mode']}: scale {pool['scale']} ({pool['allocation']})")
    lines.append(f"  {explanation['summary']}")
    lines.append(f"  payout {explanation['payout']} {currency}")
    return "\n".join(lines)
