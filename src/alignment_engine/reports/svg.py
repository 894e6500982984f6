"""Small helpers for hand-written SVG: escaping, number formatting, text measuring and wrapping.

Text width is estimated, not measured (no fonts at build time): East Asian wide characters take
one em, everything else about 0.56 em. That is close enough to wrap labels inside boxes for the
sans-serif fonts the report asks for, Chinese included.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Mapping

__all__ = [
    "attrs",
    "element",
    "esc",
    "fmt",
    "text_block",
    "text_width",
    "truncate",
    "wrap",
]

WIDE_EM = 1.0
NARROW_EM = 0.56


# Characters XML 1.0 does not allow at all (not even escaped): an SVG holding one does not
# parse. A name may hold one (a noncharacter pasted from somewhere); it is shown as U+FFFD.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def esc(value: object) -> str:
    """Text for HTML or SVG, every special character escaped (quotes included)."""
    return html.escape(_NOT_XML.sub("\ufffd", str(value)), quote=True)


def fmt(value: float) -> str:
    """A coordinate: at most two decimals, no trailing zeros, no '-0'."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def attrs(values: Mapping[str, object]) -> str:
    """` key="value"` pairs in the order given; None values are left out."""
    parts = []
    for key, value in values.items():
        if value is None:
            continue
        shown = fmt(value) if isinstance(value, float) else str(value)
        parts.append(f' {key}="{esc(shown)}"')
    return "".join(parts)


def element(tag: str, values: Mapping[str, object], content: str | None = None) -> str:
    """One element; ``content`` is inserted as is (callers escape their text)."""
    if content is None:
        return f"<{tag}{attrs(values)}/>"
    return f"<{tag}{attrs(values)}>{content}</{tag}>"


def _char_em(char: str) -> float:
    return WIDE_EM if unicodedata.east_asian_width(char) in ("W", "F") else NARROW_EM


def text_width(text: str, size: float) -> float:
    """Estimated width in pixels of ``text`` at font ``size``."""
    return sum(_char_em(c) for c in text) * size


def _tokens(text: str) -> list[str]:
    """Words, with each wide character a word of its own (Chinese breaks between any two)."""
    tokens: list[str] = []
    current = ""
    for char in text:
        if char.isspace():
            if current:
                tokens.append(current)
            current = ""
            tokens.append(" ")
        elif _char_em(char) == WIDE_EM:
            if current:
                tokens.append(current)
            current = ""
            tokens.append(char)
        else:
            current += char
    if current:
        tokens.append(current)
    return tokens


def truncate(text: str, width: float, size: float) -> str:
    """``text`` cut to fit ``width`` pixels, with an ellipsis when cut: between words (at a
    space) where that keeps at least half of the width, so no label ends in half a word of
    either language; inside a word only when one word alone is too long."""
    if text_width(text, size) <= width:
        return text
    cut = ""
    for char in text:
        if text_width(cut + char + "…", size) > width:
            break
        cut += char
    if text[len(cut) : len(cut) + 1] == " " and text_width(cut.rstrip() + " …", size) <= width:
        return cut.rstrip() + " …"  # the cut falls between two words
    head, space, _rest = cut.rpartition(" ")
    between = head.rstrip() + " …"
    if space and width / 2 <= text_width(between, size) <= width:
        return between
    return cut.rstrip() + "…"


def wrap(text: str, width: float, size: float, max_lines: int = 3) -> list[str]:
    """Greedy wrap into at most ``max_lines`` lines; the last one is truncated if needed."""
    lines: list[str] = []
    current = ""
    for token in _tokens(text.strip()):
        candidate = current + token
        if current and text_width(candidate.rstrip(), size) > width and token != " ":
            lines.append(current.rstrip())
            current = token
        elif not current and token == " ":
            continue
        else:
            current = candidate
    if current.strip():
        lines.append(current.rstrip())
    if len(lines) > max_lines:
        rest = " ".join(lines[max_lines - 1 :])
        lines = [*lines[: max_lines - 1], truncate(rest + " …", width, size)]
    return [truncate(line, width, size) for line in lines] or [""]


def two_lines(text: str, width: float, size: float) -> list[str]:
    """``text`` on one line if it fits, else on two: broken at the last space when both halves
    fit (a bilingual name between its languages: "Customer Service" / "客户服务部"), else
    wrapped (the second line cut only if even two lines cannot hold it)."""
    if text_width(text, size) <= width:
        return [text]
    head, space, tail = text.rpartition(" ")
    if space and text_width(head, size) <= width and text_width(tail, size) <= width:
        return [head, tail]
    return wrap(text, width, size, 2)


def svg_document(width: float, height: float, parts: list[str]) -> str:
    """A chart's ``<svg>`` element around its parts."""
    return element(
        "svg",
        {"xmlns": "http://www.w3.org/2000/svg", "viewBox": f"0 0 {fmt(width)} {fmt(height)}",
         "width": fmt(width), "height": fmt(height), "font-family": "sans-serif"},
        "".join(parts),
    )  # fmt: skip


def text_block(
    lines: Iterable[str],
    x: float,
    y: float,
    size: float,
    *,
    line_height: float = 1.25,
    anchor: str = "middle",
    css_class: str | None = None,
    weight: str | None = None,
) -> str:
    """A ``<text>`` of several lines (tspans), the first baseline at ``y``."""
    spans = []
    for index, line in enumerate(lines):
        dy = "0" if index == 0 else fmt(size * line_height)
        spans.append(element("tspan", {"x": fmt(x), "dy": dy}, esc(line)))
    return element(
        "text",
        {
            "x": fmt(x),
            "y": fmt(y),
            "font-size": fmt(size),
            "text-anchor": anchor,
            "class": css_class,
            "font-weight": weight,
        },
        "".join(spans),
    )


def row_label(text: str, label_width: float, y: float, row_height: float) -> str:
    """A bar chart's row name, right-aligned in the label column and centred on its row; a
    long name takes two smaller lines rather than losing its end."""
    lines = two_lines(text, label_width - 16, 12)
    if len(lines) == 1:
        return text_block(
            lines, label_width - 10, y + row_height / 2 + 4, 12, anchor="end", css_class="row-label"
        )
    lines = two_lines(text, label_width - 16, 10.5)
    return text_block(
        lines,
        label_width - 10,
        y + row_height / 2 - 2,
        10.5,
        line_height=1.15,
        anchor="end",
        css_class="row-label",
    )
