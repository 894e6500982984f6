"""Finding and loading rule packs: the shipped ones, and folders of users' own.

The shipped packs live in ``rules/`` at the root of a source checkout; a wheel carries the same
folder as ``alignment_engine/_data/rules`` (pyproject force-includes it).
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from alignment_engine.errors import InputError, RuleError
from alignment_engine.loading import document_from_text, read_text, yaml_from_text
from alignment_engine.ruleset.compiler import CompiledPack, RulePack, RuleProgram, compile_program

__all__ = [
    "SHIPPED_PACK_FILES",
    "LoadedPack",
    "PackSource",
    "load_pack",
    "load_packs",
    "packs_in",
    "program_for",
    "shipped_packs",
    "shipped_rules_dir",
]

SHIPPED_PACK_FILES = ("alignment.yaml", "conflicts.yaml")
YAML_SUFFIXES = (".yaml", ".yml")
TEST_KIND = "rule-tests"


@dataclass(frozen=True)
class LoadedPack:
    """A validated pack, its compiled rules, and the file it came from."""

    pack: RulePack
    compiled: CompiledPack
    source: str


def shipped_rules_dir() -> Path:
    package = Path(__file__).resolve().parent
    for candidate in (package / "_data" / "rules", package.parent.parent / "rules"):
        if all((candidate / name).is_file() for name in SHIPPED_PACK_FILES):
            return candidate
    raise RuleError(
        "the shipped rule packs (rules/alignment.yaml, rules/conflicts.yaml) are missing",
        suggestion="reinstall alignment-engine",
    )


def _pack_from_text(text: str, source: str) -> LoadedPack:
    try:
        pack = typing.cast(RulePack, document_from_text(text, source, "rules"))
    except RuleError:
        raise
    except InputError as exc:
        raise RuleError(problems=exc.problems) from None
    compiled = pack._compiled  # set by RulePack's validator, which compiles the pack
    if not isinstance(compiled, CompiledPack):  # pragma: no cover - the validator guarantees it
        raise RuleError("the rule pack did not compile", file=source)
    return LoadedPack(pack, compiled, source)


@functools.lru_cache(maxsize=64)
def _cached_pack(path: str, _mtime_ns: int, _size: int) -> LoadedPack:
    return _pack_from_text(read_text(path), path)


def load_pack(path: str | Path) -> LoadedPack:
    """One ``kind: rules`` file, compiled; errors are RuleErrors located at file:line."""
    target = Path(path)
    try:
        stat = target.stat()
    except OSError:
        read_text(target)  # raises the usual "no such file" InputError
        raise
    try:
        return _cached_pack(str(target), stat.st_mtime_ns, stat.st_size)
    except RuleError:
        raise
    except InputError as exc:
        raise RuleError(problems=exc.problems) from None


def shipped_packs() -> list[LoadedPack]:
    folder = shipped_rules_dir()
    return [load_pack(folder / name) for name in SHIPPED_PACK_FILES]


def _kind_of(path: Path) -> object:
    loaded = yaml_from_text(read_text(path), str(path))
    return loaded.data.get("kind") if isinstance(loaded.data, dict) else None


def packs_in(folder: str | Path) -> list[LoadedPack]:
    """Every rule pack in a folder (recursively, sorted); rule test files are skipped."""
    root = Path(folder)
    if not root.exists():
        raise RuleError("no such folder", file=str(root))
    files = (
        [root]
        if root.is_file()
        else sorted(p for p in root.rglob("*") if p.suffix.lower() in YAML_SUFFIXES and p.is_file())
    )
    loaded = []
    for path in files:
        try:
            kind = _kind_of(path)
        except InputError as exc:
            raise RuleError(problems=exc.problems) from None
        if kind == TEST_KIND:
            continue
        if kind != "rules":
            raise RuleError(
                f"expected rule packs (kind: rules) in {root}, found kind {kind!r}",
                file=str(path),
                suggestion="keep only rule packs and rule tests in a rules folder",
            )
        loaded.append(load_pack(path))
    return loaded


PackSource = RulePack | LoadedPack | str | Path
"""A user rule pack: validated, loaded, or a file or folder to load it from."""


def load_packs(sources: Iterable[PackSource]) -> list[LoadedPack]:
    """User packs from models, files or folders (folders: every pack inside, sorted)."""
    loaded: list[LoadedPack] = []
    for source in sources:
        if isinstance(source, LoadedPack):
            loaded.append(source)
        elif isinstance(source, RulePack):
            compiled = source._compiled
            loaded.append(LoadedPack(source, compiled, f"<pack {source.id}>"))
        elif Path(source).is_dir():
            loaded += packs_in(source)
        else:
            loaded.append(load_pack(source))
    return loaded


def program_for(extra: Iterable[LoadedPack] = ()) -> RuleProgram:
    """The shipped packs plus ``extra``; a pack with a shipped pack's id replaces it."""
    extra_list = list(extra)
    replaced = {p.pack.id for p in extra_list}
    packs = [p for p in shipped_packs() if p.pack.id not in replaced] + extra_list
    return _program(tuple((p.compiled, p.source) for p in packs))


@functools.lru_cache(maxsize=32)
def _program(packs: tuple[tuple[CompiledPack, str], ...]) -> RuleProgram:
    return compile_program(packs)
