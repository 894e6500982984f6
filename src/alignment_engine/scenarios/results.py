"""What a scenario run returns: per-variant results, the tabulated run, a comparison."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alignment_engine.model import Plan, Policy
from alignment_engine.scenarios.overrides import LocatedOverride


@dataclass(frozen=True)
class VariantResult:
    """One variant's results as their ``--format json`` shapes (dicts), and its resolved plan."""

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
    scorecard: dict[str, Any] | None = None  # the forecast scorecard, with actuals
    #: Each finding's texts in the language asked for, in ``check``'s order (None where its
    #: rule has none); empty in English. Kept beside the results, which stay in English.
    translations: tuple[dict[str, Any] | None, ...] = ()

    def run(self) -> dict[str, Any]:
        """The run form :func:`compare_results` takes."""
        return {
            "check": self.check,
            "score": self.score,
            "optimise": self.optimise,
            "scorecard": self.scorecard,
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
        if self.scorecard is not None:
            row["scorecard"] = self.scorecard["overall"]["score"]
            row["scorecard_status"] = self.scorecard["overall"]["status"]
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
            "scorecard": self.scorecard,
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
