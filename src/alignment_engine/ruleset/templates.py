"""Message templates: text with ``{expression}`` or ``{expression:format}`` placeholders.

``{{`` and ``}}`` write literal braces. The format after the last top-level ``:`` is Python's
format spec (``{p.excess:,.0f}``). Expressions are parsed and type-checked when the pack loads.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from alignment_engine.ruleset.expressions import (
    Env,
    ExpressionError,
    Field,
    Node,
    Scope,
    aliases_in,
    evaluate,
    format_value,
    localise,
    parse_expression,
)

__all__ = ["Placeholder", "RenderMemo", "Template", "parse_template"]


@dataclass(frozen=True)
class Placeholder:
    expression: Node
    spec: str
    reads: tuple[str, ...] = ()  # the aliases the expression reads


class RenderMemo:
    """Placeholders already rendered, by the very facts they read.

    A large check renders 200,000 findings whose placeholders mostly read facts shared by
    thousands of them (one party group on either side): each is rendered once per distinct
    facts, and a run of placeholders reading the same one alias (with the text between them)
    as one. Facts are keyed by identity and kept alive here (beside their text), so an id is
    never reused while the memo lives; the facts must not change meanwhile. Placeholders
    reading an alias in ``fresh`` (made anew for each finding) are kept by the plain values
    they read when they read nothing else (a group's count), else rendered every time.
    """

    def __init__(self, fresh: frozenset[str] = frozenset()) -> None:
        self.fresh = fresh
        self._plans: dict[int, tuple[Template, _Plan]] = {}

    def render(self, template: Template, env: Env) -> str:
        found = self._plans.get(id(template))
        if found is None:  # the template is kept beside its plan, so its id stays its own
            found = self._plans[id(template)] = template, _Plan(template.parts, self.fresh)
        return found[1].render(env)


class _Plan:
    """A template as one format string whose fields are its steps' texts, the steps grouped by
    the facts they read: rendering looks each group's texts up once (one dictionary lookup per
    fact read, not per placeholder) and lets ``str.format`` put text and fields together."""

    __slots__ = ("format", "groups")

    def __init__(self, parts: tuple[str | Placeholder, ...], fresh: frozenset[str]) -> None:
        steps = _steps(parts, fresh)
        by_reads: dict[tuple[str, ...] | None, list[int]] = {}
        for index, step in enumerate(steps):
            if isinstance(step, _Step):
                by_reads.setdefault(step.reads, []).append(index)
        self.groups = [
            _StepGroup(tuple(step for i in at if isinstance(step := steps[i], _Step)))
            for at in by_reads.values()
        ]
        field = {i: n for n, i in enumerate(i for at in by_reads.values() for i in at)}
        self.format = "".join(
            step.replace("{", "{{").replace("}", "}}")
            if isinstance(step, str)
            else f"{{{field[i]}}}"
            for i, step in enumerate(steps)
        )

    def render(self, env: Env) -> str:
        texts: list[str] = []
        for group in self.groups:
            texts += group.texts(env)
        return self.format.format(*texts)


class _StepGroup:
    """Steps reading the same facts, and the texts they rendered, by the identity of those
    facts (kept alive beside them); a step reading only fresh aliases, by their plain values;
    other steps reading a fresh alias are rendered every time."""

    __slots__ = ("alias", "cache", "fresh", "reads", "steps")

    def __init__(self, steps: tuple[_Step, ...]) -> None:
        self.steps = steps
        self.reads = steps[0].reads
        self.alias = self.reads[0] if self.reads is not None and len(self.reads) == 1 else None
        # Steps reading nothing but fresh aliases (a group's count) are kept by the values
        # they read: a few small numbers, met by 200,000 findings.
        self.fresh = steps[0].fresh_only if len(steps) == 1 else None
        self.cache: dict[object, tuple[tuple[str, ...], object]] = {}

    def rendered(self, env: Env) -> tuple[str, ...]:
        return tuple([step.render(env) for step in self.steps])

    def texts(self, env: Env) -> tuple[str, ...]:
        if self.alias is not None:
            fact: object = env.get(self.alias)
            key: object = id(fact)
        elif self.reads is not None:
            fact = tuple([env.get(alias) for alias in self.reads])
            key = tuple(map(id, fact))
        elif self.fresh is not None:
            # By type too: 1 == 1.0 == True, and each is written its own way.
            values = tuple(
                [tuple([(k, type(v), v) for k, v in env[alias].items()]) for alias in self.fresh]
            )
            if not all(t in _PLAIN for pairs in values for _, t, _ in pairs):
                return self.rendered(env)
            fact, key = None, values
        else:
            return self.rendered(env)
        found = self.cache.get(key)
        if found is None:
            found = self.cache[key] = self.rendered(env), fact
        return found[0]


_PLAIN = {str, int, float, bool, type(None)}  # values that key a cache by equality


def _steps(parts: tuple[str | Placeholder, ...], fresh: frozenset[str]) -> list[str | _Step]:
    """The template's parts with each run of placeholders that read one same alias (and the
    text between them) made one step."""
    steps: list[str | _Step] = []
    run: list[str | Placeholder] = []  # the open run: placeholders of one alias, texts between
    run_alias: str | None = None
    pending: list[str] = []  # text after the open run's last placeholder

    def close() -> None:
        nonlocal run, run_alias
        if run:
            steps.append(_Step(tuple(run), fresh))
        steps.extend(pending)
        run, run_alias = [], None
        pending.clear()

    for part in parts:
        if isinstance(part, str):
            (pending if run else steps).append(part)
            continue
        alias = part.reads[0] if len(part.reads) == 1 and part.reads[0] not in fresh else None
        if alias is not None and alias == run_alias:
            run += [*pending, part]
            pending.clear()
            continue
        close()
        if alias is None:
            steps.append(_Step((part,), fresh))
        else:
            run, run_alias = [part], alias
    close()
    return steps


class _Step:
    """Placeholders (with the text between them) rendered together, and the aliases they read
    (None when one is fresh: never kept)."""

    __slots__ = ("fresh_only", "parts", "reads")

    def __init__(self, parts: tuple[str | Placeholder, ...], fresh: frozenset[str]) -> None:
        self.parts = parts
        reads = tuple(sorted({a for p in parts if isinstance(p, Placeholder) for a in p.reads}))
        self.reads: tuple[str, ...] | None = None if fresh.intersection(reads) else reads
        self.fresh_only = reads if reads and fresh.issuperset(reads) else None

    def render(self, env: Env) -> str:
        return "".join(
            [
                part
                if isinstance(part, str)
                else _render_value(evaluate(part.expression, env), part.spec)
                for part in self.parts
            ]
        )


@dataclass(frozen=True)
class Template:
    parts: tuple[str | Placeholder, ...]

    def render(self, env: Env, memo: RenderMemo | None = None) -> str:
        if memo is not None:
            return memo.render(self, env)
        out = []
        for part in self.parts:
            if type(part) is str:
                out.append(part)
            else:
                assert isinstance(part, Placeholder)
                out.append(_render_value(evaluate(part.expression, env), part.spec))
        return "".join(out)

    def values(self, env: Env) -> list[str]:
        """A template that is one placeholder of a list field gives the list's items."""
        if len(self.parts) == 1 and isinstance(self.parts[0], Placeholder):
            value = evaluate(self.parts[0].expression, env)
            if isinstance(value, list):
                return [
                    v if type(v) is str else format_value(v)
                    for v in value
                    if v is not None and v != ""
                ]
            if value is None or value == "":
                return []
        text = self.render(env)
        return [text] if text else []

    def list_field(self) -> Field | None:
        """The list field this template is, when it is one placeholder of a list field."""
        return self._list_field

    @functools.cached_property
    def _list_field(self) -> Field | None:
        if self.is_list():
            part = self.parts[0]
            assert isinstance(part, Placeholder) and isinstance(part.expression, Field)
            return part.expression
        return None

    def is_list(self) -> bool:
        return (
            len(self.parts) == 1
            and isinstance(self.parts[0], Placeholder)
            and isinstance(self.parts[0].expression, Field)
            and self.parts[0].expression.type == "list"
        )


def _render_value(value: object, spec: str) -> str:
    try:
        return format_value(value, spec)
    except (ValueError, TypeError):
        return format_value(value)


def _split_spec(inner: str) -> tuple[str, str]:
    """Expression and format spec: the spec follows the last ':' outside quotes and brackets."""
    depth = 0
    quote: str | None = None
    split = -1
    for index, char in enumerate(inner):
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == ":" and depth == 0:
            split = index
    if split < 0:
        return inner, ""
    return inner[:split], inner[split + 1 :]


def parse_template(text: str, scope: Scope, language: str = "en") -> Template:
    """Raises ExpressionError (offset into ``text``) for a bad placeholder. A template in
    another ``language`` (a rule's translation) writes lists and the engine's words in it."""
    parts: list[str | Placeholder] = []
    literal: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "}":
            if text.startswith("}}", index):
                literal.append("}")
                index += 2
                continue
            raise ExpressionError("a single '}' must be written '}}'", offset=index)
        if char != "{":
            literal.append(char)
            index += 1
            continue
        if text.startswith("{{", index):
            literal.append("{")
            index += 2
            continue
        end = _closing(text, index)
        if end < 0:
            raise ExpressionError(
                "a '{' is not closed", "write '{{' for a literal brace", offset=index
            )
        source, spec = _split_spec(text[index + 1 : end])
        if spec:
            try:
                format(1.0, spec) if any(c in spec for c in "fegdn%") else format("", spec)
            except ValueError:
                raise ExpressionError(
                    f"'{spec}' is not a format spec", "e.g. {x:,.0f} or {x:.1%}", offset=index
                ) from None
        try:
            expression = localise(parse_expression(source, scope), language)
        except ExpressionError as exc:
            raise ExpressionError(
                f"in placeholder {{{source}}}: {exc.message}", exc.suggestion, offset=index
            ) from None
        if literal:
            parts.append("".join(literal))
            literal = []
        parts.append(Placeholder(expression, spec, tuple(sorted(aliases_in(expression)))))
        index = end + 1
    if literal:
        parts.append("".join(literal))
    return Template(tuple(parts))


def _closing(text: str, start: int) -> int:
    quote: str | None = None
    for index in range(start + 1, len(text)):
        char = text[index]
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "}":
            return index
        elif char == "{":
            return -1
    return -1
