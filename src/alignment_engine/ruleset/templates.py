"""Message templates: text with ``{expression}`` or ``{expression:format}`` placeholders.

``{{`` and ``}}`` write literal braces. The format after the last top-level ``:`` is Python's
format spec (``{p.excess:,.0f}``). Expressions are parsed and type-checked when the pack loads.
"""

from __future__ import annotations

from dataclasses import dataclass

from alignment_engine.ruleset.expressions import (
    Env,
    ExpressionError,
    Field,
    Node,
    Scope,
    evaluate,
    format_value,
    parse_expression,
)

__all__ = ["Placeholder", "Template", "parse_template"]


@dataclass(frozen=True)
class Placeholder:
    expression: Node
    spec: str


@dataclass(frozen=True)
class Template:
    parts: tuple[str | Placeholder, ...]

    def render(self, env: Env) -> str:
        out = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
            else:
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


def parse_template(text: str, scope: Scope) -> Template:
    """Raises ExpressionError (offset into ``text``) for a bad placeholder."""
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
            expression = parse_expression(source, scope)
        except ExpressionError as exc:
            raise ExpressionError(
                f"in placeholder {{{source}}}: {exc.message}", exc.suggestion, offset=index
            ) from None
        if literal:
            parts.append("".join(literal))
            literal = []
        parts.append(Placeholder(expression, spec))
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
