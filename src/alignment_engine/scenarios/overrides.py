"""Overrides addressed by id, applied to a plan's or a policy's plain-data form (pure).

Each override is applied to the document's plain-data form, and the result is validated again as
a whole, so a change that breaks the plan is reported like a broken file. A ``policy.`` path
changes the policy; every other path changes the plan.
"""

from __future__ import annotations

import copy
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from pydantic import BaseModel

from alignment_engine.errors import InputError, Problem, ScenarioError
from alignment_engine.model import Plan, Policy, did_you_mean
from alignment_engine.model.common import annotation_types
from alignment_engine.model.located import validated
from alignment_engine.scenarios.paths import PathSegment, parse_path

POLICY_PREFIX = "policy"


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


def _model_of(annotation: Any) -> type[BaseModel] | None:
    for concrete in annotation_types(annotation):
        if isinstance(concrete, type) and issubclass(concrete, BaseModel):
            return concrete
    return None


def _container_of(annotation: Any, container: type) -> Any | None:
    """The item annotation of ``list[...]`` (container=list) or value of ``dict[...]``."""
    for concrete in annotation_types(annotation):
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
        return validated(model, data, source)
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
