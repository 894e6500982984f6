"""The Balanced Scorecard: how the company (or one department) stands against its strategy,
KPI by KPI, objective by objective and perspective by perspective (docs/cli.md, `scorecard`).

Independent of any incentive policy. Actuals are resolved as scoring resolves them (a quarter
from its months by each metric's ``aggregation``, formulas from base measures), then:

- a KPI's **attainment** follows its direction (actual/target, target/actual, or the band of a
  ``maintain`` KPI) and its **score** is the attainment clipped to [0, ``scorecard.cap``]; a KPI
  without an actual or with a target <= 0 is ``no-data`` and left out of every roll-up;
- an **objective** is the share-weighted mean of its scored KPIs; in a monthly period a
  long-horizon objective is ``not-due`` (reviewed quarterly);
- a **perspective** is the plain mean of its scored objectives, **overall** the
  ``perspective_weights``-weighted mean of the scored perspectives;
- **trend**: given the scores of the preceding period's scorecard, each item gets ``previous``
  and ``change``.

Roll-up scores are rounded to 12 significant digits, as attainment is (:mod:`.precision`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from alignment_engine.errors import InputError
from alignment_engine.model.common import did_you_mean
from alignment_engine.model.plan import Horizon, Perspective, Plan
from alignment_engine.scoring.actuals import check_actual_rows, resolve_actuals
from alignment_engine.scoring.catalogue import KpiCatalogue, build_catalogue
from alignment_engine.scoring.payout_curves import attainment, band_attainment
from alignment_engine.scoring.periods import Period, parse_period, shifted
from alignment_engine.scoring.precision import round_significant

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "STATUSES",
    "KpiStanding",
    "Scorecard",
    "Standing",
    "item_key",
    "preceding_period",
    "score_scorecard",
    "scores_of",
]

Status = Literal["green", "amber", "red", "no-data", "not-due"]
STATUSES: tuple[Status, ...] = ("green", "amber", "red", "no-data", "not-due")


def scores_of(document: Mapping[str, Any]) -> dict[str, float | None]:
    """Every item's score in a scorecard document (``Scorecard.to_dict()``, as stored), by
    :func:`item_key`: what the next period's trend reads."""
    found: dict[str, float | None] = {item_key("overall"): document["overall"]["score"]}
    found |= {
        item_key("perspective", p["perspective"]): p["score"] for p in document["perspectives"]
    }
    found |= {item_key("objective", o["objective"]): o["score"] for o in document["objectives"]}
    found |= {item_key("kpi", k["kpi"]): k["score"] for k in document["kpis"]}
    return found


def preceding_period(period: Period) -> Period:
    """The period of the same length just before ``period`` (2026-Q2 before 2026-Q3, 2026-06
    before 2026-07, 2025-Q4 before 2026-Q1)."""
    return shifted(period, -1)


def item_key(kind: str, item: str = "") -> str:
    """How an item is named in a trend: ``overall``, ``perspective:customer``, ``objective:F1``,
    ``kpi:sales.revenue``."""
    return kind if kind == "overall" else f"{kind}:{item}"


@dataclass(frozen=True)
class Standing:
    """A score and its status; ``previous`` and ``change`` once a preceding scorecard is known."""

    score: float | None
    status: Status
    previous: float | None = None
    change: float | None = None

    def fields(self, with_trend: bool) -> dict[str, Any]:
        shown: dict[str, Any] = {"score": self.score, "status": self.status}
        if with_trend:
            shown |= {"previous": self.previous, "change": self.change}
        return shown


@dataclass(frozen=True)
class KpiStanding:
    scope: str
    kpi: str
    actual: float | None
    target: float | None
    attainment: float | None
    standing: Standing


@dataclass(frozen=True)
class ObjectiveStanding:
    objective: str
    perspective: Perspective
    kpis: tuple[str, ...]
    standing: Standing


@dataclass(frozen=True)
class Scorecard:
    """A scorecard's items in plan order (perspectives in their fixed order)."""

    plan: str
    period: str
    department: str | None
    overall: Standing
    perspectives: tuple[tuple[Perspective, Standing], ...]
    objectives: tuple[ObjectiveStanding, ...]
    kpis: tuple[KpiStanding, ...]
    compared_with: Mapping[str, Any] | None = None  # the preceding run: run_id, period
    with_trend: bool = False

    def to_dict(self) -> dict[str, Any]:
        trend = self.with_trend
        return {
            "plan": self.plan,
            "period": self.period,
            "department": self.department,
            "compared_with": None if self.compared_with is None else dict(self.compared_with),
            "overall": self.overall.fields(trend),
            "perspectives": [
                {"perspective": p.value, **s.fields(trend)} for p, s in self.perspectives
            ],
            "objectives": [
                {
                    "objective": o.objective,
                    "perspective": o.perspective.value,
                    **o.standing.fields(trend),
                    "kpis": list(o.kpis),
                }
                for o in self.objectives
            ],
            "kpis": [
                {
                    "scope": k.scope,
                    "kpi": k.kpi,
                    "actual": k.actual,
                    "target": k.target,
                    "attainment": k.attainment,
                    **k.standing.fields(trend),
                }
                for k in self.kpis
            ],
        }


@dataclass
class _Trend:
    previous: Mapping[str, float | None] | None

    def standing(self, key: str, score: float | None, status: Status) -> Standing:
        if self.previous is None:
            return Standing(score, status)
        before = self.previous.get(key)
        change = None if score is None or before is None else _rounded(score - before)
        return Standing(score, status, before, change)


def _rounded(value: float) -> float:
    return float(round_significant(np.array([value]))[0])


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _status_of(score: float, amber: float) -> Status:
    return "green" if score >= 1 else "amber" if score >= amber else "red"


def _period(text: str) -> Period:
    try:
        return parse_period(text)
    except ValueError as error:
        raise InputError(str(error), key="period") from None


def _covered_rows(plan: Plan, catalogue: KpiCatalogue, department: str | None) -> list[int]:
    if department is None:
        return list(range(len(catalogue)))
    known = [d.id for d in plan.departments]
    if department not in known:
        raise InputError(
            f"unknown department '{department}'",
            key="department",
            suggestion=did_you_mean(department, known) or "one of: " + ", ".join(known[:20]),
        )
    subtree = set(plan.subtree(department))
    return [
        row
        for row, entry in enumerate(catalogue.entries)
        if (entry.kind == "department" and entry.scope in subtree)
        or (entry.kind == "shared" and bool(subtree.intersection(entry.departments)))
    ]


def score_scorecard(
    plan: Plan,
    actuals: Sequence[pd.DataFrame],
    period: str,
    *,
    department: str | None = None,
    previous: Mapping[str, float | None] | None = None,
    compared_with: Mapping[str, Any] | None = None,
) -> Scorecard:
    """The scorecard of ``period`` (``2026-Q3``, ``2026-07`` or ``2026``) from actuals tables
    (``period,scope,kpi,actual`` and/or ``period,scope,measure,value`` rows, as ``score``
    reads them). ``previous`` holds the preceding scorecard's scores by :func:`item_key`
    (None: no trend). Raises InputError for bad rows, an unknown period or department."""
    target_period = _period(period)
    settings = plan.scorecard
    cap, amber = float(settings.cap), float(settings.amber)
    catalogue = build_catalogue(plan, None)
    covered = _covered_rows(plan, catalogue, department)
    rows = check_actual_rows(list(actuals), plan, catalogue)
    resolved = resolve_actuals(rows, plan, catalogue, target_period)
    trend = _Trend(previous)

    actual = resolved.actual
    target = catalogue.target
    lower = catalogue.lower_is_better
    with np.errstate(invalid="ignore"):
        ratio = np.where(
            catalogue.maintain,
            band_attainment(actual, catalogue.band_low, catalogue.band_high),
            attainment(actual, target, lower),
        )
    kpis: list[KpiStanding] = []
    kpi_scores: dict[str, float] = {}
    for row in covered:
        entry = catalogue.entries[row]
        value, goal, reached = float(actual[row]), float(target[row]), float(ratio[row])
        measured = not math.isnan(value) and not math.isnan(goal) and goal > 0
        status: Status
        if not measured:
            score, status, shown = None, "no-data", None
        elif bool(lower[row]) and not bool(catalogue.maintain[row]) and value <= 0:
            # Nothing (or less than nothing) of a lower-is-better measure: as good as it gets.
            score, status, shown = cap, "green", None
        elif math.isnan(reached):  # a maintain band edge at or below zero
            score, status, shown = None, "no-data", None
        else:
            score = min(max(reached, 0.0), cap)
            shown = _finite(reached)
            status = _kpi_status(entry.kpi, value, reached, bool(lower[row]), amber)
        if score is not None:
            kpi_scores[entry.kpi.id] = score
        kpis.append(
            KpiStanding(
                scope=entry.scope,
                kpi=entry.kpi.id,
                actual=None if math.isnan(value) else value,
                target=None if math.isnan(goal) else goal,
                attainment=shown,
                standing=trend.standing(item_key("kpi", entry.kpi.id), score, status),
            )
        )

    monthly = target_period.kind == "month"
    links: dict[str, list[tuple[str, float]]] = {o.id: [] for o in plan.objectives}
    for row in covered:
        kpi = catalogue.entries[row].kpi
        for objective_id, share in kpi.objectives.items():
            links.setdefault(objective_id, []).append((kpi.id, float(share)))
    objectives: list[ObjectiveStanding] = []
    by_perspective: dict[Perspective, list[Status | float]] = {p: [] for p in Perspective}
    for objective in plan.objectives:
        linked = links.get(objective.id, [])
        scored = [(kpi_scores[k], share) for k, share in linked if k in kpi_scores]
        weight = sum(share for _, share in scored)
        objective_score: float | None
        if monthly and objective.horizon is Horizon.LONG:
            objective_score, status = None, "not-due"
        elif not scored or weight <= 0:
            objective_score, status = None, "no-data"
        else:
            objective_score = _rounded(sum(s * share for s, share in scored) / weight)
            status = _status_of(objective_score, amber)
        by_perspective[objective.perspective].append(
            objective_score if objective_score is not None else status
        )
        objectives.append(
            ObjectiveStanding(
                objective=objective.id,
                perspective=objective.perspective,
                kpis=tuple(k for k, _ in linked),
                standing=trend.standing(
                    item_key("objective", objective.id), objective_score, status
                ),
            )
        )

    perspectives: list[tuple[Perspective, Standing]] = []
    overall_parts: list[tuple[float, float]] = []
    perspective_statuses: list[Status] = []
    for perspective in Perspective:
        parts = by_perspective[perspective]
        numbers = [p for p in parts if isinstance(p, float)]
        perspective_score: float | None
        if numbers:
            perspective_score = _rounded(sum(numbers) / len(numbers))
            status = _status_of(perspective_score, amber)
            overall_parts.append((perspective_score, settings.weight_of(perspective)))
        else:
            perspective_score = None
            status = "not-due" if parts and all(p == "not-due" for p in parts) else "no-data"
        perspective_statuses.append(status)
        perspectives.append(
            (
                perspective,
                trend.standing(
                    item_key("perspective", perspective.value), perspective_score, status
                ),
            )
        )

    total_weight = sum(w for _, w in overall_parts)
    overall_score: float | None
    if overall_parts and total_weight > 0:
        overall_score = _rounded(sum(s * w for s, w in overall_parts) / total_weight)
        status = _status_of(overall_score, amber)
    else:
        overall_score = None
        status = (
            "not-due"
            if not overall_parts and all(s == "not-due" for s in perspective_statuses)
            else "no-data"
        )
    return Scorecard(
        plan=plan.id,
        period=target_period.label,
        department=department,
        overall=trend.standing(item_key("overall"), overall_score, status),
        perspectives=tuple(perspectives),
        objectives=tuple(objectives),
        kpis=tuple(kpis),
        compared_with=compared_with,
        with_trend=previous is not None,
    )


def _kpi_status(kpi: Any, actual: float, reached: float, lower: bool, amber: float) -> Status:
    """Green at or beyond target; amber below it but at or beyond the threshold (without one,
    or for a ``maintain`` KPI whose threshold is its band's edge: attainment >= amber)."""
    if reached >= 1:
        return "green"
    maintains = kpi.direction is not None and str(kpi.direction) == "maintain"
    if kpi.threshold is not None and not maintains:
        threshold = float(kpi.threshold)
        beyond = actual <= threshold if lower else actual >= threshold
        return "amber" if beyond else "red"
    return "amber" if reached >= amber else "red"
