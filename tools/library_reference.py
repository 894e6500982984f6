"""docs/library.md from the docstrings of the library's public names (``alignment_engine.__all__``).

    .venv/bin/python tools/library_reference.py          # rewrite docs/library.md
    .venv/bin/python tools/library_reference.py --check  # exit 1 when it is out of date

tests/test_docs.py runs the check, so the reference never drifts from the code.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path
from typing import Any

import alignment_engine

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "docs" / "library.md"

HEADER = """# Library reference

Everything `import alignment_engine` offers, generated from the docstrings by
`tools/library_reference.py` (a test keeps this page current). The command line, file formats
and JSON shapes are in docs/cli.md and docs/file-formats.md; the results' `to_dict()` is the
matching command's `--format json`.

```python
from alignment_engine import plan_from_yaml, check_plan, scorecard
```
"""

TABLES = {
    "ACTUALS": "The actuals table's columns (`read_table(path, ACTUALS)`): "
    "`period, scope, kpi, actual` and/or `period, scope, measure, value`.",
    "EMPLOYEES": "The employees table's columns (`read_table(path, EMPLOYEES)`): "
    "`employee_id, department, target_bonus` and optional `individual_score, start_date, "
    "end_date, currency, name`.",
}


def own_doc(item: Any) -> str | None:
    """The docstring the object itself defines (not one inherited from a base class)."""
    if inspect.isclass(item):
        text = item.__dict__.get("__doc__")
        # A dataclass without a docstring gets one made of its signature: not documentation.
        if text and not text.startswith(f"{item.__name__}("):
            return inspect.cleandoc(text)
        return None
    if inspect.isfunction(item):
        return inspect.getdoc(item)
    return None


def _kind(item: Any) -> str:
    if inspect.isclass(item):
        return "exception" if issubclass(item, BaseException) else "class"
    return "function" if inspect.isfunction(item) else "value"


def _signature(name: str, item: Any) -> str:
    if inspect.isfunction(item):
        return f"{name}{inspect.signature(item)}"
    return name


def render() -> str:
    parts = [HEADER]
    for name in sorted(alignment_engine.__all__, key=lambda n: (n.startswith("_"), n.lower())):
        item = getattr(alignment_engine, name)
        if name == "__version__":
            parts.append(f"## `__version__`\n\nvalue. The installed version, e.g. `{item}`.\n")
            continue
        doc = TABLES.get(name) or own_doc(item)
        if doc is None:
            raise SystemExit(f"alignment_engine.{name} has no docstring of its own")
        parts.append(f"## `{name}`\n\n{_kind(item)}\n\n```python\n{_signature(name, item)}\n```\n")
        parts.append(doc + "\n")
    return "\n".join(parts)


def main() -> None:
    text = render()
    if "--check" in sys.argv[1:]:
        if not TARGET.exists() or TARGET.read_text(encoding="utf-8") != text:
            raise SystemExit("docs/library.md is out of date: run tools/library_reference.py")
        return
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
