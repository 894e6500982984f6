"""What-if scenarios: extends chains, overrides addressed by id, sweeps, runs and comparisons.

A scenario names a plan (directly or through other scenarios, ``extends:``), optionally a policy,
forecast actuals and employees, and changes (``set:``) addressed by id::

    departments[sales].kpis[sales.market_share].target
    resources[budget].allocation.marketing          (or resources[budget].allocation[marketing])
    company_kpis[company.revenue].target
    policy.caps.employee                            (a ``policy.`` path changes the policy)

Brackets pick a list item by its ``id`` (response curves by ``kpi`` or ``kpi@resource``) or a
mapping entry by its key (keys with dots, such as KPI ids, need brackets). Each override is
applied to the plan's plain-data form, and the result is validated again as a whole, so a change
that breaks the plan is reported like a broken file.

The module has three layers:

* pure: :func:`parse_path`, :func:`apply_overrides`, :func:`plan_with_overrides`,
  :func:`policy_with_overrides`, :func:`sweep_variants`, :func:`compare_results`,
  :func:`latest_period`;
* the runner: :func:`run_inputs` and :func:`compare_inputs` call the engine on documents that are
  already read (:class:`ScenarioInputs`), which is what the HTTP service uses;
* the file adapter: :func:`read_inputs` (a plan or a scenario file, its ``extends`` chain resolved
  with paths relative to each file, cycles refused), :func:`run_scenario` and
  :func:`compare_paths`.
"""

from __future__ import annotations

import copy
import inspect
import os
import re
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Protocol, Union

import pandas as pd
from pydantic import BaseModel

from alignment_engine import engine
from alignment_engine.errors import InputError, OptimisationError, Problem, ScenarioError
from alignment_engine.loading import (
    LoadedYaml,
    model_from_data,
    read_text,
    yaml_from_text,
)
from alignment_engine.model import Plan, Policy, Scenario, did_you_mean
from alignment_engine.scoring.periods import parse_period

__all__ = [
    "Comparison",
    "LocatedOverride",
    "PathSegment",
    "ScenarioInputs",
    "ScenarioResult",
    "Variant",
    "VariantResult",
    "apply_overrides",
    "compare_inputs",
    "compare_paths",
    "compare_results",
    "inputs_from_documents",
    "latest_period",
    "parse_path",
    "plan_with_overrides",
    "policy_with_overrides",
    "read_inputs",
    "run_inputs",
    "run_scenario",
    "sweep_variants",
]

POLICY_PREFIX = "policy"
MAX_CHAIN = 32  # a longer extends chain is a mistake, not a design
DELTA_DIGITS = 10  # deltas are rounded so that 0.3 - 0.1 prints as 0.2

# ---------------------------------------------------------------------------------------------
# Paths


@dataclass(frozen=True)
class PathSegment:
    """``name`` or ``name[selector]``: a key, then optionally an id (list) or a key (mapping)."""

    name: str
    selector: str | None = None

    def __str__(self) -> str:
        return self.name if self.selector is None else f"{self.name}[{self.selector}]"


_SEGMENT = re.compile(r"([^.\[\]]+)(?:\[([^\[\]]+)\])?")


def parse_path(text: str) -> tuple[PathSegment, ...]:
    """Split ``departments[sales].kpis[sales.market_share].target`` into segments."""
    segments: list[PathSegment] = []
    position = 0
    while True:
        match = _SEGMENT.match(text, position)
        if match is None:
            raise ScenarioError(
                f"path {text!r} is not of the form key[id].key[id].field",
                key=text,
                suggestion="e.g. departments[sales].kpis[sales.market_share].target",
            )
        segments.append(PathSegment(match.group(1), match.group(2)))
        position = match.end()
        if position == len(text):
            return tuple(segments)
        if text[position] != ".":
            raise ScenarioError(
                f"path {text!r}: expected '.' after '{segments[-1]}' at character {position + 1}",
                key=text,
            )
        position += 1


# ---------------------------------------------------------------------------------------------
# Overrides (pure)


@dataclass(frozen=True)
class LocatedOverride:
    """One ``set:`` entry (or a sweep value) and where it was written, for error messages."""

    path: str
    value: Any
    file: str | None = None
    line: int | None = None
    column: int | None = None

    def problem(self, message: str, suggestion: str | None = None) -> Problem:
        return Problem(message, self.file, self.line, self.column, self.path, suggestion)

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "value": self.value}


def _unwrap(annotation: Any) -> list[Any]:
    """The concrete types an annotation may hold (Optional/Union/Annotated stripped)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        found: list[Any] = []
        for arg in typing.get_args(annotation):
            if arg is not type(None):
                found += _unwrap(arg)
        return found
    return [annotation]


def _model_of(annotation: Any) -> type[BaseModel] | None:
    for concrete in _unwrap(annotation):
        if isinstance(concrete, type) and issubclass(concrete, BaseModel):
            return concrete
    return None


def _container_of(annotation: Any, container: type) -> Any | None:
    """The item annotation of ``list[...]`` (container=list) or value of ``dict[...]``."""
    for concrete in _unwrap(annotation):
        if typing.get_origin(concrete) is container:
            args = typing.get_args(concrete)
            return args[-1] if args else Any
    return None


def _field_names(model: type[BaseModel]) -> dict[str, str]:
    """Key as written in files (alias first) -> attribute name."""
    return {(info.alias or name): name for name, info in model.model_fields.items()}


def _item_label(item: Any) -> str | None:
    """How a list item is addressed: its id; a response curve by its KPI."""
    if not isinstance(item, Mapping):
        return None
    if isinstance(item.get("id"), str):
        return str(item["id"])
    if isinstance(item.get("kpi"), str):
        return str(item["kpi"])
    return None


def _item_labels(item: Any) -> list[str]:
    labels = []
    label = _item_label(item)
    if label is not None:
        labels.append(label)
    if isinstance(item, Mapping) and "id" not in item and isinstance(item.get("resource"), str):
        labels.append(f"{item.get('kpi')}@{item['resource']}")
    return labels


def _listing(ids: Iterable[str]) -> str:
    shown = sorted(ids)
    if not shown:
        return "there are none"
    return "ids that exist: " + ", ".join(shown)


class _OverrideFailure(Exception):
    """Raised inside the walk; turned into a located ScenarioError by the caller."""

    def __init__(self, message: str, suggestion: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.suggestion = suggestion


def _select_item(items: list[Any], segment: PathSegment, where: str) -> int:
    selector = str(segment.selector)
    matches = [i for i, item in enumerate(items) if selector in _item_labels(item)]
    if len(matches) == 1:
        return matches[0]
    labels = [label for item in items for label in _item_labels(item)[:1]]
    if len(matches) > 1:
        options = [label for item in items for label in _item_labels(item)[1:]]
        raise _OverrideFailure(
            f"segment '{segment}': {len(matches)} items of {where} match '{selector}'",
            "address one as " + " or ".join(sorted(set(options))) if options else None,
        )
    raise _OverrideFailure(
        f"segment '{segment}': no item '{selector}' in {where}; {_listing(labels)}",
        did_you_mean(selector, labels),
    )


def _apply_one(data: dict[str, Any], model: type[BaseModel], path: str, value: Any) -> None:
    """Set ``value`` at ``path`` inside ``data`` (the model's plain-data form), in place."""
    segments = parse_path(path)
    node: Any = data
    annotation: Any = model
    where = model.__name__.lower()
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        step = _model_of(annotation)
        if step is not None and isinstance(node, dict):
            fields = _field_names(step)
            if segment.name not in fields:
                raise _OverrideFailure(
                    f"segment '{segment}': {where} has no key '{segment.name}'; keys: "
                    + ", ".join(sorted(fields)),
                    did_you_mean(segment.name, fields),
                )
            annotation = step.model_fields[fields[segment.name]].annotation
            key: Any = segment.name
        elif _container_of(annotation, dict) is not None and isinstance(node, dict):
            annotation = _container_of(annotation, dict)
            key = segment.name
            if key not in node and not (last and segment.selector is None):
                raise _OverrideFailure(
                    f"segment '{segment}': no key '{key}' in {where}; "
                    f"{_listing(str(k) for k in node)}",
                    did_you_mean(key, [str(k) for k in node]),
                )
        else:
            raise _OverrideFailure(
                f"segment '{segment}': {where} is a value ({_describe(node)}), "
                f"it has no '{segment.name}'"
            )
        where = f"{where}.{segment.name}" if where != model.__name__.lower() else segment.name
        if segment.selector is None:
            if last:
                node[key] = value
                return
            if key not in node or node[key] is None:
                raise _OverrideFailure(
                    f"segment '{segment}': {where} is not set, so it has no "
                    f"'{segments[index + 1]}'",
                    f"set the whole of '{where}' instead",
                )
            node = node[key]
            continue
        child = node.get(key)
        item_annotation = _container_of(annotation, list)
        map_annotation = _container_of(annotation, dict)
        if isinstance(child, list) and _model_of(item_annotation) is not None:
            position = _select_item(child, segment, where)
            where = f"{where}[{segment.selector}]"
            if last:
                child[position] = value
                return
            node, annotation = child[position], item_annotation
        elif isinstance(child, dict) and map_annotation is not None:
            selector = segment.selector
            where = f"{where}[{selector}]"
            if last:
                child[selector] = value
                return
            if selector not in child:
                raise _OverrideFailure(
                    f"segment '{segment}': no key '{selector}' in {segment.name}; "
                    f"{_listing(str(k) for k in child)}",
                    did_you_mean(selector, [str(k) for k in child]),
                )
            node, annotation = child[selector], map_annotation
        else:
            raise _OverrideFailure(
                f"segment '{segment}': {where} is {_describe(child)}, "
                "not a list of items with ids nor a mapping",
                f"write '{segment.name}' without '[{segment.selector}]' and give its whole value",
            )
    raise AssertionError("unreachable: the loop returns at the last segment")  # pragma: no cover


def _describe(value: Any) -> str:
    if value is None:
        return "not set"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return repr(value)


def apply_overrides(
    data: Mapping[str, Any],
    overrides: Sequence[LocatedOverride],
    model: type[BaseModel] = Plan,
) -> dict[str, Any]:
    """A copy of ``data`` (a document's plain-data form) with each override applied in order.

    Every bad path is reported at once, each naming its bad segment, the ids or keys that
    exist, and a did-you-mean.
    """
    result = copy.deepcopy(dict(data))
    problems = []
    for override in overrides:
        try:
            _apply_one(result, model, override.path, copy.deepcopy(override.value))
        except _OverrideFailure as failure:
            problems.append(override.problem(failure.message, failure.suggestion))
        except ScenarioError as error:
            problems += [override.problem(p.message, p.suggestion) for p in error.problems]
    if problems:
        raise ScenarioError(problems=problems)
    return result


def _document_data(document: BaseModel) -> dict[str, Any]:
    return document.model_dump(mode="json", by_alias=True)


def _revalidated(
    model: type[BaseModel],
    data: dict[str, Any],
    overrides: Sequence[LocatedOverride],
    what: str,
) -> Any:
    source = next((o.file for o in overrides if o.file), None) or "<scenario>"
    try:
        return model_from_data(model, LoadedYaml(data=data, source=source))
    except InputError as error:
        problems = []
        for problem in error.problems:
            culprit = _culprit(problem.key, overrides)
            problems.append(
                Problem(
                    f"after the scenario's changes, the {what} is invalid: {problem.message}",
                    culprit.file if culprit else source,
                    culprit.line if culprit else None,
                    culprit.column if culprit else None,
                    problem.key,
                    problem.suggestion,
                )
            )
        raise ScenarioError(problems=problems) from None


def _culprit(key: str | None, overrides: Sequence[LocatedOverride]) -> LocatedOverride | None:
    """The override most likely to have caused a problem at ``key`` (the last one touching it)."""
    if key is None:
        return overrides[-1] if overrides else None
    for override in reversed(overrides):
        path = override.path.removeprefix(POLICY_PREFIX + ".")
        if key.startswith(path) or path.startswith(key):
            return override
    return overrides[-1] if overrides else None


def _split(
    overrides: Sequence[LocatedOverride],
) -> tuple[list[LocatedOverride], list[LocatedOverride]]:
    """Plan overrides, and policy overrides with the ``policy.`` prefix removed."""
    plan_changes, policy_changes = [], []
    for override in overrides:
        if override.path.startswith(POLICY_PREFIX + ".") or override.path.startswith(
            POLICY_PREFIX + "["
        ):
            policy_changes.append(replace(override, path=override.path[len(POLICY_PREFIX) + 1 :]))
        else:
            plan_changes.append(override)
    return plan_changes, policy_changes


def plan_with_overrides(plan: Plan, overrides: Sequence[LocatedOverride]) -> Plan:
    """The plan with the (non-policy) overrides applied, validated again as a whole."""
    changes, _ = _split(overrides)
    if not changes:
        return plan
    data = apply_overrides(_document_data(plan), changes, Plan)
    return typing.cast(Plan, _revalidated(Plan, data, changes, "plan"))


def policy_with_overrides(
    policy: Policy | None, overrides: Sequence[LocatedOverride]
) -> Policy | None:
    """The policy with the ``policy.`` overrides applied, validated again as a whole."""
    _, changes = _split(overrides)
    if not changes:
        return policy
    if policy is None:
        first = changes[0]
        raise ScenarioError(
            problems=[
                first.problem(
                    "the scenario changes the policy but names none",
                    "add 'policy: <file>' to the scenario",
                )
            ]
        )
    data = apply_overrides(_document_data(policy), changes, Policy)
    return typing.cast(Policy, _revalidated(Policy, data, changes, "policy"))


# ---------------------------------------------------------------------------------------------
# Sweeps (pure)


@dataclass(frozen=True)
class Variant:
    """One run of a scenario: its label, the sweep value (if any) and all overrides in order."""

    label: str
    overrides: tuple[LocatedOverride, ...]
    value: Any = None
    swept: bool = False


def _value_label(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def sweep_variants(
    name: str,
    overrides: Sequence[LocatedOverride],
    sweep: LocatedOverride | None,
    values: Sequence[Any] = (),
) -> list[Variant]:
    """One variant per sweep value (the sweep applied after ``set``), or just the one."""
    if sweep is None:
        return [Variant(name, tuple(overrides))]
    return [
        Variant(
            f"{sweep.path}={_value_label(value)}",
            (*overrides, replace(sweep, value=value)),
            value,
            True,
        )
        for value in values
    ]


# ---------------------------------------------------------------------------------------------
# Periods (pure)


def latest_period(actuals: pd.DataFrame) -> str:
    """The period to score when none is given: of the periods ending last, the longest.

    ``2026-Q3`` wins over ``2026-09`` (both end on 30 September), so a file of quarterly
    results with a few monthly rows is scored for the quarter.
    """
    if "period" not in actuals.columns or actuals.empty:
        raise ScenarioError(
            "the actuals have no periods to score", suggestion="add 'period: 2026-Q3'"
        )
    periods = []
    for text in sorted({str(p) for p in actuals["period"].tolist()}):
        try:
            periods.append(parse_period(text))
        except ValueError as exc:
            raise ScenarioError(str(exc), file=actuals.attrs.get("source")) from None
    last_end = max(p.end for p in periods)
    ending_last = [p for p in periods if p.end == last_end]
    return min(ending_last, key=lambda p: (p.start, p.label)).label


# ---------------------------------------------------------------------------------------------
# Comparisons (pure functions of the SPEC JSON shapes)


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


def compare_results(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """The SPEC ``scenario compare`` shape from two runs.

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


# ---------------------------------------------------------------------------------------------
# The runner: documents already read -> engine calls


@dataclass(frozen=True)
class ScenarioInputs:
    """Everything a scenario run needs, already read and validated."""

    id: str
    plan: Plan  # the base plan, before the overrides
    name: str = ""
    overrides: tuple[LocatedOverride, ...] = ()
    sweep: LocatedOverride | None = None  # its value is unused; see sweep_values
    sweep_values: tuple[Any, ...] = ()
    policy: Policy | None = None
    actuals: pd.DataFrame | None = None
    employees: pd.DataFrame | None = None
    period: str | None = None
    files: tuple[str, ...] = ()  # the extends chain, this file first, the plan last
    is_scenario: bool = True

    def variants(self) -> list[Variant]:
        return sweep_variants(self.id, self.overrides, self.sweep, self.sweep_values)

    def scoring_period(self) -> str | None:
        if self.period is not None:
            return self.period
        if self.actuals is not None:
            return latest_period(self.actuals)
        return None

    def borrowing(self, other: ScenarioInputs) -> ScenarioInputs:
        """These inputs, with the policy, actuals, employees and period they lack taken from
        ``other`` (so a plan compared with a scenario is scored the same way)."""
        return replace(
            self,
            policy=self.policy if self.policy is not None else other.policy,
            actuals=self.actuals if self.actuals is not None else other.actuals,
            employees=self.employees if self.employees is not None else other.employees,
            period=self.period if self.period is not None else other.period,
        )

    def without_changes(self) -> ScenarioInputs:
        """The base: the same plan, policy and actuals, with no overrides and no sweep."""
        return replace(self, id=f"{self.plan.id} (base)", overrides=(), sweep=None, sweep_values=())


@dataclass(frozen=True)
class VariantResult:
    """One variant's results as the SPEC JSON shapes (dicts), and its resolved plan."""

    label: str
    value: Any
    swept: bool
    plan: Plan
    policy: Policy | None
    period: str | None
    check: dict[str, Any] | None
    score: dict[str, Any] | None
    optimise: dict[str, Any] | None
    compare: dict[str, Any] | None = None  # against the base, when asked for

    def run(self) -> dict[str, Any]:
        """The run form :func:`compare_results` takes."""
        return {
            "check": self.check,
            "score": self.score,
            "optimise": self.optimise,
            "allocations": plan_allocations(self.plan),
        }

    def summary(self) -> dict[str, Any]:
        """One row of the tabulated sweep."""
        findings = (self.check or {}).get("findings") or []
        severities = dict.fromkeys(("critical", "high", "medium", "low"), 0)
        for finding in findings:
            severity = str(finding.get("severity"))
            severities[severity] = severities.get(severity, 0) + 1
        totals = (self.score or {}).get("totals") or {}
        company = next(
            (
                d
                for d in (self.score or {}).get("departments") or []
                if d.get("department") == "company"
            ),
            None,
        )
        row: dict[str, Any] = {
            "label": self.label,
            "value": self.value,
            "findings": len(findings),
            **severities,
            "payout": totals.get("payout"),
            "pool": totals.get("pool"),
            "scale": totals.get("scale"),
            "optimise_status": (self.optimise or {}).get("status"),
            "objective": (self.optimise or {}).get("objective"),
        }
        if company is not None:
            row["company_score"] = company.get("score")
        if self.compare is not None:
            row["added"] = len(self.compare["findings"]["added"])
            row["resolved"] = len(self.compare["findings"]["resolved"])
        return row

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "label": self.label,
            "value": self.value,
            "plan": self.plan.id,
            "policy": self.policy.id if self.policy else None,
            "period": self.period,
            "check": self.check,
            "score": self.score,
            "optimise": self.optimise,
        }
        if self.compare is not None:
            body["compare"] = self.compare
        return body


@dataclass(frozen=True)
class ScenarioResult:
    """A scenario run: one result per variant (one per sweep value), tabulated."""

    id: str
    name: str
    files: tuple[str, ...]
    overrides: tuple[LocatedOverride, ...]
    sweep: dict[str, Any] | None
    variants: tuple[VariantResult, ...]
    base: VariantResult | None = None

    def table(self) -> list[dict[str, Any]]:
        return [v.summary() for v in self.variants]

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.id,
            "name": self.name,
            "files": list(self.files),
            "set": [o.to_dict() for o in self.overrides],
            "sweep": self.sweep,
            "table": self.table(),
            "variants": [v.to_dict() for v in self.variants],
            # Without a sweep there is one run: its comparison with the base, at the top too.
            "compare": self.variants[0].compare if len(self.variants) == 1 else None,
        }


def plan_allocations(plan: Plan) -> list[dict[str, Any]]:
    """Today's allocations of the plan's resources, as compare rows."""
    return [
        {"resource": r.id, "department": d, "amount": amount}
        for r in plan.resources
        for d, amount in r.allocation.items()
    ]


class _Result(Protocol):
    """What the engine returns: an object that renders the SPEC's JSON shape."""

    def to_dict(self) -> dict[str, Any]: ...


def _result_dict(result: _Result) -> dict[str, Any]:
    """``result.to_dict()``; a score result leaves the per-employee explanations out (a
    scenario compares and charts amounts; ``score`` is the command that explains them)."""
    to_dict: Callable[..., dict[str, Any]] = result.to_dict
    try:
        parameters = inspect.signature(to_dict).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins without signatures
        parameters = {}  # type: ignore[assignment]
    if "explanations" in parameters:
        return to_dict(explanations="none")
    return to_dict()


@dataclass(frozen=True)
class _Prepared:
    """A variant with its changed plan and policy, validated before any engine call."""

    variant: Variant
    plan: Plan
    policy: Policy | None


def _prepare(inputs: ScenarioInputs, variant: Variant) -> _Prepared:
    return _Prepared(
        variant,
        plan_with_overrides(inputs.plan, variant.overrides),
        policy_with_overrides(inputs.policy, variant.overrides),
    )


def _run_variant(
    inputs: ScenarioInputs,
    prepared: _Prepared,
    rule_dirs: Sequence[str | Path],
    options: engine.OptimiseOptions,
) -> VariantResult:
    variant, plan, policy = prepared.variant, prepared.plan, prepared.policy
    check = _result_dict(engine.check_plan(plan, policy, rule_dirs))
    score = None
    period = None
    if policy is not None and inputs.actuals is not None:
        period = inputs.scoring_period()
        score = _result_dict(
            engine.score_period(
                plan, policy, inputs.actuals, inputs.employees, typing.cast(str, period)
            )
        )
    optimise = None
    if plan.resources:
        try:
            optimise = _result_dict(engine.suggest_reallocation(plan, options))
        except OptimisationError as error:
            # A what-if may make the reallocation impossible; the other results still stand.
            optimise = {
                "status": error.code,
                "objective": None,
                "allocations": [],
                "predicted": [],
                "message": error.message,
            }
    return VariantResult(
        variant.label, variant.value, variant.swept, plan, policy, period, check, score, optimise
    )


def run_inputs(
    inputs: ScenarioInputs,
    *,
    rule_dirs: Sequence[str | Path] = (),
    options: engine.OptimiseOptions | None = None,
    against_base: bool = True,
) -> ScenarioResult:
    """Check, score (with a policy and actuals) and optimise (with resources) each variant.

    With ``against_base``, the plan without the scenario's changes is run too, and each variant
    carries its comparison with it (``compare``): what the changes add and resolve.
    """
    chosen = options or engine.OptimiseOptions()
    # Every variant's plan is built first: a bad override fails before any work is done.
    prepared = [_prepare(inputs, variant) for variant in inputs.variants()]
    base = None
    if against_base and (inputs.overrides or inputs.sweep is not None):
        base = _run_variant(inputs, _prepare(inputs, Variant("base", ())), rule_dirs, chosen)
    results = []
    for variant in prepared:
        result = _run_variant(inputs, variant, rule_dirs, chosen)
        if base is not None:
            result = replace(result, compare=compare_results(base.run(), result.run()))
        results.append(result)
    sweep = None
    if inputs.sweep is not None:
        sweep = {"path": inputs.sweep.path, "values": list(inputs.sweep_values)}
    return ScenarioResult(
        inputs.id,
        inputs.name,
        inputs.files,
        inputs.overrides,
        sweep,
        tuple(results),
        base,
    )


@dataclass(frozen=True)
class Comparison:
    """``scenario compare A B``: the two runs and their differences."""

    a: VariantResult
    b: VariantResult
    a_name: str
    b_name: str
    differences: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {**self.differences, "a": self.a_name, "b": self.b_name}


def compare_inputs(
    a: ScenarioInputs,
    b: ScenarioInputs,
    *,
    rule_dirs: Sequence[str | Path] = (),
    options: engine.OptimiseOptions | None = None,
) -> Comparison:
    """Run A and B (each without its sweep) and compare them. A side without a policy or
    actuals borrows the other's, so both are scored alike."""
    chosen = options or engine.OptimiseOptions()
    left, right = a.borrowing(b), b.borrowing(a)
    prepared_a = _prepare(left, Variant(a.id, a.overrides))
    prepared_b = _prepare(right, Variant(b.id, b.overrides))
    run_a = _run_variant(left, prepared_a, rule_dirs, chosen)
    run_b = _run_variant(right, prepared_b, rule_dirs, chosen)
    return Comparison(run_a, run_b, a.id, b.id, compare_results(run_a.run(), run_b.run()))


def inputs_from_documents(
    scenario: Scenario,
    plan: Plan,
    *,
    policy: Policy | None = None,
    actuals: pd.DataFrame | None = None,
    employees: pd.DataFrame | None = None,
    source: str = "<scenario>",
) -> ScenarioInputs:
    """Inputs from documents already in memory (an HTTP request): ``plan`` stands for the
    scenario's ``extends``; its ``set``, ``sweep`` and ``period`` apply. Errors name ``source``
    and the key (``set[0].path``)."""
    overrides = tuple(LocatedOverride(o.path, o.value, source) for o in scenario.set)
    sweep = None
    values: tuple[Any, ...] = ()
    if scenario.sweep is not None:
        sweep = LocatedOverride(scenario.sweep.path, None, source)
        values = tuple(scenario.sweep.values)
    return ScenarioInputs(
        id=scenario.id,
        name=scenario.name,
        plan=plan,
        overrides=overrides,
        sweep=sweep,
        sweep_values=values,
        policy=policy,
        actuals=actuals,
        employees=employees,
        period=scenario.period,
        files=(source,),
    )


# ---------------------------------------------------------------------------------------------
# The file adapter: read a plan or a scenario and its extends chain


@dataclass(frozen=True)
class _Layer:
    scenario: Scenario
    file: Path
    loaded: LoadedYaml

    def locate(self, *path: str | int) -> tuple[int | None, int | None]:
        return self.loaded.locate(path)

    def problem(self, key: str, message: str, suggestion: str | None = None) -> Problem:
        line, column = self.locate(key)
        return Problem(message, str(self.file), line, column, key, suggestion)


def _beside(file: Path, relative: str) -> Path:
    """``relative`` read from ``file``'s folder, with ``..`` collapsed (links are kept)."""
    return Path(os.path.normpath(file.parent / relative))


def _missing_file(layer: _Layer, key: str, target: Path) -> ScenarioError:
    siblings = (
        sorted(p.name for p in target.parent.iterdir() if p.suffix == target.suffix)
        if target.parent.is_dir()
        else []
    )
    return ScenarioError(
        problems=[
            layer.problem(
                key,
                f"file '{getattr(layer.scenario, key)}' does not exist (looked in {target.parent})",
                did_you_mean(target.name, siblings),
            )
        ]
    )


def _read_document(path: Path) -> tuple[str, LoadedYaml]:
    loaded = yaml_from_text(read_text(path), str(path))
    kind = loaded.data.get("kind") if isinstance(loaded.data, Mapping) else None
    return str(kind), loaded


def _chain(path: Path) -> tuple[list[_Layer], Plan, Path]:
    """The scenario layers (outermost first) and the plan at the end of the chain."""
    layers: list[_Layer] = []
    current = path
    seen: list[Path] = []
    while True:
        resolved = current.resolve()
        if resolved in seen:
            cycle = " -> ".join(str(p) for p in [*seen[seen.index(resolved) :], resolved])
            raise ScenarioError(
                problems=[
                    layers[-1].problem(
                        "extends",
                        f"the extends chain goes round in a circle: {cycle}",
                        "make one scenario extend the plan instead",
                    )
                ]
            )
        if len(seen) >= MAX_CHAIN:
            raise ScenarioError(
                problems=[
                    layers[-1].problem(
                        "extends", f"the extends chain is longer than {MAX_CHAIN} files"
                    )
                ]
            )
        seen.append(resolved)
        kind, loaded = _read_document(current)
        if kind == "plan":
            return layers, model_from_data(Plan, loaded), current
        if kind != "scenario":
            if layers:
                raise ScenarioError(
                    problems=[
                        layers[-1].problem(
                            "extends",
                            f"'{layers[-1].scenario.extends}' is a {kind} file; a scenario "
                            "extends a plan or another scenario",
                        )
                    ]
                )
            line, column = loaded.locate(("kind",))
            raise ScenarioError(
                f"expected a plan or a scenario, found kind '{kind}'",
                file=str(current),
                line=line,
                column=column,
                key="kind",
            )
        layer = _Layer(model_from_data(Scenario, loaded), current, loaded)
        layers.append(layer)
        target = _beside(current, layer.scenario.extends)
        if not target.is_file():
            raise _missing_file(layer, "extends", target)
        current = target


def _located_overrides(layer: _Layer) -> list[LocatedOverride]:
    found = []
    for index, override in enumerate(layer.scenario.set):
        line, column = layer.locate("set", index, "path")
        found.append(LocatedOverride(override.path, override.value, str(layer.file), line, column))
    return found


def _nearest(layers: Sequence[_Layer], key: str) -> tuple[_Layer, Any] | None:
    """The outermost layer that sets ``key`` (an outer scenario replaces what it extends)."""
    for layer in layers:
        value = getattr(layer.scenario, key)
        if value is not None:
            return layer, value
    return None


def _file_of(layers: Sequence[_Layer], key: str) -> Path | None:
    found = _nearest(layers, key)
    if found is None:
        return None
    layer, value = found
    target = _beside(layer.file, str(value))
    if not target.is_file():
        raise _missing_file(layer, key, target)
    return target


def read_inputs(path: str | Path) -> ScenarioInputs:
    """Read a plan or a scenario file, with its extends chain, policy and tables."""
    from alignment_engine.loading import policy_from_yaml
    from alignment_engine.tables import ACTUALS, EMPLOYEES, read_table

    start = Path(path)
    if not start.is_file():
        raise ScenarioError("no such file" if not start.exists() else "not a file", file=str(path))
    layers, plan, plan_file = _chain(start)
    files = (*(str(layer.file) for layer in layers), str(plan_file))
    if not layers:
        return ScenarioInputs(id=plan.id, name=plan.name, plan=plan, files=files, is_scenario=False)
    overrides: list[LocatedOverride] = []
    for layer in reversed(layers):  # the one nearest the plan first; outer layers win
        overrides += _located_overrides(layer)
    policy_file = _file_of(layers, "policy")
    actuals_file = _file_of(layers, "actuals")
    employees_file = _file_of(layers, "employees")
    period = _nearest(layers, "period")
    sweep_layer = next((layer for layer in layers if layer.scenario.sweep is not None), None)
    sweep = None
    sweep_values: tuple[Any, ...] = ()
    if sweep_layer is not None and sweep_layer.scenario.sweep is not None:
        line, column = sweep_layer.locate("sweep", "path")
        sweep = LocatedOverride(
            sweep_layer.scenario.sweep.path, None, str(sweep_layer.file), line, column
        )
        sweep_values = tuple(sweep_layer.scenario.sweep.values)
    outer = layers[0].scenario
    return ScenarioInputs(
        id=outer.id,
        name=outer.name,
        plan=plan,
        overrides=tuple(overrides),
        sweep=sweep,
        sweep_values=sweep_values,
        policy=policy_from_yaml(policy_file) if policy_file else None,
        actuals=read_table(actuals_file, ACTUALS) if actuals_file else None,
        employees=read_table(employees_file, EMPLOYEES) if employees_file else None,
        period=str(period[1]) if period else None,
        files=files,
    )


def run_scenario(
    path: str | Path,
    *,
    rule_dirs: Sequence[str | Path] = (),
    options: engine.OptimiseOptions | None = None,
    against_base: bool = True,
) -> ScenarioResult:
    """Read a scenario (or a plan) and run it: see :func:`run_inputs`."""
    return run_inputs(
        read_inputs(path), rule_dirs=rule_dirs, options=options, against_base=against_base
    )


def compare_paths(
    a: str | Path,
    b: str | Path,
    *,
    rule_dirs: Sequence[str | Path] = (),
    options: engine.OptimiseOptions | None = None,
) -> Comparison:
    """Compare two plans or scenarios: see :func:`compare_inputs`."""
    return compare_inputs(read_inputs(a), read_inputs(b), rule_dirs=rule_dirs, options=options)


def check_scenario_file(path: str | Path) -> None:
    """Resolve a scenario as ``scenario run`` would (extends chain, files, every override and
    sweep value applied and the result validated) without running the engine; raises the
    same errors. ``validate`` uses this so that a file it accepts also runs."""
    inputs = read_inputs(path)
    for variant in inputs.variants():
        _prepare(inputs, variant)
