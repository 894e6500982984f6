"""What ``check`` reports: findings of the alignment and conflict rules (docs/cli.md, ``check``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from pydantic import Field

from alignment_engine.model.common import Document


class Severity(StrEnum):
    """How bad a finding is: low, medium, high, critical (compare with ``rank``)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 for low up to 3 for critical: compare severities with this, not with their text."""
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {
    Severity.LOW: 0,
    Severity.MEDIUM: 1,
    Severity.HIGH: 2,
    Severity.CRITICAL: 3,
}


class FindingKind(StrEnum):
    ALIGNMENT = "alignment"  # the plan's structure: links, coverage, weights, levels, horizons
    CONFLICT = "conflict"  # departments' targets or demands pull against each other


class FindingTranslation(Document):
    """A finding's message and suggestion in the language a check was run in (``check
    --lang zh-CN``), when its rule has them: the CLI and the report show these."""

    language: str
    message: str
    suggestion: str = ""


class Finding(Document):
    """One problem found in a plan, with everything involved and what to do about it.

    ``message`` and ``suggestion`` are always English (what tools read); ``translation``, when
    present, holds them in the language the check was run in."""

    rule: str
    kind: FindingKind
    severity: Severity
    departments: list[str] = Field(default_factory=list)
    kpis: list[str] = Field(default_factory=list)
    objectives: list[str] = Field(default_factory=list)
    resources: list[str] = Field(default_factory=list)
    message: str
    suggestion: str = ""
    translation: FindingTranslation | None = None

    @classmethod
    def trusted(cls, values: dict[str, Any]) -> Finding:
        """A finding from values already of its fields' types (every field given): what
        ``model_construct`` makes, without its per-field pass (a large check builds 200,000;
        a test keeps the two the same)."""
        finding = cls.__new__(cls)
        _set = object.__setattr__
        _set(finding, "__dict__", values)
        _set(finding, "__pydantic_fields_set__", set(values))
        _set(finding, "__pydantic_extra__", None)
        _set(finding, "__pydantic_private__", None)
        return finding

    def identity(self) -> tuple[Any, ...]:
        """Two findings with the same identity report the same problem (kept once).

        The rule and the ids involved, in any order; a finding that names no ids at all is
        told apart by its message.
        """
        ids = (
            tuple(sorted(self.departments)),
            tuple(sorted(self.kpis)),
            tuple(sorted(self.objectives)),
            tuple(sorted(self.resources)),
        )
        if not any(ids):
            return (self.rule, *ids, self.message)
        return (self.rule, *ids)

    def to_dict(self) -> dict[str, Any]:
        # What model_dump(mode="json") gives, built directly: a large check has 200,000.
        found: dict[str, Any] = {
            "rule": self.rule,
            "kind": self.kind.value,
            "severity": self.severity.value,
            "departments": list(self.departments),
            "kpis": list(self.kpis),
            "objectives": list(self.objectives),
            "resources": list(self.resources),
            "message": self.message,
            "suggestion": self.suggestion,
        }
        if self.translation is not None:
            found["translation"] = self.translation.model_dump()
        return found

    def shown(self, language: str) -> tuple[str, str]:
        """The message and suggestion to show a reader of ``language``."""
        translation = self.translation
        if translation is not None and translation.language == language:
            return translation.message, translation.suggestion
        return self.message, self.suggestion

    def sort_key(self) -> tuple[Any, ...]:
        """Most severe first, then by rule and the ids involved: a total, stable order."""
        return (
            -self.severity.rank,
            self.kind.value,
            self.rule,
            self.departments,
            self.kpis,
            self.objectives,
            self.resources,
            self.message,
            self.suggestion,
        )


class CheckResult(Document):
    """The findings of one check and a summary of them: ``to_dict()`` is ``check --format json`` (docs/cli.md)."""

    findings: list[Finding] = Field(default_factory=list)
    summary: dict[str, Any] = Field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "findings": [finding.to_dict() for finding in self.findings],
            "summary": self.summary,
        }

    def at_or_above(self, severity: Severity) -> list[Finding]:
        return [f for f in self.findings if f.severity.rank >= severity.rank]


def shown_texts(finding: Mapping[str, Any], language: str) -> tuple[str, str]:
    """A finding's (as a result document has it) message and suggestion for a reader of
    ``language``: its translation when it is in that language, else the English."""
    translation = finding.get("translation")
    if isinstance(translation, dict) and translation.get("language") == language:
        return str(translation.get("message", "")), str(translation.get("suggestion") or "")
    return str(finding.get("message", "")), str(finding.get("suggestion") or "")


def summarise(findings: list[Finding], **extra: Any) -> dict[str, Any]:
    """Counts by severity, kind and rule (every severity and kind present, zeros included)."""
    # One pass (a large check has 200,000 findings): rule, severity and kind counted together.
    counted = Counter((f.rule, f.severity, f.kind) for f in findings)
    by_rule: Counter[str] = Counter()
    by_severity: Counter[Severity] = Counter()
    by_kind: Counter[FindingKind] = Counter()
    for (rule, severity, kind), number in counted.items():
        by_rule[rule] += number
        by_severity[severity] += number
        by_kind[kind] += number
    return {
        "total": len(findings),
        "by_severity": {
            severity.value: by_severity[severity]
            for severity in sorted(Severity, key=lambda s: -s.rank)
        },
        "by_kind": {kind.value: by_kind[kind] for kind in FindingKind},
        "by_rule": dict(sorted(by_rule.items())),
        **extra,
    }


__all__ = [
    "CheckResult",
    "Finding",
    "FindingKind",
    "FindingTranslation",
    "Severity",
    "shown_texts",
    "summarise",
]
