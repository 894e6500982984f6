"""The ``kind: rule-tests`` document: cases of a small plan (or facts) and the findings the rules
must report on them (pure models; :mod:`.testing` runs them)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from alignment_engine.model.common import Document, Id
from alignment_engine.model.findings import Finding, FindingKind, Severity

__all__ = ["ExpectedFinding", "RuleTestCase", "RuleTestFile"]


class ExpectedFinding(Document):
    """What a finding must look like; keys left out are not compared."""

    rule: str
    kind: FindingKind | None = None
    severity: Severity | None = None
    departments: list[str] | None = None
    kpis: list[str] | None = None
    objectives: list[str] | None = None
    resources: list[str] | None = None
    message: str | None = None
    message_contains: str | None = None
    suggestion: str | None = None
    suggestion_contains: str | None = None

    def matches(self, finding: Finding) -> bool:
        if finding.rule != self.rule:
            return False
        if self.kind is not None and finding.kind is not self.kind:
            return False
        if self.severity is not None and finding.severity is not self.severity:
            return False
        for name in ("departments", "kpis", "objectives", "resources"):
            wanted = getattr(self, name)
            if wanted is not None and sorted(wanted) != sorted(getattr(finding, name)):
                return False
        texts = (
            (self.message, self.message_contains, finding.message),
            (self.suggestion, self.suggestion_contains, finding.suggestion),
        )
        for exact, part, actual in texts:
            if exact is not None and " ".join(exact.split()) != actual:
                return False
            if part is not None and " ".join(part.split()) not in actual:
                return False
        return True

    def shown(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class RuleTestCase(Document):
    name: str = Field(min_length=1)
    description: str = ""
    plan: dict[str, Any] | None = None
    plan_file: str | None = None
    policy: dict[str, Any] | None = None
    policy_file: str | None = None
    facts: list[dict[str, Any]] | None = None
    rules: list[str] | None = None
    expect: list[ExpectedFinding]

    @model_validator(mode="after")
    def _one_input(self) -> RuleTestCase:
        given = [x for x in (self.plan, self.plan_file, self.facts) if x is not None]
        if len(given) != 1:
            raise ValueError("a case gives exactly one of: plan, plan_file, facts")
        if self.facts is not None and (self.policy is not None or self.policy_file is not None):
            raise ValueError("a policy goes with a plan, not with raw facts")
        if self.policy is not None and self.policy_file is not None:
            raise ValueError("give policy or policy_file, not both")
        return self


class RuleTestFile(Document):
    kind: Literal["rule-tests"] = "rule-tests"
    id: Id
    description: str = ""
    rules: list[str] = Field(default_factory=list)
    cases: list[RuleTestCase] = Field(min_length=1)
