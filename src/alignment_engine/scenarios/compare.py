"""Comparisons of two runs: pure functions of the ``--format json`` shapes (docs/cli.md)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

DELTA_DIGITS = 10  # deltas are rounded so that 0.3 - 0.1 prints as 0.2


def _finding_key(finding: Mapping[str, Any]) -> tuple[Any, ...]:
    """(rule, sorted departments, sorted KPIs); a finding that names neither (an uncovered
    objective, say) is known by the objectives and resources it names instead."""
    departments = tuple(sorted(str(d) for d in finding.get("departments") or ()))
    kpis = tuple(sorted(str(k) for k in finding.get("kpis") or ()))
    key: tuple[Any, ...] = (str(finding.get("rule", "")), departments, kpis)
    if not departments and not kpis:
        key += _finding_detail(finding)
    return key


def _finding_detail(finding: Mapping[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return (
        tuple(sorted(str(o) for o in finding.get("objectives") or ())),
        tuple(sorted(str(r) for r in finding.get("resources") or ())),
    )


def _match_findings(
    before: Sequence[Mapping[str, Any]], after: Sequence[Mapping[str, Any]]
) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]], list[tuple[Any, Any]]]:
    """(added, resolved, matched pairs). Findings match on (rule, departments, KPIs); among
    several with the same key, those naming the same objectives and resources pair first."""
    pending: dict[Any, list[int]] = {}
    for index, finding in enumerate(after):
        pending.setdefault(_finding_key(finding), []).append(index)
    used: set[int] = set()
    resolved: list[Mapping[str, Any]] = []
    pairs: list[tuple[Any, Any]] = []
    unmatched_before: list[Mapping[str, Any]] = []
    for finding in before:
        candidates = [i for i in pending.get(_finding_key(finding), []) if i not in used]
        exact = [i for i in candidates if _finding_detail(after[i]) == _finding_detail(finding)]
        if exact:
            used.add(exact[0])
            pairs.append((finding, after[exact[0]]))
        else:
            unmatched_before.append(finding)
    for finding in unmatched_before:
        candidates = [i for i in pending.get(_finding_key(finding), []) if i not in used]
        if candidates:
            used.add(candidates[0])
            pairs.append((finding, after[candidates[0]]))
        else:
            resolved.append(finding)
    added = [finding for i, finding in enumerate(after) if i not in used]
    return added, resolved, pairs


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _delta(before: Any, after: Any) -> float | None:
    a, b = _number(before), _number(after)
    if a is None or b is None:
        return None
    return round(b - a, DELTA_DIGITS)


def _money(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _money_float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _money_delta(before: Decimal | None, after: Decimal | None) -> float | None:
    if before is None or after is None:
        return None
    return float(after - before)


def _ordered_keys(*groups: Iterable[Any]) -> list[Any]:
    seen: dict[Any, None] = {}
    for group in groups:
        for key in group:
            seen.setdefault(key, None)
    return list(seen)


def _by(rows: Any, *keys: str) -> dict[Any, Mapping[str, Any]]:
    found: dict[Any, Mapping[str, Any]] = {}
    for row in rows or ():
        if isinstance(row, Mapping):
            found.setdefault(tuple(row.get(k) for k in keys), row)
    return found


def _compare_scores(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> list[dict[str, Any]]:
    a = _by((before or {}).get("departments"), "department")
    b = _by((after or {}).get("departments"), "department")
    rows = []
    for key in _ordered_keys(a, b):
        old, new = a.get(key, {}), b.get(key, {})
        rows.append(
            {
                "department": key[0],
                "before": _number(old.get("score")),
                "after": _number(new.get("score")),
                "delta": _delta(old.get("score"), new.get("score")),
                "payout_factor_before": _number(old.get("payout_factor")),
                "payout_factor_after": _number(new.get("payout_factor")),
                "payout_factor_delta": _delta(old.get("payout_factor"), new.get("payout_factor")),
            }
        )
    return rows


def _compare_kpis(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> list[dict[str, Any]]:
    a = _by((before or {}).get("kpis"), "scope", "kpi")
    b = _by((after or {}).get("kpis"), "scope", "kpi")
    rows = []
    for key in _ordered_keys(a, b):
        old, new = a.get(key, {}), b.get(key, {})
        row: dict[str, Any] = {"scope": key[0], "kpi": key[1]}
        for name in ("target", "actual", "attainment", "payout_factor"):
            row[f"{name}_before"] = _number(old.get(name))
            row[f"{name}_after"] = _number(new.get(name))
            row[f"{name}_delta"] = _delta(old.get(name), new.get(name))
        rows.append(row)
    return rows


def _department_payouts(score: Mapping[str, Any] | None) -> dict[str, tuple[Decimal, int]]:
    """Department -> (total payout, employees), from the employee rows (or department totals)."""
    if not score:
        return {}
    totals: dict[str, tuple[Decimal, int]] = {}
    employees = score.get("employees") or []
    if employees:
        for row in employees:
            department = str(row.get("department"))
            amount = _money(row.get("payout")) or Decimal(0)
            total, count = totals.get(department, (Decimal(0), 0))
            totals[department] = (total + amount, count + 1)
        return totals
    for row in score.get("departments") or []:
        department_total = _money(row.get("payout"))
        if department_total is not None:
            totals[str(row.get("department"))] = (
                department_total,
                int(row.get("employees") or 0),
            )
    return totals


def _compare_payouts(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> list[dict[str, Any]]:
    a, b = _department_payouts(before), _department_payouts(after)
    rows = []
    for department in _ordered_keys(a, b):
        old = a.get(department)
        new = b.get(department)
        rows.append(
            {
                "department": department,
                "before": _money_float(old[0] if old else None),
                "after": _money_float(new[0] if new else None),
                "delta": _money_delta(old[0] if old else None, new[0] if new else None),
                "employees_before": old[1] if old else 0,
                "employees_after": new[1] if new else 0,
            }
        )
    return rows


def _allocation_rows(run: Mapping[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(resource, department) -> {current, proposed}: the optimiser's rows, else the plan's."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for row in run.get("allocations") or []:
        key = (str(row.get("resource")), str(row.get("department")))
        rows[key] = {"current": row.get("amount"), "proposed": None}
    optimise = run.get("optimise") or {}
    for row in optimise.get("allocations") or []:
        key = (str(row.get("resource")), str(row.get("department")))
        rows[key] = {"current": row.get("current"), "proposed": row.get("proposed")}
    return rows


def _compare_allocations(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> list[dict[str, Any]]:
    a, b = _allocation_rows(before), _allocation_rows(after)
    rows = []
    for key in _ordered_keys(a, b):
        old, new = a.get(key, {}), b.get(key, {})
        rows.append(
            {
                "resource": key[0],
                "department": key[1],
                "current_before": _number(old.get("current")),
                "current_after": _number(new.get("current")),
                "current_delta": _delta(old.get("current"), new.get("current")),
                "proposed_before": _number(old.get("proposed")),
                "proposed_after": _number(new.get("proposed")),
                "proposed_delta": _delta(old.get("proposed"), new.get("proposed")),
            }
        )
    return rows


def _compare_scorecards(
    a: Mapping[str, Any] | None, b: Mapping[str, Any] | None
) -> dict[str, Any] | None:
    """Overall, perspective and objective scores and statuses of two scorecards side by side."""
    if a is None and b is None:
        return None

    def row(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> dict[str, Any]:
        score_a = None if before is None else before.get("score")
        score_b = None if after is None else after.get("score")
        return {
            "before": score_a,
            "after": score_b,
            "delta": _delta(score_a, score_b),
            "status_before": None if before is None else before.get("status"),
            "status_after": None if after is None else after.get("status"),
        }

    def rows(key: str, name: str) -> list[dict[str, Any]]:
        left = _by((a or {}).get(key), name)
        right = _by((b or {}).get(key), name)
        return [
            {name: item[0], **row(left.get(item), right.get(item))}
            for item in _ordered_keys(left, right)
        ]

    return {
        "overall": row((a or {}).get("overall"), (b or {}).get("overall")),
        "perspectives": rows("perspectives", "perspective"),
        "objectives": rows("objectives", "objective"),
    }


def compare_results(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """The ``scenario compare --format json`` shape from two runs.

    A run is ``{"check": <check JSON>, "score": <score JSON>, "optimise": <optimise JSON>,
    "allocations": [{"resource", "department", "amount"}]}``, any part missing or None.
    ``findings.added`` holds B's findings that A does not have, ``resolved`` A's that B does not
    have (matched on rule, sorted departments and sorted KPIs), ``changed`` the matched ones
    whose severity moved. Deltas are after - before (B - A).
    """
    check_a = before.get("check") or {}
    check_b = after.get("check") or {}
    added, resolved, pairs = _match_findings(
        list(check_a.get("findings") or []), list(check_b.get("findings") or [])
    )
    changed = [
        {
            "rule": old.get("rule"),
            "departments": sorted(old.get("departments") or []),
            "kpis": sorted(old.get("kpis") or []),
            "severity_before": old.get("severity"),
            "severity_after": new.get("severity"),
            "message": new.get("message"),
        }
        for old, new in pairs
        if old.get("severity") != new.get("severity")
    ]
    score_a, score_b = before.get("score"), after.get("score")
    totals_a = (score_a or {}).get("totals") or {}
    totals_b = (score_b or {}).get("totals") or {}
    pay_a, pay_b = _money(totals_a.get("payout")), _money(totals_b.get("payout"))
    return {
        "findings": {
            "added": [dict(f) for f in added],
            "resolved": [dict(f) for f in resolved],
            "changed": changed,
            "unchanged": len(pairs) - len(changed),
        },
        "scores": _compare_scores(score_a, score_b),
        "payouts": _compare_payouts(score_a, score_b),
        "allocations": _compare_allocations(before, after),
        "kpis": _compare_kpis(score_a, score_b),
        "scorecard": _compare_scorecards(before.get("scorecard"), after.get("scorecard")),
        "totals": {
            "payout_before": _money_float(pay_a),
            "payout_after": _money_float(pay_b),
            "payout_delta": _money_delta(pay_a, pay_b),
            "findings_before": len(check_a.get("findings") or []),
            "findings_after": len(check_b.get("findings") or []),
            "objective_before": _number((before.get("optimise") or {}).get("objective")),
            "objective_after": _number((after.get("optimise") or {}).get("objective")),
        },
    }
