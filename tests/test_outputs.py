"""Outputs appear all together or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from alignment_engine.outputs import write_atomically


def test_all_files_written(tmp_path: Path) -> None:
    out = tmp_path / "out"
    written = write_atomically(
        out, {"a.txt": lambda p: p.write_text("a"), "b.txt": lambda p: p.write_text("b")}
    )
    assert [p.name for p in written] == ["a.txt", "b.txt"]
    assert (out / "a.txt").read_text() == "a"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_failure_leaves_nothing_behind(tmp_path: Path) -> None:
    def broken(path: Path) -> None:
        path.write_text("half")
        raise RuntimeError("disk full")

    out = tmp_path / "out"
    with pytest.raises(RuntimeError):
        write_atomically(out, {"a.txt": lambda p: p.write_text("a"), "b.txt": broken})
    assert list(tmp_path.iterdir()) == []


def test_failure_keeps_previous_outputs(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_atomically(out, {"a.txt": lambda p: p.write_text("old")})

    def broken(path: Path) -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_atomically(out, {"a.txt": lambda p: p.write_text("new"), "b.txt": broken})
    assert (out / "a.txt").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
