"""One run, three doors: the same score made through the library, the CLI and the real HTTP
server is the same result document, and each stored run replays to its own bytes exactly (the
run definitions in ``alignment_engine.pipeline`` are the only description of a run kind)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import httpx
import yaml
from service_harness import Server, cli
from service_samples import ACTUALS, EMPLOYEES, plan, policy, score_body

from alignment_engine import engine
from alignment_engine.model import Plan, Policy
from alignment_engine.pipeline import CheckRun, ScoreRun
from alignment_engine.replay import replay_run
from alignment_engine.storage import Store
from alignment_engine.tables import ACTUALS as ACTUALS_SPEC
from alignment_engine.tables import EMPLOYEES as EMPLOYEES_SPEC
from alignment_engine.tables import read_table


def _files(folder: Path) -> dict[str, Path]:
    paths = {
        "plan": folder / "plan.yaml",
        "policy": folder / "policy.yaml",
        "actuals": folder / "actuals.csv",
        "employees": folder / "employees.csv",
    }
    paths["plan"].write_text(yaml.safe_dump(plan()), encoding="utf-8")
    paths["policy"].write_text(yaml.safe_dump(policy()), encoding="utf-8")
    for name, rows in (("actuals", ACTUALS), ("employees", EMPLOYEES)):
        with paths[name].open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return paths


def _without_run_id(text: str) -> dict[str, object]:
    document = json.loads(text)
    document.pop("run_id")
    return dict(document)


def test_library_cli_and_http_make_the_same_score_run_and_each_replays_exactly(
    server: Server, tmp_path: Path
) -> None:
    files = _files(tmp_path)
    db_url = f"sqlite:///{tmp_path / 'runs.db'}"

    # The library: the run definition, stored by the caller.
    run = ScoreRun(
        Plan.model_validate(plan()),
        Policy.model_validate(policy()),
        read_table(files["actuals"], ACTUALS_SPEC),
        read_table(files["employees"], EMPLOYEES_SPEC),
        "2026-Q3",
    )
    record = run.record()
    output = run.output(run.compute(), record.run_id)
    with Store.open(db_url) as store:
        library_run = store.record_run(
            record,
            result_json=output.result_json,
            payouts=output.payouts,
            payout_decimals=output.payout_decimals,
        )

    # The CLI, from the same files, into another database (the same inputs would reuse the run).
    cli_db = f"sqlite:///{tmp_path / 'cli.db'}"
    made = cli(
        "score",
        "--plan", str(files["plan"]),
        "--policy", str(files["policy"]),
        "--actuals", str(files["actuals"]),
        "--employees", str(files["employees"]),
        "--period", "2026-Q3",
        "--format", "json",
        "--db", cli_db,
        cwd=tmp_path,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    cli_text = made.stdout.rstrip("\n")

    # HTTP, against the real server.
    answer = httpx.post(
        f"{server.url}/v1/score", json=score_body(), headers=server.headers(), timeout=60.0
    )
    assert answer.status_code == 200, answer.text

    assert _without_run_id(output.result_json) == _without_run_id(cli_text)
    assert _without_run_id(cli_text) == _without_run_id(answer.text)

    with Store.open(db_url) as store:
        replayed = replay_run(store, library_run.id)
    assert replayed.identical, replayed.difference()
    for database, run_id in ((cli_db, json.loads(cli_text)["run_id"]),
                             (server.db_url, answer.json()["run_id"])):  # fmt: skip
        again = cli("runs", "replay", run_id, "--db", database, cwd=tmp_path)
        assert again.returncode == 0, again.stdout + again.stderr
        assert "identical" in again.stdout


def test_a_check_run_replays_through_its_definition(tmp_path: Path) -> None:
    run = CheckRun(Plan.model_validate(plan()), Policy.model_validate(policy()))
    record = run.record()
    output = run.output(run.compute(), record.run_id)
    with Store.open(f"sqlite:///{tmp_path / 'runs.db'}") as store:
        stored = store.record_run(record, result_json=output.result_json)
        replayed = replay_run(store, stored.id)
    assert replayed.identical, replayed.difference()
    assert {d.role for d in record.documents} == {"plan", "policy"}
    assert json.loads(output.result_json) == engine.check_plan(run.plan, run.policy).to_dict()
