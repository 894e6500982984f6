"""``POST /v1/estimate``: one employee's pay at hypothetical results, equal to what a score of
the same inputs pays them; audited, not recorded as a run; pay, so not for planners."""

from __future__ import annotations

from service_harness import Service, assert_error
from service_samples import score_body

from alignment_engine.storage import Store


def test_an_estimate_pays_what_a_score_would_and_is_audited_not_run(service: Service) -> None:
    body = score_body()
    someone = body["employees"][0]
    scored = service.post("/v1/score", {**body, "employees": [someone]}, role="hr").json()
    with Store.open(service.db_url) as store:
        runs_before = len(store.list_runs(limit=None))
    estimate = {
        "plan": body["plan"], "policy": body["policy"], "period": body["period"],
        "actuals": body["actuals"], "employee": someone,
    }  # fmt: skip
    answer = service.post("/v1/estimate", estimate, role="service")
    assert answer.status_code == 200, answer.text
    got = answer.json()
    assert got["employee"]["payout"] == scored["employees"][0]["payout"]
    assert got["employee"]["explanation"]["summary"]
    assert got["department"]["department"] == someone["department"]
    with Store.open(service.db_url) as store:
        assert len(store.list_runs(limit=None)) == runs_before  # not a run
        audited = store.audit_log(action="estimate", limit=1)
    assert audited and audited[0].actor == "service-user"
    assert audited[0].details["input_hash"] == got["input_hash"]
    # A better result, a higher estimate.
    better = [dict(r, actual=r["actual"] * 1.05) for r in body["actuals"]]
    higher = service.post("/v1/estimate", {**estimate, "actuals": better}, role="hr").json()
    assert higher["employee"]["payout"] >= got["employee"]["payout"]
    assert_error(service.post("/v1/estimate", estimate, role="planner"), 403)
    assert_error(
        service.post("/v1/estimate", {k: v for k, v in estimate.items() if k != "employee"},
                     role="hr"),
        422,
    )  # fmt: skip


def test_an_estimate_for_an_unknown_department_or_release_is_named(service: Service) -> None:
    body = score_body()
    estimate = {
        "plan": body["plan"], "policy": body["policy"], "period": body["period"],
        "actuals": body["actuals"], "department": "nowhere",
    }  # fmt: skip
    assert (
        "'nowhere' is not a department"
        in assert_error(service.post("/v1/estimate", estimate, role="hr"), 422)["message"]
    )
    stored = {**estimate, "department": body["employees"][0]["department"]}
    stored.pop("plan")
    stored["plan_id"] = "no-such-plan@1"
    assert (
        "no plan release named"
        in assert_error(service.post("/v1/estimate", stored, role="hr"), 404)["message"]
    )
