"""Files -> models. Every error names file:line:column, the key path and a suggestion.

YAML is composed into nodes (which keep their positions) and built into plain data by hand, so
that duplicate keys are refused (PyYAML keeps the last one silently) and alias bombs are stopped
before they expand. Pydantic's errors are then located through the key paths recorded on the way.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel

from alignment_engine.collector import collector_paused
from alignment_engine.errors import InputError
from alignment_engine.model import Plan, Policy, Scenario, did_you_mean
from alignment_engine.model.located import validated

__all__ = [
    "DOCUMENT_KINDS",
    "LoadedYaml",
    "document_from_file",
    "document_from_text",
    "document_models",
    "document_to_yaml",
    "model_from_data",
    "plan_from_yaml",
    "policy_from_yaml",
    "read_text",
    "regular_file",
    "scenario_from_yaml",
    "yaml_from_text",
]

Key = str | int
Path_ = tuple[Key, ...]
ModelT = TypeVar("ModelT", bound=BaseModel)

MAX_ALIAS_VALUES = 200_000
"""Values that aliases may add by repeating what they refer to: far above any real use of
anchors, and what stops a "billion laughs" file. A plan without aliases may be any size (up to
MAX_BYTES): its values are counted once, as written."""
MAX_DEPTH = 64
MAX_BYTES = 50 * 1024 * 1024


def document_models() -> dict[str, type[BaseModel]]:
    """The model of each document kind."""
    # Late: the rule language's models are only needed by the files that hold them.
    from alignment_engine.model.policy_tests import PolicyTestFile
    from alignment_engine.ruleset.compiler import RulePack
    from alignment_engine.ruleset.test_schema import RuleTestFile

    return {
        "plan": Plan,
        "policy": Policy,
        "policy-tests": PolicyTestFile,
        "rules": RulePack,
        "rule-tests": RuleTestFile,
        "scenario": Scenario,
    }


DOCUMENT_KINDS = ("plan", "policy", "policy-tests", "rules", "rule-tests", "scenario")


@dataclass
class LoadedYaml:
    """Plain data from a YAML file plus where each key path was written.

    Positions are looked up in the composed YAML ``root`` when an error needs one (recording
    every path of a 40,000-KPI plan up front cost more than loading it); documents that did not
    come from YAML (HTTP bodies) give ``positions`` instead.
    """

    data: Any
    source: str
    positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    root: yaml.Node | None = None

    def locate(self, path: Sequence[Any]) -> tuple[int | None, int | None]:
        """Line and column (1-based) of the longest known prefix of ``path``."""
        if self.root is not None:
            return _node_position(self.root, tuple(path))
        keys = tuple(path)
        while keys:
            if keys in self.positions:
                return self.positions[keys]
            keys = keys[:-1]
        return self.positions.get((), (None, None))


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _node_position(root: yaml.Node, path: Path_) -> tuple[int, int]:
    """Where the longest prefix of ``path`` is written: a key where the path ends at a mapping
    entry, the item itself in a list."""
    node, found = root, _mark(root)
    for segment in path:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(segment):
                    node, found = value_node, _mark(key_node)
                    break
            else:
                return found
        elif isinstance(node, yaml.SequenceNode) and isinstance(segment, int):
            if not 0 <= segment < len(node.value):
                return found
            node = node.value[segment]
            found = _mark(node)
        else:
            return found
    return found


# ---------------------------------------------------------------------------------------------
# Reading text


def regular_file(path: str | Path) -> Path:
    """``path`` if it is a regular file; else an InputError saying what it is. Devices, pipes
    and sockets are refused before they are opened: /dev/zero never ends, a FIFO blocks."""
    file = str(path)
    target = Path(path)
    if not target.exists():
        raise InputError("no such file", file=file)
    if target.is_dir():
        raise InputError("is a folder, expected a file", file=file)
    if not target.is_file():
        raise InputError(
            "is not a regular file (a device, pipe or socket)",
            file=file,
            suggestion="save the data to a file and give its path",
        )
    return target


def read_text(path: str | Path) -> str:
    """A file's UTF-8 text, or an InputError saying exactly what is wrong with it."""
    file = str(path)
    target = regular_file(path)
    with target.open("rb") as handle:
        raw = handle.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise InputError(f"file is larger than {MAX_BYTES // (1024 * 1024)} MiB", file=file)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError(
            f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
            file=file,
            line=line,
            column=column,
            suggestion="save the file as UTF-8",
        ) from None


# ---------------------------------------------------------------------------------------------
# YAML -> data with positions


_STR = "tag:yaml.org,2002:str"


class _Builder:
    """Composed YAML nodes -> plain data, refusing what plain loading would let through."""

    def __init__(self, source: str, root: yaml.Node) -> None:
        self.source = source
        self.root = root
        self.built: set[int] = set()  # nodes built once; building one again repeats an alias
        self.repeated = 0  # values added by aliases, each repeat of a node counted in full
        self.scalars = yaml.SafeLoader("")
        # Numbers, booleans and nulls recur (100.0, true, 0.5): construct each text once.
        self.constructed: dict[tuple[str, str], Any] = {}

    def fail(
        self, node: yaml.Node, message: str, key: str | None = None, suggestion: str | None = None
    ) -> InputError:
        line, column = _mark(node)
        return InputError(
            message, file=self.source, line=line, column=column, key=key, suggestion=suggestion
        )

    def scalar(self, node: yaml.ScalarNode) -> Any:
        if node.tag == _STR:
            return node.value
        memo = (node.tag, node.value)
        try:
            return self.constructed[memo]
        except KeyError:
            value = self.constructed[memo] = self.scalars.construct_object(node, deep=True)
            return value

    def build(self, node: yaml.Node, depth: int = 0, repeat: bool = False) -> Any:
        if not repeat and id(node) in self.built:
            repeat = True  # an alias: everything below is a copy of values already written
        if repeat:
            self.repeated += 1
            if self.repeated > MAX_ALIAS_VALUES:
                raise self.fail(
                    node,
                    f"aliases expand to more than {MAX_ALIAS_VALUES:,} values "
                    "(aliases nested inside aliases?)",
                    suggestion="write the values out instead of nesting aliases",
                )
        else:
            self.built.add(id(node))
        if depth > MAX_DEPTH:
            raise self.fail(node, f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, depth + 1, repeat) for item in node.value]
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, depth, repeat)
        raise self.fail(node, f"unsupported YAML node {type(node).__name__}")  # pragma: no cover

    def mapping(self, node: yaml.MappingNode, depth: int, repeat: bool) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.fail(key_node, "a key must be a plain value, not a list or mapping")
            if key_node.tag == _STR:  # by far the most common: no constructor
                key: Any = key_node.value
            elif key_node.tag == "tag:yaml.org,2002:merge":
                raise self.fail(
                    key_node,
                    "merge keys ('<<') are not supported",
                    suggestion="repeat the keys you need",
                )
            else:
                key = self.scalar(key_node)
            if not isinstance(key, str | int | float | bool):
                raise self.fail(key_node, f"unsupported key {key!r}")
            key_text = key if isinstance(key, str) else str(key)
            if key_text in result:
                first = next(
                    k
                    for k, _ in node.value
                    if isinstance(k, yaml.ScalarNode) and k.value == key_node.value
                )
                path = _path_to(self.root, node)
                dotted = ".".join(str(p) for p in (*path, key_text))
                raise self.fail(
                    key_node,
                    f"duplicate key '{key_text}' (first at line {_mark(first)[0]})",
                    key=dotted,
                    suggestion="remove one of them",
                )
            result[key_text] = self.build(value_node, depth + 1, repeat)
        return result


def _path_to(root: yaml.Node, target: yaml.Node) -> Path_:
    """The key path of ``target`` below ``root`` (for an error message; searched, not stored)."""
    stack: list[tuple[yaml.Node, Path_]] = [(root, ())]
    seen: set[int] = set()
    while stack:
        node, path = stack.pop()
        if node is target:
            return path
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            stack += [
                (value, (*path, key.value))
                for key, value in node.value
                if isinstance(key, yaml.ScalarNode)
            ]
        elif isinstance(node, yaml.SequenceNode):
            stack += [(item, (*path, index)) for index, item in enumerate(node.value)]
    return ()


class _FastResolver(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """libyaml's loader with each distinct plain scalar resolved once (a plan repeats its
    values: metric ids, levels, horizons), which halves composing a large plan."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._resolved: dict[tuple[str, bool], str] = {}

    # The safe loader has no path resolvers, so the composer's per-node bookkeeping for them
    # (two Python calls per node) has nothing to do.
    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        return None

    def ascend_resolver(self) -> None:
        return None

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode and implicit[0]:
            try:
                return self._resolved[value, implicit[1]]
            except KeyError:
                tag = self._resolved[value, implicit[1]] = super().resolve(kind, value, implicit)
                return tag
        return super().resolve(kind, value, implicit)


def _compose(text: str) -> list[yaml.Node | None]:
    """Compose with libyaml when it is there (about 10x faster on large plans); on a syntax
    error compose again in Python, whose messages are the ones users see and tests pin."""
    if getattr(yaml, "CSafeLoader", None) is not None:
        try:
            return list(yaml.compose_all(text, Loader=_FastResolver))
        except yaml.YAMLError:
            pass
    return list(yaml.compose_all(text, Loader=yaml.SafeLoader))


def yaml_from_text(text: str, source: str) -> LoadedYaml:
    """Parse one YAML document into plain data, recording each key path's line and column."""
    if not text.strip():
        raise InputError("file is empty", file=source, suggestion="start with 'kind:' and 'id:'")
    try:
        with collector_paused():
            nodes = _compose(text)
    except RecursionError:  # libyaml refused the depth and Python's composer ran out of stack
        raise InputError(
            f"nested deeper than {MAX_DEPTH} levels", file=source, suggestion=None
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        hint = None
        if "sequence entries are not allowed" in str(exc.problem):
            hint = "a lone '-' starts a list; quote it, e.g. sign: \"-\""
        raise InputError(
            f"not valid YAML: {exc.problem or exc.context}",
            file=source,
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
            suggestion=hint,
        ) from None
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML: {exc}", file=source) from None
    documents = [n for n in nodes if n is not None]
    if not documents:
        raise InputError("file has no YAML content", file=source)
    if len(documents) > 1:
        second = documents[1]
        raise InputError(
            "file holds several YAML documents ('---'); put one document in each file",
            file=source,
            line=second.start_mark.line + 1,
        )
    builder = _Builder(source, documents[0])
    with collector_paused():
        data = builder.build(documents[0])
    return LoadedYaml(data=data, source=source, root=documents[0])


# ---------------------------------------------------------------------------------------------
# data -> models, with pydantic's errors located (model/located.py)


def model_from_data(model: type[ModelT], loaded: LoadedYaml) -> ModelT:
    """Validate plain data against a model; every problem becomes a located InputError."""
    return validated(model, loaded.data, loaded.source, loaded.locate)


def _check_kind(loaded: LoadedYaml, expected: str | None) -> str:
    data = loaded.data
    if not isinstance(data, Mapping):
        line, column = loaded.locate(())
        raise InputError(
            f"expected a mapping with 'kind:' at the top, found {type(data).__name__}",
            file=loaded.source,
            line=line,
            column=column,
        )
    kind = data.get("kind")
    line, column = loaded.locate(("kind",))
    if kind is None:
        raise InputError(
            "missing 'kind:'",
            file=loaded.source,
            line=1,
            column=1,
            key="kind",
            suggestion="add one of: kind: " + ", kind: ".join(DOCUMENT_KINDS),
        )
    if kind not in DOCUMENT_KINDS:
        raise InputError(
            f"unknown kind {kind!r}",
            file=loaded.source,
            line=line,
            column=column,
            key="kind",
            suggestion=did_you_mean(str(kind), DOCUMENT_KINDS)
            or "expected one of: " + ", ".join(DOCUMENT_KINDS),
        )
    if expected is not None and kind != expected:
        raise InputError(
            f"expected a {expected} file, found kind '{kind}'",
            file=loaded.source,
            line=line,
            column=column,
            key="kind",
        )
    return str(kind)


def document_from_text(text: str, source: str, expected: str | None = None) -> BaseModel:
    """Any document kind from YAML text (the kind read from its ``kind:`` key)."""
    models = document_models()
    with collector_paused():  # once for the whole load: each pause left the collector a heap
        loaded = yaml_from_text(text, source)
        kind = _check_kind(loaded, expected)
        if kind not in models:
            raise InputError(f"kind '{kind}' is not supported by this installation", file=source)
        return model_from_data(models[kind], loaded)


def document_from_file(path: str | Path, expected: str | None = None) -> BaseModel:
    return document_from_text(read_text(path), str(path), expected)


def plan_from_yaml(path: str | Path) -> Plan:
    """A plan file, validated; InputError names the file, line, column and key of each
    problem."""
    return typing.cast(Plan, document_from_file(path, "plan"))


def policy_from_yaml(path: str | Path) -> Policy:
    """A policy file, validated; InputError names the file, line, column and key of each
    problem."""
    return typing.cast(Policy, document_from_file(path, "policy"))


def scenario_from_yaml(path: str | Path) -> Scenario:
    """A scenario file, validated (its extends chain is resolved when it runs)."""
    return typing.cast(Scenario, document_from_file(path, "scenario"))


def document_to_yaml(document: BaseModel) -> str:
    """A document as YAML that loads back to an equal model (defaults left out)."""
    data = document.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    if "kind" in type(document).model_fields:
        data = {"kind": document.kind, **data}  # type: ignore[attr-defined]
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
