"""One payout's explanation as text for people (``score --explain``, ``runs show --explain``)."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["render_explanation"]


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
                f"({kpi['source']}); curve '{kpi['curve']}' {kpi['segment']} -> {factor_text}"
                f" x weight {kpi['weight']:.3f}"
                + (f"; gates {', '.join(kpi['gates'])}" if kpi["gates"] else "")
            )
        for gate in component.get("gates", []):
            lines.append(f"    gate {gate}")
    if "individual_score" in explanation:
        lines.append(f"  individual score {explanation['individual_score']}")
    lines.append(f"  factor before gates {explanation['factor_before_gates']:.6f}")
    for gate in explanation.get("gates", []):
        lines.append(f"  gate {json.dumps(gate, ensure_ascii=False)}")
    cap_note = " (capped)" if explanation.get("capped") else ""
    lines.append(
        f"  employee cap {explanation.get('employee_cap')}{cap_note} -> factor "
        f"{explanation['factor']:.6f}"
    )
    proration = explanation["proration"]
    lines.append(f"  proration {proration['method']}: share {proration['share']:.6f}")
    pool = explanation["pool"]
    lines.append(f"  pool {pool['mode']}: scale {pool['scale']} ({pool['allocation']})")
    lines.append(f"  {explanation['summary']}")
    lines.append(f"  payout {explanation['payout']} {currency}")
    return "\n".join(lines)
