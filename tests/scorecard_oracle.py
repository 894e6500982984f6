"""SPEC's Balanced Scorecard formulas written out plainly, as a reference (tests only).

It reads the plan as plain YAML data and the actuals as CSV rows (KPI rows only: a KPI's row
for the period, else its three months combined by the metric's ``aggregation``), and shares no
code with the engine: every score the engine gives is checked against this to 1e-9.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

PERSPECTIVES = ("financial", "customer", "internal_process", "learning_growth")


def _months(period: str) -> list[str]:
    year, quarter = period.split("-Q")
    first = 3 * (int(quarter) - 1) + 1
    return [f"{year}-{m:02d}" for m in range(first, first + 3)]


def _combine(values: list[float], how: str) -> float:
    if how == "sum":
        total = math.fsum(values)
    elif how == "mean":
        total = math.fsum(values) / len(values)
    elif how == "last":
        total = values[-1]
    elif how == "min":
        total = min(values)
    else:
        total = max(values)
    return float(f"{total:.12g}")


def _twelve(value: float) -> float:
    return value if not math.isfinite(value) or value == 0 else float(f"{value:.12g}")


def actual_values(
    rows: Iterable[Mapping[str, str]], period: str, aggregation: Mapping[str, str]
) -> dict[str, float]:
    by_period: dict[tuple[str, str], float] = {}
    for row in rows:
        if row.get("kpi") and row.get("actual", "") != "":
            by_period[(row["kpi"], row["period"])] = float(row["actual"])
    kpis = {kpi for kpi, _ in by_period}
    found: dict[str, float] = {}
    for kpi in kpis:
        if (kpi, period) in by_period:
            found[kpi] = by_period[(kpi, period)]
        elif "-Q" in period:
            months = [by_period.get((kpi, m)) for m in _months(period)]
            if all(v is not None for v in months):
                found[kpi] = _combine([v for v in months if v is not None], aggregation[kpi])
    return found


def _status(score: float, amber: float) -> str:
    return "green" if score >= 1 else "amber" if score >= amber else "red"


def scorecard(
    plan: Mapping[str, Any],
    actuals: Mapping[str, float],
    period: str,
    department: str | None = None,
) -> dict[str, Any]:
    settings = plan.get("scorecard") or {}
    cap, amber = float(settings.get("cap", 1.2)), float(settings.get("amber", 0.9))
    weights = settings.get("perspective_weights") or {}
    better = {m["id"]: m.get("better", "higher") for m in plan.get("metrics", [])}
    goals = plan.get("shared_goals", [])
    kpis: list[tuple[str, dict[str, Any]]] = []
    if department is None:
        kpis += [("company", k) for k in plan.get("company_kpis", [])]
    parents = {d["id"]: d.get("parent") for d in plan.get("departments", [])}

    def under(d: str) -> bool:
        while d is not None:
            if d == department:
                return True
            d = parents.get(d)
        return False

    for d in plan.get("departments", []):
        if department is None or under(d["id"]):
            kpis += [(d["id"], k) for k in d.get("kpis", [])]
    for goal in goals:
        if department is None or any(under(m) for m in goal["departments"]):
            kpis.append((goal["id"], goal))

    kpi_out = []
    scores: dict[str, float] = {}
    for scope, kpi in kpis:
        direction = kpi.get("direction") or (
            "decrease" if better.get(kpi["metric"]) == "lower" else "increase"
        )
        target = kpi.get("target")
        actual = actuals.get(kpi["id"])
        attainment: float | None = None
        if actual is None or target is None or target <= 0:
            score, status = None, "no-data"
        elif direction == "decrease" and actual <= 0:
            score, status = cap, "green"
        else:
            if direction == "increase":
                attainment = _twelve(actual / target)
            elif direction == "decrease":
                attainment = _twelve(target / actual)
            else:
                edges = [kpi.get("threshold", target), kpi.get("maximum", target)]
                low, high = min(edges), max(edges)
                attainment = _twelve(
                    actual / low if actual < low else high / actual if actual > high else 1.0
                )
            score = min(max(attainment, 0.0), cap)
            if attainment >= 1:
                status = "green"
            elif kpi.get("threshold") is not None and direction != "maintain":
                threshold = kpi["threshold"]
                beyond = actual >= threshold if direction == "increase" else actual <= threshold
                status = "amber" if beyond else "red"
            else:
                status = "amber" if attainment >= amber else "red"
        if score is not None:
            scores[kpi["id"]] = score
        kpi_out.append({"scope": scope, "kpi": kpi["id"], "score": score, "status": status})

    monthly = "-Q" not in period and len(period) > 4
    objectives = []
    for objective in plan.get("objectives", []):
        linked = [
            (k["id"], float(k.get("objectives", {})[objective["id"]]))
            for _, k in kpis
            if objective["id"] in (k.get("objectives") or {})
        ]
        scored = [(scores[k], s) for k, s in linked if k in scores]
        if monthly and objective.get("horizon", "long") == "long":
            score, status = None, "not-due"
        elif not scored or sum(s for _, s in scored) <= 0:
            score, status = None, "no-data"
        else:
            # Rounded to 12 digits like attainment, so that a mean of 0.85 and 0.95 is 0.9.
            score = _twelve(sum(v * s for v, s in scored) / sum(s for _, s in scored))
            status = _status(score, amber)
        objectives.append(
            {
                "objective": objective["id"],
                "perspective": objective["perspective"],
                "score": score,
                "status": status,
                "kpis": [k for k, _ in linked],
            }
        )
    perspectives = []
    for perspective in PERSPECTIVES:
        members = [o for o in objectives if o["perspective"] == perspective]
        numbers = [o["score"] for o in members if o["score"] is not None]
        if numbers:
            score = _twelve(sum(numbers) / len(numbers))
            status = _status(score, amber)
        else:
            score = None
            status = (
                "not-due"
                if members and all(o["status"] == "not-due" for o in members)
                else "no-data"
            )
        perspectives.append({"perspective": perspective, "score": score, "status": status})
    scored_p = [(p["score"], float(weights.get(p["perspective"], 1))) for p in perspectives]
    scored_p = [(s, w) for s, w in scored_p if s is not None]
    if scored_p and sum(w for _, w in scored_p) > 0:
        overall = _twelve(sum(s * w for s, w in scored_p) / sum(w for _, w in scored_p))
        overall_status = _status(overall, amber)
    else:
        overall = None
        overall_status = (
            "not-due" if all(p["status"] == "not-due" for p in perspectives) else "no-data"
        )
    return {
        "overall": {"score": overall, "status": overall_status},
        "perspectives": perspectives,
        "objectives": objectives,
        "kpis": kpi_out,
    }


def scorecard_from_files(
    plan_path: Path, actuals_path: Path, period: str, department: str | None = None
) -> dict[str, Any]:
    plan = yaml.safe_load(plan_path.read_text(encoding="utf-8"))
    with actuals_path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    aggregation = {}
    metric_aggregation = {m["id"]: m.get("aggregation", "mean") for m in plan.get("metrics", [])}
    every = list(plan.get("company_kpis", [])) + list(plan.get("shared_goals", []))
    for d in plan.get("departments", []):
        every += d.get("kpis", [])
    for kpi in every:
        aggregation[kpi["id"]] = metric_aggregation.get(kpi["metric"], "mean")
    return scorecard(plan, actual_values(rows, period, aggregation), period, department)
