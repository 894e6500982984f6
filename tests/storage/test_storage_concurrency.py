"""Two processes recording runs at once into one database do not corrupt each other."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from concurrent_writer import PAYOUT_ROWS, WRITERS

from alignment_engine.errors import StorageError
from alignment_engine.storage import Store

WRITER = Path(__file__).with_name("concurrent_writer.py")
RUNS_EACH = 6


def test_two_processes_write_runs_at_once(blank_db_url: str, tmp_path: Path) -> None:
    if not blank_db_url.startswith("sqlite"):
        with Store.open(blank_db_url, check_schema=False) as store:
            store.upgrade()
    # Both start together once imported; a blank SQLite file is upgraded by one of them.
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    environment = {**os.environ, "PYTHONPATH": str(WRITER.parent)}
    writers = [
        subprocess.Popen(
            [sys.executable, str(WRITER), blank_db_url, name, str(RUNS_EACH), str(barrier)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment,
        )
        for name in ("first", "second")
    ]
    assert len(writers) == WRITERS
    results = []
    for writer in writers:
        out, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
        results.append(json.loads(out))
    own = [run_id for result in results for run_id in result["own"]]
    shared = {run_id for result in results for run_id in result["shared"]}
    assert len(set(own)) == 2 * RUNS_EACH
    assert len(shared) == 1, "the same inputs must give one run, even when stored at once"
    with Store.open(blank_db_url) as store:
        stored = store.list_runs()
        assert {run.id for run in stored} == set(own) | shared
        for run_id in [*own, *shared]:
            run = store.get_run(run_id)
            assert json.loads(run.result_json)["run_id"] == run.id
            assert len(store.payouts(run_id)) == PAYOUT_ROWS
        created = store.audit_log(action="run.created", limit=None)
        assert len(created) == len(stored)


def test_a_writer_kept_waiting_too_long_gets_a_storage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writers of one SQLite file queue on its writer lock, but no longer than SQLite's own busy
    timeout: behind a process that hangs holding it, a write fails instead of waiting for ever."""
    from alignment_engine.storage import connection

    monkeypatch.setattr(connection, "SQLITE_BUSY_TIMEOUT_MS", 300)
    database = tmp_path / "runs.db"
    with Store.open(f"sqlite:///{database}") as store:
        with open(f"{database}-writer.lock", "ab") as held:
            fcntl.flock(held.fileno(), fcntl.LOCK_EX)  # as another process would
            with pytest.raises(StorageError, match="the database is locked"):
                store.create_token("late", "admin")
        assert store.create_token("late", "admin")  # free again: the write goes through
