"""What changed between two runs: payouts per employee, findings, or the result JSON itself."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from alignment_engine.storage.canonical import canonical_json

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["RunDiff", "findings_diff", "json_diff", "payouts_diff"]

# Keys every run has its own value for; a diff that always reported them would hide the news.
_RUN_OWN_KEYS = frozenset({"run_id"})


@dataclass(frozen=True)
class RunDiff:
    """The difference between run ``a`` and run ``b`` (b minus a)."""

    a: str
    b: str
    kind: str
    payouts: dict[str, Any] | None = None
    findings: dict[str, Any] | None = None
    changes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        if self.payouts is not None:
            totals = self.payouts["totals"]
            return not (totals["changed"] or totals["added"] or totals["removed"])
        if self.findings is not None:
            return not (self.findings["added"] or self.findings["removed"])
        return not self.changes

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"a": self.a, "b": self.b, "kind": self.kind}
        if self.payouts is not None:
            body["payouts"] = self.payouts
        if self.findings is not None:
            body["findings"] = self.findings
        body["changes"] = self.changes
        body["identical"] = self.identical
        return body


def _amounts(units: np.ndarray[Any, Any], decimals: int) -> list[float | None]:
    values: list[float | None] = (units.astype(np.float64) / float(10**decimals)).tolist()
    for index in np.flatnonzero(np.isnan(units.astype(np.float64))).tolist():
        values[index] = None
    return values


def payouts_diff(
    a: pd.DataFrame, b: pd.DataFrame, decimals_a: int, decimals_b: int
) -> dict[str, Any]:
    """Per-employee payout changes (only employees whose payout changed, joined or left) and
    totals. Amounts are compared in integer units at the finer of the two roundings."""
    decimals = max(decimals_a, decimals_b)
    left = a[["employee_id", "department", "payout_units"]].copy()
    right = b[["employee_id", "department", "payout_units"]].copy()
    left["payout_units"] = left["payout_units"].astype(np.int64) * 10 ** (decimals - decimals_a)
    right["payout_units"] = right["payout_units"].astype(np.int64) * 10 ** (decimals - decimals_b)
    merged = left.merge(
        right, on="employee_id", how="outer", suffixes=("_a", "_b"), indicator=True, sort=False
    )
    units_a = merged["payout_units_a"].to_numpy(dtype=np.float64)
    units_b = merged["payout_units_b"].to_numpy(dtype=np.float64)
    both = merged["_merge"].to_numpy() == "both"
    changed = both & (units_a != units_b)
    added = merged["_merge"].to_numpy() == "right_only"
    removed = merged["_merge"].to_numpy() == "left_only"
    shown = merged[changed | added | removed]
    shown_a = units_a[changed | added | removed]
    shown_b = units_b[changed | added | removed]
    delta = np.nan_to_num(shown_b) - np.nan_to_num(shown_a)
    status = np.where(
        added[changed | added | removed],
        "added",
        np.where(removed[changed | added | removed], "removed", "changed"),
    )
    department = shown["department_b"].where(shown["department_b"].notna(), shown["department_a"])
    employees = [
        {
            "employee_id": employee,
            "department": dept,
            "a": amount_a,
            "b": amount_b,
            "delta": amount_delta,
            "status": state,
        }
        for employee, dept, amount_a, amount_b, amount_delta, state in zip(
            shown["employee_id"].astype(str).tolist(),
            department.astype(str).tolist(),
            _amounts(shown_a, decimals),
            _amounts(shown_b, decimals),
            _amounts(delta, decimals),
            status.tolist(),
            strict=True,
        )
    ]
    total_a = int(left["payout_units"].sum())
    total_b = int(right["payout_units"].sum())
    scale = float(10**decimals)
    return {
        "employees": employees,
        "totals": {
            "a": total_a / scale,
            "b": total_b / scale,
            "delta": (total_b - total_a) / scale,
            "changed": int(changed.sum()),
            "added": int(added.sum()),
            "removed": int(removed.sum()),
        },
    }


def findings_diff(a: Sequence[Any], b: Sequence[Any]) -> dict[str, Any]:
    """Findings in b and not in a (added) and the reverse (removed), compared as whole findings."""
    keys_a = Counter(canonical_json(f) for f in a)
    keys_b = Counter(canonical_json(f) for f in b)
    added_keys = keys_b - keys_a
    removed_keys = keys_a - keys_b
    added = [f for f in b if _take(added_keys, canonical_json(f))]
    removed = [f for f in a if _take(removed_keys, canonical_json(f))]
    return {"added": added, "removed": removed, "unchanged": sum((keys_a & keys_b).values())}


def _take(counter: Counter[str], key: str) -> bool:
    if counter[key] > 0:
        counter[key] -= 1
        return True
    return False


def json_diff(a: Any, b: Any, path: str = "") -> list[dict[str, Any]]:
    """Every leaf that differs, as ``{"path", "a", "b"}`` (a missing side is absent, not null).

    Paths look like ``kpis[2].actual``; the top-level ``run_id`` is not compared.
    """
    return _diff(a, b, path, skipped=_RUN_OWN_KEYS, by_id=False)


def document_diff(a: Any, b: Any) -> list[dict[str, Any]]:
    """:func:`json_diff` for documents: lists of objects with ids are matched by id, and paths
    name them as scenario overrides do (``departments[sales].kpis[sales.revenue].target``), so
    a KPI inserted in the middle shows as one addition, not a shifted list."""
    return _diff(a, b, "", skipped=frozenset(), by_id=True)


def _diff(
    a: Any, b: Any, path: str, *, skipped: Collection[str], by_id: bool
) -> list[dict[str, Any]]:
    pairs: list[tuple[str, Any, Any]] | None = None  # (child path, a side, b side)
    if isinstance(a, dict) and isinstance(b, dict):
        keys = [k for k in sorted(set(a) | set(b), key=str) if path or k not in skipped]
        pairs = [(f"{path}.{k}" if path else str(k), a.get(k, _ABSENT), b.get(k, _ABSENT))
                 for k in keys]  # fmt: skip
    elif isinstance(a, list) and isinstance(b, list):
        first, second = (_by_id(a), _by_id(b)) if by_id else (None, None)
        if first is not None and second is not None:
            keys = [*first, *(k for k in second if k not in first)]
            pairs = [(f"{path}[{k}]", first.get(k, _ABSENT), second.get(k, _ABSENT)) for k in keys]
        else:
            pairs = [
                (f"{path}[{i}]", a[i] if i < len(a) else _ABSENT, b[i] if i < len(b) else _ABSENT)
                for i in range(max(len(a), len(b)))
            ]
    if pairs is None:
        return [] if type(a) is type(b) and a == b else [{"path": path, "a": a, "b": b}]
    changes: list[dict[str, Any]] = []
    for child, left, right in pairs:
        if left is _ABSENT:
            changes.append({"path": child, "b": right})
        elif right is _ABSENT:
            changes.append({"path": child, "a": left})
        else:
            changes.extend(_diff(left, right, child, skipped=skipped, by_id=by_id))
    return changes


_ABSENT = object()


def _by_id(items: list[Any]) -> dict[str, Any] | None:
    """The items by their ``id`` when every item is an object with a distinct one."""
    if not all(isinstance(i, dict) and isinstance(i.get("id"), str) for i in items):
        return None
    found = {i["id"]: i for i in items}
    return found if len(found) == len(items) else None
