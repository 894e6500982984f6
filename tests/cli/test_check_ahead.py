"""``score`` on a large plan checks the plan in a second process while it reads and scores:
the check is stored by that process, the command prints what it prints without it, and a
command that fails leaves no check running behind it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from alignment_engine.cli import check_ahead, main
from alignment_engine.cli.check_ahead import CheckAhead
from alignment_engine.loading import plan_from_yaml, policy_from_yaml
from alignment_engine.pipeline import CheckRun
from alignment_engine.storage import Store

ROOT = Path(__file__).resolve().parents[2]
ACME = ROOT / "scenarios" / "acme"
PLAN, POLICY = ACME / "plan.yaml", ROOT / "policies" / "annual-bonus-2026.yaml"


def _score(db: Path, *extra: str, actuals: Path = ACME / "actuals-2026-q3.csv") -> list[str]:
    return [
        "score", "--plan", str(PLAN), "--policy", str(POLICY), "--actuals", str(actuals),
        "--employees", str(ACME / "employees.csv"), "--period", "2026-Q3",
        "--db", f"sqlite:///{db}", "--format", "json", *extra,
    ]  # fmt: skip


@pytest.fixture
def every_plan_is_large(monkeypatch: pytest.MonkeyPatch) -> list[CheckAhead]:
    """Check ahead from one KPI; the checks started, to look at once the command is done."""
    monkeypatch.setattr(check_ahead, "AHEAD_FROM_KPIS", 1)
    started: list[CheckAhead] = []
    start = CheckAhead.start.__func__  # type: ignore[attr-defined]

    def kept(cls: type[CheckAhead], *args: Any) -> CheckAhead:
        ahead: CheckAhead = start(cls, *args)
        started.append(CheckAhead(ahead.process))  # its own handle: the command clears its
        return ahead

    monkeypatch.setattr(CheckAhead, "start", classmethod(kept))
    return started


def test_the_second_process_stores_the_plans_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan, policy = plan_from_yaml(PLAN), policy_from_yaml(POLICY)
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    record = CheckRun(plan, policy, (), language="en").record()
    with Store.open(db) as store:
        assert not store.has_reusable(record)
    # The example company is small: checked where it is wanted.
    assert CheckAhead.start(plan, policy, PLAN, POLICY, db, "en").process is None

    monkeypatch.setattr(check_ahead, "AHEAD_FROM_KPIS", 1)
    ahead = CheckAhead.start(plan, policy, PLAN, POLICY, db, "en")
    assert ahead.process is not None
    ahead.wait()
    with Store.open(db) as store:
        assert store.has_reusable(record)
        stored = store.existing_run(record)
    assert stored is not None and json.loads(stored.result_json)["summary"]["plan"] == plan.id
    # Stored already: nothing to start.
    assert CheckAhead.start(plan, policy, PLAN, POLICY, db, "en").process is None


def test_score_prints_the_same_with_the_check_ahead(
    tmp_path: Path, every_plan_is_large: list[CheckAhead]
) -> None:
    ahead = CliRunner().invoke(main, _score(tmp_path / "ahead.db"))
    assert ahead.exit_code == 0, ahead.output
    assert len(every_plan_is_large) == 1 and every_plan_is_large[0].process is not None
    assert every_plan_is_large[0].process.returncode == 0  # ended, and stored its check

    every_plan_is_large.clear()
    check_ahead.AHEAD_FROM_KPIS = 10**9  # undone by the fixture's monkeypatch
    alone = CliRunner().invoke(main, _score(tmp_path / "alone.db"))
    assert alone.exit_code == 0, alone.output
    assert every_plan_is_large[0].process is None

    def without_id(text: str) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(text)
        document.pop("run_id")
        return document

    assert without_id(ahead.stdout) == without_id(alone.stdout)
    assert ahead.stderr == alone.stderr  # the same warnings, from the same stored check
    for db in ("ahead.db", "alone.db"):
        listed = CliRunner().invoke(main, ["runs", "list", "--format", "json", "--db",
                                           f"sqlite:///{tmp_path / db}"])  # fmt: skip
        assert sorted(run["kind"] for run in json.loads(listed.stdout)["runs"]) == [
            "check",
            "score",
        ]


def test_a_failing_score_leaves_no_check_running(
    tmp_path: Path, every_plan_is_large: list[CheckAhead]
) -> None:
    bad = tmp_path / "actuals.csv"
    text = (ACME / "actuals-2026-q3.csv").read_text(encoding="utf-8")
    bad.write_text(text.replace("sales.market_share", "sales.market_shar", 1), encoding="utf-8")
    result = CliRunner().invoke(main, _score(tmp_path / "runs.db", actuals=bad))
    assert result.exit_code == 2
    process = every_plan_is_large[0].process
    assert process is not None
    assert process.poll() is not None  # stopped (or done) before the command returned


def _large(monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    monkeypatch.setattr(check_ahead, "AHEAD_FROM_KPIS", 1)
    return plan_from_yaml(PLAN), policy_from_yaml(POLICY)


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_an_in_memory_database_or_the_switch_starts_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    plan, policy = _large(monkeypatch)
    assert CheckAhead.start(plan, policy, PLAN, POLICY, url, "en").process is None
    monkeypatch.setenv(check_ahead.SWITCH, "0")
    on_disk = f"sqlite:///{tmp_path / 'runs.db'}"
    assert CheckAhead.start(plan, policy, PLAN, POLICY, on_disk, "en").process is None


def test_no_second_process_means_the_command_checks_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _large(monkeypatch)
    monkeypatch.setattr(check_ahead.sys, "executable", str(tmp_path / "no-such-python"))
    result = CliRunner().invoke(main, _score(tmp_path / "runs.db"))
    assert result.exit_code == 0, result.output
    listed = CliRunner().invoke(main, ["runs", "list", "--format", "json", "--db",
                                       f"sqlite:///{tmp_path / 'runs.db'}"])  # fmt: skip
    assert sorted(run["kind"] for run in json.loads(listed.stdout)["runs"]) == ["check", "score"]


def test_the_database_url_is_not_on_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan, policy = _large(monkeypatch)
    url = f"sqlite:///{tmp_path / 'secret-runs.db'}"
    ahead = CheckAhead.start(plan, policy, PLAN, POLICY, url, "en")
    assert ahead.process is not None
    try:
        assert not any("secret-runs" in str(argument) for argument in ahead.process.args)
    finally:
        ahead.wait()
    with Store.open(url) as store:  # it found the database all the same
        assert store.has_reusable(CheckRun(plan, policy, (), language="en").record())


def test_the_check_ends_with_the_command_that_started_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check process stops when its command's end closes its stdin, also when the command
    was killed and could not stop it: here it could never store, the database's write lock
    being held for as long as the test runs."""
    import fcntl
    import subprocess

    plan, policy = _large(monkeypatch)
    db = tmp_path / "runs.db"
    with Store.open(f"sqlite:///{db}"):
        pass  # made, so that the lock below is the only thing in the way
    with open(f"{db}-writer.lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # every writer of this database queues behind it
        ahead = CheckAhead.start(plan, policy, PLAN, POLICY, f"sqlite:///{db}", "en")
        process = ahead.process
        assert process is not None and process.stdin is not None
        process.stdin.close()  # what the command's process ending does
        try:
            # Without it ending with the command, it would wait a minute for the lock and fail.
            assert process.wait(timeout=50) == 0
        except subprocess.TimeoutExpired:  # pragma: no cover - the failure this test is for
            process.kill()
            raise
    with Store.open(f"sqlite:///{db}") as store:
        assert not store.has_reusable(CheckRun(plan, policy, (), language="en").record())
