"""Generate the data files of the bundled example company (scenarios/acme/) from its plan.

Reads ``scenarios/acme/plan.yaml`` and writes, next to it:

- ``employees.csv``: about 2,000 people with grade-based target bonuses and individual scores;
  a few dozen joined or left during 2026-Q3 (for proration);
- ``actuals-2026-q3.csv``: 2026-Q3 results; short-horizon KPIs monthly (2026-07..09), long-horizon
  ones once for the quarter; company KPIs under scope ``company``, shared goals under their own id;
- ``history-allocations.csv``: 12 quarters (2023-Q4..2026-Q3) of each department's amount of each
  resource (annual amounts in force that quarter), varying around today's allocation;
- ``history-kpis.csv``: the same 12 quarters of KPI results. KPIs with response curves follow
  their curves at the historical allocations plus ~3% noise, so the curves can be fitted back;
  the others trend from older levels to their baseline and on to the 2026-Q3 result.

Deterministic (``numpy.random.default_rng(2026)``; values rounded to 5 significant digits), so a
second run reproduces every file byte for byte. Run from anywhere:

    python tools/make_acme_data.py
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "acme"
SEED = 2026
SIGNIFICANT = 5

QUARTERS = [
    "2023-Q4",
    *(f"{year}-Q{q}" for year in (2024, 2025) for q in range(1, 5)),
    "2026-Q1",
    "2026-Q2",
    "2026-Q3",
]
MONTHS = ["2026-07", "2026-08", "2026-09"]
Q3_START, Q3_END = date(2026, 7, 1), date(2026, 9, 30)

# Index of the quarter whose values the plan's baselines describe (the latest full-year view the
# planners had, 2025-Q4); history trends through it towards the 2026-Q3 result.
BASELINE_QUARTER = QUARTERS.index("2025-Q4")

# Grades: base annual target bonus (CNY) before the department's market multiplier.
GRADE_BONUS = {"G1": 12_000, "G2": 24_000, "G3": 42_000, "G4": 80_000, "G5": 180_000}
# Share of each department's people per grade (G1 operators/staff ... G5 directors).
GRADE_MIX = {
    "production": (0.86, 0.09, 0.03, 0.017, 0.003),
    "quality": (0.45, 0.35, 0.13, 0.06, 0.01),
    "customer_service": (0.55, 0.30, 0.10, 0.04, 0.01),
    "sales": (0.10, 0.45, 0.30, 0.12, 0.03),
    "marketing": (0.10, 0.45, 0.30, 0.12, 0.03),
    "rnd": (0.05, 0.45, 0.35, 0.12, 0.03),
    "it": (0.10, 0.45, 0.30, 0.12, 0.03),
    "finance": (0.15, 0.40, 0.28, 0.13, 0.04),
    "hr": (0.20, 0.40, 0.25, 0.12, 0.03),
}
DEPARTMENT_MULTIPLIER = {
    "sales": 1.30,
    "rnd": 1.15,
    "it": 1.10,
    "marketing": 1.05,
    "finance": 1.00,
    "hr": 0.95,
    "quality": 0.95,
    "customer_service": 0.85,
    "production": 0.80,
}
JOINERS = 25  # people who joined during 2026-Q3 (prorated)
LEAVERS = 15  # people who left during 2026-Q3 (prorated), on top of today's headcount

# 2026-Q3 results that tell the story of the planted conflicts (see README.md): the discount
# push lifted promotions, eroded gross margin and stretched payment terms; cost cuts beat the
# unit-cost target while the defect rate rose. KPIs not listed here (and without a response
# curve) get a random result around their plan.
STORY_Q3: dict[str, float] = {
    "company.net_margin": 0.0765,
    "company.operating_cash_flow": 25.5,
    "sales.revenue_north": 70.2,
    "sales.revenue_south": 67.1,
    "sales.revenue_east": 58.4,
    "sales.revenue_west": 32.8,
    "sales.days_sales_outstanding": 73.0,
    "marketing.promo_intensity": 0.19,
    "finance.gross_margin": 0.296,
    "production.unit_cost": 4.18,
    "production.lost_time_injury_rate": 0.9,
    "quality.defect_rate": 0.0148,
    "customer_service.first_response_hours": 3.8,
}
# KPIs measuring the same company-wide quantity report the same numbers.
SAME_AS = {
    "finance.days_sales_outstanding": "sales.days_sales_outstanding",
    "shared.net_margin": "company.net_margin",
}
COUNT_UNITS = {"customers", "leads", "products", "patents"}
BOUNDED_UNITS = {"ratio": 1.0, "score 0-100": 100.0}
# Noise on the curve-driven history: small enough that every curve fits back with R-squared
# above 0.5 from 12 quarters (at 5% some saturating curves, flat near today, do not).
CURVE_NOISE = 0.03
HEADROOM_NOISE = 0.10
# Allocation history: money and engineering hours were reallocated widely from quarter to
# quarter; headcount grew steadily (about 28% over three years) with small swings.
GROWTH = {"people": 0.22, "other": 0.12}
SWING = {"people": 0.05, "other": 0.20}


# ---------------------------------------------------------------------------------------------
# Small helpers


def significant(value: float, digits: int = SIGNIFICANT) -> float:
    """``value`` rounded to ``digits`` significant digits (stable text in the CSVs)."""
    if value == 0 or not math.isfinite(value):
        return 0.0
    return float(f"{value:.{digits}g}")


def text(value: float | int | str) -> str:
    """CSV text for a value: integers without a decimal point, floats at 5 significant digits."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | np.integer):
        return str(int(value))
    rounded = significant(float(value))
    if rounded.is_integer() and abs(rounded) < 1e15:
        return str(int(rounded))
    return repr(rounded)


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow([text(v) for v in row])
            count += 1
    return count


CURVES: dict[str, Callable[[float, float, float], float]] = {
    "linear": lambda a, _b, x: a * x,
    "saturating": lambda a, b, x: a * (1.0 - math.exp(-b * x)),
    "log": lambda a, b, x: a * math.log1p(b * x),
    "power": lambda a, b, x: a * x**b,
}


def curve_value(curve: dict[str, Any], amount: float) -> float:
    params = curve["params"]
    return CURVES[curve["shape"]](float(params["a"]), float(params.get("b", 0.0)), amount)


# ---------------------------------------------------------------------------------------------
# The plan, flattened


class Acme:
    """What the generator needs from the plan: KPIs with their scope, metric and curves."""

    def __init__(self, plan: dict[str, Any]) -> None:
        self.plan = plan
        self.metrics = {m["id"]: m for m in plan["metrics"]}
        self.kpis: list[tuple[str, dict[str, Any]]] = []
        for kpi in plan["company_kpis"]:
            self.kpis.append(("company", kpi))
        for department in plan["departments"]:
            for kpi in department["kpis"]:
                self.kpis.append((department["id"], kpi))
        for goal in plan["shared_goals"]:
            self.kpis.append((goal["id"], goal))
        self.by_id = {kpi["id"]: (scope, kpi) for scope, kpi in self.kpis}
        self.resources = {r["id"]: r for r in plan["resources"]}
        self.curves: dict[str, list[dict[str, Any]]] = {}
        for curve in plan["response_curves"]:
            department = curve.get("department") or self.by_id[curve["kpi"]][0]
            self.curves.setdefault(curve["kpi"], []).append({**curve, "department": department})
        self.children: dict[str, list[str]] = {}
        for _, kpi in self.kpis:
            if kpi.get("rolls_up_to"):
                self.children.setdefault(kpi["rolls_up_to"], []).append(kpi["id"])

    def metric(self, kpi: dict[str, Any]) -> dict[str, Any]:
        return dict(self.metrics[kpi["metric"]])

    def is_count(self, kpi: dict[str, Any]) -> bool:
        return self.metric(kpi).get("unit") in COUNT_UNITS

    def bound(self, kpi: dict[str, Any]) -> float | None:
        return BOUNDED_UNITS.get(str(self.metric(kpi).get("unit")))

    def today(self, resource: str, department: str) -> float:
        return float(self.resources[resource]["allocation"][department])

    def curve_prediction(self, kpi_id: str, amounts: dict[tuple[str, str], float]) -> float:
        return sum(
            curve_value(c, amounts[(c["resource"], c["department"])]) for c in self.curves[kpi_id]
        )


def clip_to_unit(acme: Acme, kpi: dict[str, Any], value: float) -> float:
    bound = acme.bound(kpi)
    low = 0.0
    high = bound * 0.999 if bound is not None else math.inf
    return min(max(value, low), high)


def noise_sd(acme: Acme, kpi: dict[str, Any], value: float, relative: float) -> float:
    """About ``relative`` of the value, but never more than HEADROOM_NOISE of the headroom to
    the bound of a ratio or score, so that 0.94 plus noise stays below 1."""
    sd = relative * abs(value)
    bound = acme.bound(kpi)
    if bound is not None:
        sd = min(sd, HEADROOM_NOISE * (bound - value))
    return max(sd, 0.0)


# ---------------------------------------------------------------------------------------------
# Allocations


def history_allocations(acme: Acme, rng: np.random.Generator) -> dict[tuple[str, str], list[float]]:
    """Each (resource, department)'s annual amount per quarter: a growth trend up to today's
    allocation plus reallocation swings (wide for money and engineering hours, narrow for
    people), within +/-25% of today; 2026-Q3 is today."""
    series: dict[tuple[str, str], list[float]] = {}
    last = len(QUARTERS) - 1
    for resource in acme.plan["resources"]:
        kind = "people" if resource.get("integer") else "other"
        for department, today in resource["allocation"].items():
            trend = -GROWTH[kind] * (last - np.arange(len(QUARTERS))) / last
            swing = rng.uniform(-SWING[kind], SWING[kind], size=len(QUARTERS))
            factor = np.clip(1.0 + trend + swing, 0.75, 1.25)
            factor[last] = 1.0
            amounts = [float(today) * float(f) for f in factor]
            if resource.get("integer"):
                amounts = [float(round(a)) for a in amounts]
            elif resource["unit"] == "CNY":
                amounts = [round(a, -4) for a in amounts]
            else:
                amounts = [round(a, -2) for a in amounts]
            series[(resource["id"], department)] = amounts
    return series


# ---------------------------------------------------------------------------------------------
# KPI results


def q3_result(acme: Acme, kpi: dict[str, Any], rng: np.random.Generator) -> float:
    """The quarter's result for a KPI without a response curve: its story value, else a draw
    around the planned improvement (progress 1 = on target, 0 = still at baseline)."""
    if kpi["id"] in STORY_Q3:
        return STORY_Q3[kpi["id"]]
    baseline, target = float(kpi["baseline"]), float(kpi["target"])
    progress = float(rng.normal(0.75, 0.55))
    value = baseline + progress * (target - baseline)
    return clip_to_unit(acme, kpi, value)


def monthly_split(
    acme: Acme, kpi: dict[str, Any], quarter_value: float, rng: np.random.Generator
) -> list[float]:
    """Three monthly values whose aggregation (the metric's) gives back the quarter's value."""
    aggregation = acme.metric(kpi).get("aggregation", "mean")
    if aggregation == "sum":
        share = quarter_value / 3.0
        wiggle = rng.normal(0.0, 0.04 * abs(share), size=2)
        months = [share + wiggle[0], share + wiggle[1], share - wiggle[0] - wiggle[1]]
    else:
        sd = noise_sd(acme, kpi, quarter_value, 0.03)
        wiggle = rng.normal(0.0, sd, size=2)
        months = [quarter_value + wiggle[0], quarter_value + wiggle[1]]
        months.append(quarter_value - wiggle[0] - wiggle[1])
        if aggregation == "last":
            months[2] = quarter_value
    return [significant(clip_to_unit(acme, kpi, m)) for m in months]


def aggregate(acme: Acme, kpi: dict[str, Any], months: Sequence[float]) -> float:
    aggregation = acme.metric(kpi).get("aggregation", "mean")
    if aggregation == "sum":
        return significant(sum(months))
    if aggregation == "last":
        return months[-1]
    if aggregation == "min":
        return min(months)
    if aggregation == "max":
        return max(months)
    return significant(sum(months) / len(months))


def trend_history(
    acme: Acme, kpi: dict[str, Any], q3_value: float, rng: np.random.Generator
) -> list[float]:
    """Quarterly values from an older level (further from target) through the baseline at
    2025-Q4 to the 2026-Q3 result, with ~2% noise; the last value is the 2026-Q3 result."""
    baseline, target = float(kpi["baseline"]), float(kpi["target"])
    start = baseline - 1.2 * (target - baseline)
    values = []
    for index in range(len(QUARTERS) - 1):
        if index <= BASELINE_QUARTER:
            level = start + (baseline - start) * index / BASELINE_QUARTER
        else:
            span = len(QUARTERS) - 1 - BASELINE_QUARTER
            level = baseline + (q3_value - baseline) * (index - BASELINE_QUARTER) / span
        level += float(rng.normal(0.0, noise_sd(acme, kpi, level, 0.02)))
        values.append(clip_to_unit(acme, kpi, level))
    values.append(q3_value)
    return values


def curve_history(
    acme: Acme,
    kpi: dict[str, Any],
    allocations: dict[tuple[str, str], list[float]],
    rng: np.random.Generator,
) -> list[float]:
    """The KPI's curves at each quarter's allocation, plus ~3% noise."""
    values = []
    for index in range(len(QUARTERS)):
        amounts = {key: series[index] for key, series in allocations.items()}
        predicted = acme.curve_prediction(kpi["id"], amounts)
        value = predicted + float(rng.normal(0.0, noise_sd(acme, kpi, predicted, CURVE_NOISE)))
        values.append(clip_to_unit(acme, kpi, value))
    return values


def kpi_results(
    acme: Acme,
    allocations: dict[tuple[str, str], list[float]],
    rng: np.random.Generator,
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Per KPI: quarterly history (12 values, the last is 2026-Q3) and, for short-horizon KPIs,
    the three 2026-Q3 monthly values (their aggregation is the history's last value)."""
    history: dict[str, list[float]] = {}
    monthly: dict[str, list[float]] = {}
    ordered = [kpi for _, kpi in acme.kpis if kpi["id"] not in SAME_AS]
    # Parents computed from their children (rollup) come last.
    ordered.sort(key=lambda kpi: kpi["id"] in acme.children)
    for kpi in ordered:
        kpi_id = kpi["id"]
        if kpi_id in acme.children:
            parts = [history[child] for child in acme.children[kpi_id]]
            history[kpi_id] = [significant(sum(values)) for values in zip(*parts, strict=True)]
            continue
        if kpi_id in acme.curves:
            values = curve_history(acme, kpi, allocations, rng)
        else:
            values = trend_history(acme, kpi, q3_result(acme, kpi, rng), rng)
        if acme.is_count(kpi):
            values = [float(max(round(v), 0)) for v in values]
        values = [significant(v) for v in values]
        if kpi.get("horizon", "long") == "short":
            months = monthly_split(acme, kpi, values[-1], rng)
            if acme.is_count(kpi):
                months = [float(round(m)) for m in months]
            monthly[kpi_id] = months
            values[-1] = aggregate(acme, kpi, months)
        history[kpi_id] = values
    for copy, original in SAME_AS.items():
        history[copy] = list(history[original])
        if original in monthly:
            monthly[copy] = list(monthly[original])
    return history, monthly


# ---------------------------------------------------------------------------------------------
# Employees


def employees(acme: Acme, rng: np.random.Generator) -> list[list[Any]]:
    """Today's headcount per department (some of whom joined during 2026-Q3) plus the people
    who left during 2026-Q3, shuffled, numbered E00001...; the bonus follows grade and
    department, the individual score is centred on 1."""
    headcount = acme.resources["headcount"]["allocation"]
    people: list[tuple[str, str]] = []  # (department, status)
    for department in acme.plan["departments"]:
        people += [(department["id"], "active")] * int(headcount[department["id"]])
    joiners = rng.choice(len(people), size=JOINERS, replace=False)
    for index in joiners:
        people[int(index)] = (people[int(index)][0], "joined")
    leaving = rng.choice(len(people), size=LEAVERS, replace=False)
    people += [(people[int(index)][0], "left") for index in leaving]
    q3_days = (Q3_END - Q3_START).days
    rows = []
    for number, index in enumerate(rng.permutation(len(people)), start=1):
        department, status = people[int(index)]
        grade = str(rng.choice(list(GRADE_BONUS), p=GRADE_MIX[department]))
        spread = float(rng.uniform(0.9, 1.1))
        target_bonus = int(
            round(GRADE_BONUS[grade] * DEPARTMENT_MULTIPLIER[department] * spread, -2)
        )
        score = float(np.clip(rng.normal(1.0, 0.15), 0.6, 1.4))
        day = (Q3_START + timedelta(days=int(rng.integers(5, q3_days - 10)))).isoformat()
        start = day if status == "joined" else ""
        end = day if status == "left" else ""
        rows.append([f"E{number:05d}", department, target_bonus, f"{score:.2f}", start, end, "CNY"])
    return rows


# ---------------------------------------------------------------------------------------------


def main() -> None:
    plan = yaml.safe_load((SCENARIO / "plan.yaml").read_text(encoding="utf-8"))
    acme = Acme(plan)
    rng = np.random.default_rng(SEED)

    people = employees(acme, rng)
    count = write_csv(
        SCENARIO / "employees.csv",
        [
            "employee_id",
            "department",
            "target_bonus",
            "individual_score",
            "start_date",
            "end_date",
            "currency",
        ],
        people,
    )
    total_bonus = sum(int(row[2]) for row in people)
    print(f"employees.csv: {count} people, target bonuses CNY {total_bonus:,}")

    allocations = history_allocations(acme, rng)
    rows = [
        [QUARTERS[index], department, resource, amount]
        for index in range(len(QUARTERS))
        for (resource, department), series in allocations.items()
        for amount in [series[index]]
    ]
    count = write_csv(
        SCENARIO / "history-allocations.csv", ["period", "department", "resource", "amount"], rows
    )
    print(f"history-allocations.csv: {count} rows")

    history, monthly = kpi_results(acme, allocations, rng)
    actual_rows = []
    for scope, kpi in acme.kpis:
        if kpi["id"] in monthly:
            for month, value in zip(MONTHS, monthly[kpi["id"]], strict=True):
                actual_rows.append([month, scope, kpi["id"], value])
        else:
            actual_rows.append(["2026-Q3", scope, kpi["id"], history[kpi["id"]][-1]])
    count = write_csv(
        SCENARIO / "actuals-2026-q3.csv", ["period", "scope", "kpi", "actual"], actual_rows
    )
    print(f"actuals-2026-q3.csv: {count} rows")

    history_rows = [
        [period, scope, kpi["id"], history[kpi["id"]][index]]
        for index, period in enumerate(QUARTERS)
        for scope, kpi in acme.kpis
    ]
    count = write_csv(
        SCENARIO / "history-kpis.csv", ["period", "scope", "kpi", "actual"], history_rows
    )
    print(f"history-kpis.csv: {count} rows")


if __name__ == "__main__":
    main()
