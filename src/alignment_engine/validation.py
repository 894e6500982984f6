"""Validate document files and folders: what ``alignment-engine validate`` reports."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alignment_engine.errors import InputError, Problem
from alignment_engine.loading import document_from_file, read_text, yaml_from_text
from alignment_engine.model import Scenario, did_you_mean

__all__ = ["FileReport", "ValidationReport", "validate_paths"]

YAML_SUFFIXES = (".yaml", ".yml")


@dataclass
class FileReport:
    path: str
    kind: str | None = None
    id: str | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "id": self.id,
            "valid": self.valid,
            "problems": [p.to_dict() for p in self.problems],
        }


@dataclass
class ValidationReport:
    files: list[FileReport]

    @property
    def valid(self) -> bool:
        return all(f.valid for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        invalid = sum(1 for f in self.files if not f.valid)
        return {
            "files": [f.to_dict() for f in self.files],
            "summary": {
                "files": len(self.files),
                "valid": len(self.files) - invalid,
                "invalid": invalid,
            },
        }


def _expand(paths: Iterable[str | Path]) -> Iterator[Path]:
    """The files named, and the YAML files inside the folders named (sorted, recursive)."""
    for given in paths:
        path = Path(given)
        if path.is_dir():
            for found in sorted(path.rglob("*")):
                if found.suffix.lower() in YAML_SUFFIXES and found.is_file():
                    yield found
        else:
            yield path


def _scenario_reference_problems(scenario: Scenario, path: Path) -> list[Problem]:
    """A scenario's files (extends, policy, actuals, employees) must exist beside it."""
    problems = []
    loaded = yaml_from_text(read_text(path), str(path))
    for key in ("extends", "policy", "actuals", "employees"):
        value = getattr(scenario, key)
        if value is None:
            continue
        target = path.parent / value
        if not target.is_file():
            line, column = loaded.locate((key,))
            siblings = (
                sorted(p.name for p in target.parent.glob("*")) if target.parent.is_dir() else []
            )
            problems.append(
                Problem(
                    f"file '{value}' does not exist (looked in {target.parent})",
                    str(path),
                    line,
                    column,
                    key,
                    did_you_mean(target.name, [s for s in siblings if s.endswith(target.suffix)]),
                )
            )
    return problems


def _scenario_resolution_problems(path: Path) -> list[Problem]:
    from alignment_engine.scenarios import check_scenario_file

    try:
        check_scenario_file(path)
    except InputError as exc:
        return exc.problems
    return []


def validate_paths(paths: Iterable[str | Path]) -> ValidationReport:
    reports = []
    for path in _expand(paths):
        report = FileReport(path=str(path))
        reports.append(report)
        try:
            document = document_from_file(path)
        except InputError as exc:
            report.problems = exc.problems
            continue
        report.kind = str(getattr(document, "kind", None))
        report.id = getattr(document, "id", None)
        if isinstance(document, Scenario):
            report.problems = _scenario_reference_problems(document, path)
            if not report.problems:
                report.problems = _scenario_resolution_problems(path)
    return ValidationReport(reports)
