"""The ``kind: rules`` file: a pack of rules, checked (compiled) as it is loaded.

A rule matches facts (``when``) and either reports a finding or derives a new fact that later
rules can match (forward chaining)::

    - id: opposing-targets
      kind: conflict
      severity: high
      when:
        - {fact: kpi, as: a, where: "scope == 'department' and sign > 0"}
        - {fact: kpi, as: b, where: "scope == 'department' and metric == a.metric and sign < 0"}
        - {none: goal_member, where: "goal == 'x'"}        # "there is no fact such that ..."
      finding:
        departments: ["{a.department}", "{b.department}"]
        kpis: ["{a.id}", "{b.id}"]
        message: "{a.department} {a.verb} {a.metric} while {b.department} {b.verb} it"
        suggestion: "agree one direction for {a.metric}"

Validating the model also compiles it (names, fields, types and operators are all checked
against the fact types), so ``validate`` and loading report every mistake with its line.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from alignment_engine.model.common import Document, Id
from alignment_engine.model.findings import FindingKind, Severity

__all__ = ["Condition", "Derivation", "FindingTemplate", "FindingText", "Rule", "RulePackFields"]

_NAME = re.compile(r"^[^\W\d]\w*$")
"""Fact types, aliases and derived field names: identifiers (any script, e.g. 指标)."""


def _identifier(value: str, what: str) -> str:
    if not _NAME.match(value):
        raise ValueError(
            f"{what} {value!r} must be a name: letters, digits and '_', not starting with a digit"
        )
    return value


def _lines(value: Any) -> Any:
    # A list of conditions reads better than one long line; they must all hold.
    if isinstance(value, list):
        return [str(v) if isinstance(v, int | float) else v for v in value]
    return value


class Condition(Document):
    """One fact to match (``fact``), or a type of which no fact may match (``none``).

    (Not ``no:``: YAML reads a bare ``no`` as false.)
    """

    fact: str | None = Field(default=None, description="fact type to match")
    none: str | None = Field(
        default=None, description="fact type of which none may match (negation)"
    )
    as_: str | None = Field(
        default=None,
        alias="as",
        description="name for the matched fact (default: its type); later conditions, "
        "derived fields and messages use it",
    )
    where: str | list[str] | None = Field(
        default=None,
        description="expression (or list of expressions, all holding) over this fact's fields "
        "and those of facts matched before",
    )

    @field_validator("fact", "none")
    @classmethod
    def _type_name(cls, value: str | None) -> str | None:
        return None if value is None else _identifier(value, "fact type")

    @field_validator("as_")
    @classmethod
    def _alias(cls, value: str | None) -> str | None:
        return None if value is None else _identifier(value, "alias")

    @field_validator("where", mode="before")
    @classmethod
    def _where(cls, value: Any) -> Any:
        return _lines(value)

    @model_validator(mode="after")
    def _one_kind(self) -> Condition:
        if (self.fact is None) == (self.none is None):
            raise ValueError("a condition has either 'fact: TYPE' or 'none: TYPE'")
        return self

    @property
    def fact_type(self) -> str:
        return self.fact or self.none or ""

    @property
    def negated(self) -> bool:
        return self.none is not None

    @property
    def alias(self) -> str:
        return self.as_ or self.fact_type

    def expressions(self) -> list[str]:
        if self.where is None:
            return []
        return [self.where] if isinstance(self.where, str) else list(self.where)


class FindingText(Document):
    """A finding's texts in another language (the same placeholders as the English ones)."""

    message: str = Field(min_length=1)
    suggestion: str = ""
    description: str = Field(
        default="",
        description="the rule's description in this language (plain text), shown by rules "
        "list; without it, the English one",
    )


class FindingTemplate(Document):
    """What a match reports. Texts hold ``{expression}`` or ``{expression:format}`` placeholders."""

    message: str = Field(min_length=1)
    suggestion: str = ""
    departments: list[str] = Field(default_factory=list)
    kpis: list[str] = Field(default_factory=list)
    objectives: list[str] = Field(default_factory=list)
    resources: list[str] = Field(default_factory=list)
    rank: str | None = Field(
        default=None,
        description="expression; when several matches report the same finding (same rule and "
        "ids), the one with the lowest rank is kept",
    )
    group_by: list[str] = Field(
        default_factory=list,
        description="expressions; matches with equal values report one finding, whose id "
        "lists collect every match's and whose texts read the lowest-ranked match, with the "
        "list fields of each matched fact collected over the group",
    )
    count: str | None = Field(
        default=None,
        description="a number expression summed over a group's matches (once per distinct "
        "set of the facts it reads), shown as group.count",
    )
    parties: list[str] = Field(
        default_factory=list,
        description="two aliases of kpi_group facts: a match keeps only the members that "
        "conflict with a member on the other side, and is dropped when none do",
    )
    translations: dict[str, FindingText] = Field(
        default_factory=dict,
        description="the message and suggestion (and the rule's description) in other "
        "languages, by language (zh-CN): shown by the CLI and the report in that language; "
        "JSON results keep the English",
    )

    @field_validator("translations")
    @classmethod
    def _languages(cls, value: dict[str, FindingText]) -> dict[str, FindingText]:
        from alignment_engine.i18n import LANGUAGES

        others = ", ".join(k for k in LANGUAGES if k != "en")
        for language in value:
            if language == "en":
                raise ValueError(f"'en' is the message itself; translations are for {others}")
            if language not in LANGUAGES:
                raise ValueError(f"no translations in {language!r}: languages are {others}")
        return value


class Derivation(Document):
    """A fact the rule adds for later rules: its type and each field's value expression."""

    fact: str
    fields: dict[str, str | float | bool] = Field(min_length=1)
    key: list[str] = Field(
        default_factory=list,
        description="fields that identify a derived fact (default: all); a second derivation "
        "with the same key is ignored, which also stops cycles",
    )

    @field_validator("fact")
    @classmethod
    def _type_name(cls, value: str) -> str:
        return _identifier(value, "fact type")

    @field_validator("fields")
    @classmethod
    def _field_names(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name in value:
            _identifier(name, "field")
            if name in ("type", "id", "sid"):
                raise ValueError(f"'{name}' is reserved; choose another field name")
        return value


class Rule(Document):
    id: Id
    description: str = ""
    kind: FindingKind | None = None
    severity: Severity | None = None
    when: list[Condition] = Field(min_length=1)
    finding: FindingTemplate | None = None
    derive: Derivation | None = None

    @model_validator(mode="after")
    def _finding_or_derivation(self) -> Rule:
        if (self.finding is None) == (self.derive is None):
            raise ValueError(
                "a rule has either 'finding:' (it reports) or 'derive:' (it adds a fact)"
            )
        if self.finding is not None and (self.kind is None or self.severity is None):
            raise ValueError("a rule with a finding needs 'kind:' and 'severity:'")
        if self.derive is not None and (self.kind is not None or self.severity is not None):
            raise ValueError("a 'derive:' rule reports nothing, so it takes no kind or severity")
        if all(c.negated for c in self.when):
            raise ValueError("a rule needs at least one 'fact:' condition, not only 'none:' ones")
        return self


class RulePackFields(Document):
    # A rule pack's fields as written. The document model is ``ruleset.compiler.RulePack``,
    # which compiles the pack when it is validated (so the compiler depends on this module,
    # never the other way). No docstring: it would become the JSON Schema's description.

    kind: Literal["rules"] = "rules"
    id: Id
    name: str = ""
    description: str = ""
    rules: list[Rule] = Field(min_length=1)

    def rule_ids(self) -> list[str]:
        return [rule.id for rule in self.rules]
