"""``derive`` templates: facts a rule asserts from its matched facts (forward chaining),
parsed when the ruleset is compiled and instantiated for each match."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from alignment_engine.errors import RuleError
from alignment_engine.ruleset.durable.facts import check_name, field_value, internal_path
from alignment_engine.ruleset.durable.jsontext import (
    PLAIN,
    ValueProblem,
    format_scalar,
    plain_scalar,
)


@dataclass(frozen=True, slots=True)
class TemplateRef:
    alias: str
    path: tuple[str, ...]


def parse_derive(raw: object, positives: Sequence[str]) -> list[Any]:
    if not isinstance(raw, list | tuple):
        raise ValueProblem("'derive' is a list of fact templates")
    templates = []
    for template in raw:
        if not isinstance(template, Mapping) or not template:
            raise ValueProblem("a 'derive' template is a non-empty mapping of fields")
        templates.append(_parse_template(template, positives))
    return templates


def _parse_template(value: object, positives: Sequence[str]) -> Any:
    if isinstance(value, Mapping):
        if set(value) == {"$ref"}:
            target = value["$ref"]
            if not isinstance(target, str) or "." not in target:
                raise ValueProblem("$ref takes 'alias.field'")
            alias, path = target.split(".", 1)
            if alias not in positives:
                raise ValueProblem(
                    f"$ref '{target}': '{alias}' is not a positive alias of this rule "
                    f"(known: {', '.join(positives)})"
                )
            internal_path(path)
            return TemplateRef(alias, tuple(path.split(".")))
        result = {}
        for key, item in value.items():
            result[check_name(key, "field name")] = _parse_template(item, positives)
        return result
    if isinstance(value, list | tuple):
        return [_parse_template(item, positives) for item in value]
    plain = value if value is None or type(value) in PLAIN else plain_scalar(value)
    format_scalar(plain)
    return plain


def template_refs(template: Any) -> Iterator[TemplateRef]:
    if isinstance(template, TemplateRef):
        yield template
    elif isinstance(template, dict):
        for item in template.values():
            yield from template_refs(item)
    elif isinstance(template, list):
        for item in template:
            yield from template_refs(item)


def instantiate(template: Any, bound: Mapping[str, Mapping[str, Any]]) -> Any:
    if isinstance(template, TemplateRef):
        present, value = field_value(bound[template.alias], template.path)
        if not present:  # pragma: no cover - the alias's condition requires the field
            raise RuleError(f"a matched fact has no field {'.'.join(template.path)}")
        return copy.deepcopy(value)
    if isinstance(template, dict):
        return {key: instantiate(item, bound) for key, item in template.items()}
    if isinstance(template, list):
        return [instantiate(item, bound) for item in template]
    return template
