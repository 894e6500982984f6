"""Outputs appear all together or not at all."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from alignment_engine.errors import InputError
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


NAMES = ("a.txt", "b.txt", "c.txt")


def _write_set(out: Path, tag: str) -> None:
    write_atomically(out, {name: (lambda p, n=name: p.write_text(f"{tag}:{n}")) for name in NAMES})


def _contents(out: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(out.iterdir())}


def test_rewriting_a_folder_of_outputs_swaps_the_whole_set(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _write_set(out, "old")
    inode = out.stat().st_ino
    _write_set(out, "new")
    assert _contents(out) == {n: f"new:{n}" for n in NAMES}
    assert out.stat().st_ino != inode  # one swap of the folder, not files moved one by one
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_folder_named_like_an_output_is_refused_before_anything_is_replaced(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    _write_set(out, "old")
    (out / "c.txt").unlink()
    (out / "c.txt").mkdir()
    with pytest.raises(InputError, match="holds a folder of that name") as caught:
        _write_set(out, "new")
    assert caught.value.problems[0].file == str(out / "c.txt")
    assert (out / "a.txt").read_text() == "old:a.txt" and (out / "b.txt").read_text() == "old:b.txt"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_other_files_in_the_folder_are_kept(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _write_set(out, "old")
    (out / "notes.md").write_text("mine")
    _write_set(out, "new")
    assert _contents(out) == {**{n: f"new:{n}" for n in NAMES}, "notes.md": "mine"}


KILLED_WRITER = """
import sys, time
from pathlib import Path
from alignment_engine.outputs import write_atomically
out, ready = Path(sys.argv[1]), Path(sys.argv[2])
def stuck(path):
    path.write_text("partial")
    ready.write_text("writing")
    time.sleep(600)
write_atomically(out, {"a.txt": lambda p: p.write_text("new:a.txt"), "b.txt": stuck,
                       "c.txt": lambda p: p.write_text("new:c.txt")})
"""


def test_a_run_killed_while_writing_leaves_the_previous_set_and_no_staging(
    tmp_path: Path,
) -> None:
    """kill -9 in the middle of writing the outputs: the folder still holds the previous run's
    files, all of them, and the next write removes what the killed one staged."""
    out = tmp_path / "out"
    _write_set(out, "old")
    ready = tmp_path / "ready"
    process = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(out), str(ready)])
    try:
        deadline = time.monotonic() + 120
        while not ready.exists():  # the event: the writer is inside the second file
            assert process.poll() is None, "the writer ended before it was killed"
            assert time.monotonic() < deadline, "the writer never started writing"
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=120)
    assert _contents(out) == {n: f"old:{n}" for n in NAMES}
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.staging-")]
    assert len(leftovers) == 1  # what the killed process staged
    _write_set(out, "next")
    assert _contents(out) == {n: f"next:{n}" for n in NAMES}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "ready"]
