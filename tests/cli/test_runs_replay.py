"""``runs replay``: a stored run computed again from the database alone gives the same bytes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from alignment_engine.cli import main
from alignment_engine.loading import plan_from_yaml
from alignment_engine.storage import RunRecord, Store

ROOT = Path(__file__).resolve().parents[2]
ACME = ROOT / "scenarios" / "acme"
POLICY = ROOT / "policies" / "annual-bonus-2026.yaml"


def run(*args: str) -> object:
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'runs.db'}"


def stored_run_ids(db: str) -> dict[str, str]:
    listed = run("runs", "list", "--format", "json", "--db", db)
    return {r["kind"]: r["id"] for r in json.loads(listed.output)["runs"]}  # type: ignore[attr-defined]


def test_score_check_and_optimise_runs_replay_byte_for_byte(db: str) -> None:
    common = ["--db", db]
    scored = run(
        "score", "--plan", str(ACME / "plan.yaml"), "--policy", str(POLICY),
        "--actuals", str(ACME / "actuals-2026-q3.csv"), "--employees", str(ACME / "employees.csv"),
        "--period", "2026-Q3", *common,
    )  # fmt: skip
    assert scored.exit_code == 0, scored.output  # type: ignore[attr-defined]
    assert run("check", str(ACME / "plan.yaml"), "--policy", str(POLICY), *common).exit_code == 0  # type: ignore[attr-defined]
    assert run("optimise", str(ACME / "plan.yaml"), "--keep-total", *common).exit_code == 0  # type: ignore[attr-defined]
    for kind, run_id in stored_run_ids(db).items():
        replayed = run("runs", "replay", run_id, "--format", "json", *common)
        assert replayed.exit_code == 0, (kind, replayed.output)  # type: ignore[attr-defined]
        assert json.loads(replayed.output)["identical"] is True  # type: ignore[attr-defined]


def test_a_result_that_does_not_follow_from_its_inputs_is_reported(db: str) -> None:
    plan = plan_from_yaml(ROOT / "tests" / "data" / "valid" / "minimal-plan.yaml")
    with Store.open(db) as store:
        record = RunRecord.create("check", documents={"plan": plan}, options={})
        stored = store.record_run(record, result_json='{\n  "findings": [],\n  "summary": {}\n}')
    replayed = run("runs", "replay", stored.id, "--db", db)
    assert replayed.exit_code == 1  # type: ignore[attr-defined]
    assert "DIFFERENT" in replayed.output  # type: ignore[attr-defined]
    assert "--- stored" in replayed.output and "+++ replayed" in replayed.output  # type: ignore[attr-defined]


def test_unknown_run_is_exit_2(db: str) -> None:
    result = run("runs", "replay", "feedfacefeedface", "--db", db)
    assert result.exit_code == 2  # type: ignore[attr-defined]
