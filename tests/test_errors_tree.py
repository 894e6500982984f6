"""The exception tree drawn in errors.py is the tree in the code: every exception class of the
package appears in the drawing under its real base, and every drawn class exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import alignment_engine.errors as errors_module
from alignment_engine.errors import AlignmentError

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "alignment_engine"
ROOTS = {"BaseException", "Exception", "ValueError", "RuntimeError", "TypeError", "KeyError"}
_ENTRY = re.compile(r"^(?P<indent>[ │]*)(?:[├└]── )?(?P<name>\w+)\b")


def drawn_tree() -> dict[str, str | None]:
    """Class -> drawn parent, read off the box drawing in errors.py's docstring."""
    doc = errors_module.__doc__ or ""
    lines = [line[4:] for line in doc.splitlines() if line.startswith("    ") and line.strip()]
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in lines:
        match = _ENTRY.match(line)
        assert match, line
        depth = len(match["indent"]) // 4 + (1 if "── " in line else 0)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[match["name"]] = stack[-1][1] if stack else None
        stack.append((depth, match["name"]))
    return parents


def coded_tree() -> dict[str, tuple[str, str]]:
    """Exception class -> (its base, the module defining it), for every class of the package."""
    bases: dict[str, tuple[str, str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and node.bases:
                base = node.bases[0]
                name = base.id if isinstance(base, ast.Name) else getattr(base, "attr", "")
                bases[node.name] = (name, str(path.relative_to(PACKAGE)))
    exceptions: dict[str, tuple[str, str]] = {}
    grew = True
    while grew:
        grew = False
        for cls, (base, where) in bases.items():
            if cls not in exceptions and (base in ROOTS or base in exceptions):
                exceptions[cls] = (base, where)
                grew = True
    return exceptions


def test_every_exception_class_is_drawn_under_its_base() -> None:
    drawn, coded = drawn_tree(), coded_tree()
    assert coded, "no exception classes found: the scan is broken"
    misplaced = {
        cls: (base, drawn.get(cls, "not drawn"), where)
        for cls, (base, where) in coded.items()
        if drawn.get(cls, "not drawn") != base
    }
    assert misplaced == {}


def test_every_drawn_class_exists() -> None:
    coded = coded_tree()
    invented = [cls for cls in drawn_tree() if cls not in coded and cls not in ROOTS]
    assert invented == []


@pytest.mark.parametrize(
    ("name", "status"),
    [("InputError", 422), ("NotFoundError", 404), ("ConflictError", 409), ("StorageError", 503)],
)
def test_drawn_statuses_are_the_classes_statuses(name: str, status: int) -> None:
    cls = getattr(errors_module, name)
    assert issubclass(cls, AlignmentError) and cls.status == status
    line = next(line for line in (errors_module.__doc__ or "").splitlines() if f" {name} " in line)
    assert f"{status} / exit {cls.exit_code}" in line


def test_the_reader_finds_a_misdrawn_class() -> None:
    assert drawn_tree()["ForbiddenError"] == "AuthError"
    assert drawn_tree()["AlignmentError"] == "Exception"
    assert coded_tree()["ForbiddenError"][0] == "AuthError"
