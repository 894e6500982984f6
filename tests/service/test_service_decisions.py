"""Decisions over HTTP: recorded as runs with the caller as actor, stored documents by hash,
the time limit. The engine is replaced by stubs here (its answers are tested elsewhere)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

import pytest
from service_harness import Service, assert_error
from service_samples import acme_plan, check_body, optimise_body, scenario_body, score_body

from alignment_engine import engine
from alignment_engine.model import Plan, Policy
from alignment_engine.service.api import (
    CheckResponse,
    OptimiseResponse,
    ScenarioRunResponse,
    ScoreResponse,
)
from alignment_engine.storage import Store
from alignment_engine.tables import ACTUALS, EMPLOYEES, table_from_records


@dataclass
class Answer:
    body: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return self.body


FINDINGS = {
    "findings": [
        {
            "rule": "unlinked-kpi",
            "kind": "alignment",
            "severity": "medium",
            "departments": ["sales"],
            "kpis": ["sales.revenue"],
            "objectives": [],
            "resources": [],
            "message": "KPI 'sales.revenue' serves no objective",
            "suggestion": "link it",
        }
    ],
    "summary": {"findings": 1},
}


@pytest.fixture
def stub_check(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    calls: list[Any] = []

    def check(plan: Any, policy: Any = None, rule_dirs: Any = (), language: str = "en") -> Answer:
        calls.append((plan, policy, rule_dirs))
        return Answer(FINDINGS)

    monkeypatch.setattr(engine, "check_plan", check)
    return calls


def test_a_decision_is_recorded_with_the_caller_as_actor(service: Service, stub_check: Any) -> None:
    response = service.post("/v1/check", check_body(), "planner")
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer == {"run_id": answer["run_id"], **FINDINGS}
    assert response.headers["x-run-id"] == answer["run_id"]
    run = service.client.get(f"/v1/runs/{answer['run_id']}", headers=service.headers("planner"))
    assert run.status_code == 200
    stored = run.json()
    assert stored["actor"] == "planner-user"
    assert stored["kind"] == "check"
    assert stored["status"] == "completed"
    assert stored["result"] == answer
    assert set(stored["inputs"]["documents"]) == {"plan"}
    assert stub_check[0][0].id == "tiny-2026"


def test_identical_calls_are_each_on_record(service: Service, stub_check: Any) -> None:
    first = service.post("/v1/check", check_body(), "admin").json()["run_id"]
    second = service.post("/v1/check", check_body(), "service").json()["run_id"]
    assert first != second
    with Store.open(service.db_url) as store:
        assert store.get_run(first).actor == "admin-user"
        assert store.get_run(second).actor == "service-user"
        assert store.get_run(first).run_hash == store.get_run(second).run_hash


def test_a_stored_plan_version_can_be_named_by_hash(service: Service, stub_check: Any) -> None:
    run_id = service.post("/v1/check", check_body()).json()["run_id"]
    inputs = service.client.get(f"/v1/runs/{run_id}", headers=service.headers("admin")).json()
    plan_hash = inputs["inputs"]["documents"]["plan"]
    again = service.post("/v1/check", {"plan_id": plan_hash})
    assert again.status_code == 200, again.text
    assert stub_check[-1][0] == stub_check[0][0]


def test_a_stored_policy_is_not_a_plan(service: Service, stub_check: Any) -> None:
    body = {**check_body(), "policy": score_body()["policy"]}
    run_id = service.post("/v1/check", body).json()["run_id"]
    inputs = service.client.get(f"/v1/runs/{run_id}", headers=service.headers("admin")).json()
    policy_hash = inputs["inputs"]["documents"]["policy"]
    error = assert_error(service.post("/v1/check", {"plan_id": policy_hash}), 422)
    assert error["details"][0]["path"] == "plan_id"
    assert "is a policy, not a plan" in error["message"]


def test_engine_input_errors_are_422_and_recorded_as_failed(service: Service) -> None:
    """The engine refuses to pay on a plan whose weights do not sum to 1 (a real PolicyError,
    not a stand-in): 422 naming the scope, recorded as a failed run of the caller; with
    options.accept_findings the same body pays, and the run records that it was told to."""
    body = score_body()
    body["plan"]["departments"][1]["kpis"][0]["weight"] = 0.9  # finance: 0.9 alone
    error = assert_error(service.post("/v1/score", body, "hr"), 422, "invalid_policy")
    assert "weights-not-normalised" in error["message"] and "finance" in error["message"]
    assert "accept_findings" in str(error["details"][0]["suggestion"])
    with Store.open(service.db_url) as store:
        (failed,) = store.list_runs(kind="score", status="failed")
        assert failed.actor == "hr-user"
        assert '"invalid_policy"' in store.get_run(failed.id).result_json
    body["options"] = {"accept_findings": True}
    paid = service.post("/v1/score", body, "hr")
    assert paid.status_code == 200, paid.text
    with Store.open(service.db_url) as store:
        assert store.get_run(paid.json()["run_id"]).options["accept_findings"] is True


def test_score_tables_are_recorded_by_hash(service: Service) -> None:
    """The request's rows are stored as the tables the engine scored (typed and completed as
    the CLI completes files), by content hash, with the period."""
    from alignment_engine.storage import Store

    response = service.post("/v1/score", score_body(), "service")
    assert response.status_code == 200, response.text
    run_id = response.json()["run_id"]
    run = service.client.get(f"/v1/runs/{run_id}", headers=service.headers("service")).json()
    assert set(run["inputs"]["tables"]) == {"actuals", "employees"}
    assert run["period"] == "2026-Q3"
    with Store.open(service.db_url) as store:
        inputs = store.run_inputs(run_id)
    actuals = inputs.tables["actuals"].frame()
    employees = inputs.tables["employees"].frame()
    assert list(actuals["kpi"])[:2] == ["company.revenue", "sales.market_share"]
    assert len(employees) == 10
    assert [float(v) for v in employees["individual_score"]] == [1.0] * 10


def test_a_slow_decision_gets_504_and_is_recorded_as_failed(
    make_service: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    running: Service = make_service(time_limit_seconds=0.3, optimise_threads=1)
    release = threading.Event()

    def slow(*_args: Any, **_kwargs: Any) -> Answer:
        release.wait(10)
        return Answer({"status": "optimal", "objective": 1.0, "allocations": [], "predicted": []})

    monkeypatch.setattr(engine, "suggest_reallocation", slow)
    started = time.monotonic()
    error = assert_error(running.post("/v1/optimise", optimise_body(), "planner"), 504)
    assert error["code"] == "time_limit_exceeded"
    assert error["details"] == [{"time_limit_seconds": 0.3}]
    # The one optimise thread is still busy: the next request times out while queued.
    assert_error(running.post("/v1/optimise", optimise_body(), "planner"), 504)
    assert time.monotonic() - started < 5
    release.set()
    with Store.open(running.db_url) as store:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            runs = store.list_runs(kind="optimise")
            if len(runs) >= 2:
                break
            time.sleep(0.05)
        time.sleep(0.2)  # the abandoned computation has finished by now and must not record
        runs = store.list_runs(kind="optimise")
        assert [r.status.value for r in runs] == ["failed", "failed"]
        assert {r.actor for r in runs} == {"planner-user"}
    metrics = running.client.get("/metrics").text
    assert 'alignment_decisions_total{kind="optimise",outcome="timeout"} 2.0' in metrics


# ---------------------------------------------------------------------------------------------
# With the real engine: the HTTP answer is the engine's answer (the CLI prints the same JSON).


def _engine_json(result: Any, **to_dict: Any) -> Any:
    return json.loads(json.dumps(result.to_dict(**to_dict), ensure_ascii=False))


def _without_run_id(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body.pop("run_id") == response.headers["x-run-id"]
    return body


def test_score_answer_is_the_engines(service: Service) -> None:
    body = score_body()
    answer = _without_run_id(service.post("/v1/score", body, "hr"))
    plan = Plan.model_validate(body["plan"])
    policy = Policy.model_validate(body["policy"])
    actuals = table_from_records(body["actuals"], ACTUALS, "actuals")
    employees = table_from_records(body["employees"], EMPLOYEES, "employees")
    expected = engine.score_period(plan, policy, actuals, employees, "2026-Q3")
    assert answer == _engine_json(expected)
    ScoreResponse.model_validate({**answer, "run_id": "r"})


def test_optimise_answer_is_the_engines(service: Service) -> None:
    body = optimise_body()
    body["options"] = {"resource": "budget", "keep_total": True, "balance": 0.2}
    answer = _without_run_id(service.post("/v1/optimise", body, "planner"))
    expected = engine.suggest_reallocation(
        Plan.model_validate(body["plan"]),
        engine.OptimiseOptions(resources=("budget",), keep_total=True, balance=0.2),
    )
    assert answer == _engine_json(expected)
    OptimiseResponse.model_validate({**answer, "run_id": "r"})


def test_check_with_a_policy_and_a_scenario_run(service: Service) -> None:
    body = {**check_body(), "policy": score_body()["policy"]}
    answer = _without_run_id(service.post("/v1/check", body))
    expected = engine.check_plan(
        Plan.model_validate(body["plan"]), Policy.model_validate(body["policy"])
    )
    assert answer == _engine_json(expected)
    CheckResponse.model_validate({**answer, "run_id": "r"})
    run = _without_run_id(service.post("/v1/scenarios/run", scenario_body(), "planner"))
    ScenarioRunResponse.model_validate({**run, "run_id": "r"})
    assert run["scenario"] == "push-share"
    assert run["set"] == [
        {"path": "departments[sales].kpis[sales.market_share].target", "value": 0.27}
    ]


def test_a_bad_override_is_located_in_the_scenario(service: Service) -> None:
    body = scenario_body()
    body["scenario"]["set"].append({"path": "departments[salez].kpis[x].target", "value": 1})
    error = assert_error(service.post("/v1/scenarios/run", body), 422)
    assert any(d["path"] == "scenario.set[1]" for d in error["details"]), error


HOUSE_RULES = """\
kind: rules
id: house
rules:
  - id: every-kpi-has-a-baseline
    kind: alignment
    severity: low
    when:
      - {fact: kpi, as: k, where: "objective_count > 0"}
    finding:
      kpis: ["{k.id}"]
      message: "{k.label} is checked by the house rules"
"""


def test_server_rule_folders_apply_and_are_recorded_by_content(
    make_service: Any, tmp_path: Any
) -> None:
    folder = tmp_path / "house-rules"
    folder.mkdir()
    (folder / "house.yaml").write_text(HOUSE_RULES, encoding="utf-8")
    running: Service = make_service(rule_dirs=(str(folder),))
    answer = _without_run_id(running.post("/v1/check", check_body()))
    assert "every-kpi-has-a-baseline" in {f["rule"] for f in answer["findings"]}
    run_id = running.post("/v1/check", check_body()).json()["run_id"]
    run = running.client.get(f"/v1/runs/{run_id}", headers=running.headers("admin"))
    assert "rules.0" in run.json()["inputs"]["documents"]
    assert str(tmp_path) not in run.text


def test_broken_server_rules_are_503_without_their_files(make_service: Any, tmp_path: Any) -> None:
    folder = tmp_path / "broken-rules"
    folder.mkdir()
    (folder / "house.yaml").write_text("kind: rules\nid: house\nrules: []\n", encoding="utf-8")
    running: Service = make_service(rule_dirs=(str(folder),))
    response = running.post("/v1/check", check_body())
    assert_error(response, 503, "not_ready")
    assert "house.yaml" not in response.text
    assert running.client.get("/readyz").json()["error"]["details"]["rules"] != "ok"


def _acme_fitted_plan_and_history() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    import csv
    from pathlib import Path

    import yaml

    acme = Path(__file__).resolve().parents[2] / "scenarios" / "acme"
    data = yaml.safe_load((acme / "plan.yaml").read_text(encoding="utf-8"))
    for curve in data["response_curves"]:
        curve.pop("params")
        curve["fit"] = "history"
    rows: list[dict[str, Any]] = []
    with (acme / "history-kpis.csv").open(encoding="utf-8") as stream:
        rows += [{**r, "actual": float(r["actual"])} for r in csv.DictReader(stream)]
    with (acme / "history-allocations.csv").open(encoding="utf-8") as stream:
        rows += [{**r, "amount": float(r["amount"])} for r in csv.DictReader(stream)]
    return data, rows


def test_optimise_fits_curves_from_history_rows_like_the_cli(service: Service) -> None:
    plan_data, history = _acme_fitted_plan_and_history()
    answer = _without_run_id(
        service.post("/v1/optimise", {"plan": plan_data, "history": history}, "planner")
    )
    assert any("change_interval" in p for p in answer["predicted"])
    without = service.post("/v1/optimise", {"plan": plan_data}, "planner")
    error = assert_error(without, 422)
    assert "history" in error["message"]


def test_runs_the_service_records_replay_byte_for_byte(make_service: Any, tmp_path: Any) -> None:
    """`runs replay` recomputes an HTTP answer (compact JSON, run id first, the server's own
    rule packs) exactly as the service wrote it."""
    from click.testing import CliRunner

    from alignment_engine.cli import main

    folder = tmp_path / "house-rules"
    folder.mkdir()
    (folder / "house.yaml").write_text(HOUSE_RULES, encoding="utf-8")
    running: Service = make_service(rule_dirs=(str(folder),))
    run_ids = [
        running.post(path, body).json()["run_id"]
        for path, body in (
            ("/v1/check", check_body()),
            ("/v1/score", score_body()),
            ("/v1/optimise", optimise_body()),
            # Limited to one of three pools: replay must limit it the same way.
            ("/v1/optimise", {"plan": acme_plan(), "options": {"resource": "headcount"}}),
        )
    ]
    for run_id in run_ids:
        replayed = CliRunner().invoke(
            main, ["runs", "replay", run_id, "--format", "json", "--db", running.db_url]
        )
        assert replayed.exit_code == 0, replayed.output
        assert json.loads(replayed.output)["identical"] is True
