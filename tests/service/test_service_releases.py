"""Stored releases over HTTP: a plan and a policy deployed once as name@version and named by
requests; the version effective in the request's period chosen by name alone; versions never
change; roles as documented."""

from __future__ import annotations

import copy

from service_harness import Service, assert_error
from service_samples import score_body


def test_a_request_names_deployed_versions_and_answers_as_inline(service: Service) -> None:
    body = score_body()
    plan, policy = body["plan"], body["policy"]
    pushed = service.post(
        "/v1/plans",
        {"name": "shop", "version": "2026.1", "effective_from": "2026-01-01",
         "effective_to": "2026-06-30", "plan": plan},
        role="planner",
    )  # fmt: skip
    assert pushed.status_code == 201, pushed.text
    assert pushed.json()["reference"] == "shop@2026.1"
    later = copy.deepcopy(plan)
    kpi = later["departments"][0]["kpis"][0]
    for level in ("threshold", "target", "maximum"):  # a harder target, levels kept in order
        if level in kpi:
            kpi[level] = kpi[level] * 1.05
    made = service.post(
        "/v1/plans",
        {"name": "shop", "version": "2026.2", "effective_from": "2026-07-01", "plan": later},
        role="hr",
    )
    assert made.status_code == 201, made.text
    assert_error(
        service.post("/v1/policies", {"name": "bonus", "version": "1", "policy": policy},
                     role="planner"),
        403,
    )  # fmt: skip
    assert (
        service.post(
            "/v1/policies", {"name": "bonus", "version": "1", "policy": policy}, role="hr"
        ).status_code
        == 201
    )

    inline = service.post("/v1/score", {**body, "plan": later}, role="hr").json()
    named = {k: v for k, v in body.items() if k not in ("plan", "policy")}
    # 2026-Q3 falls in the second version's window: the name alone chooses it.
    by_name = service.post(
        "/v1/score", {**named, "plan_id": "shop", "policy_id": "bonus@1"}, role="hr"
    )
    assert by_name.status_code == 200, by_name.text
    assert by_name.json()["employees"] == inline["employees"]
    by_version = service.post(
        "/v1/score", {**named, "plan_id": "shop@2026.1", "policy_id": "bonus"}, role="hr"
    ).json()
    first = service.post("/v1/score", body, role="hr").json()
    assert by_version["employees"] == first["employees"]
    assert first["employees"] != inline["employees"], "the two versions pay differently"

    clash = service.post(
        "/v1/plans", {"name": "shop", "version": "2026.1", "plan": later}, role="hr"
    )
    assert "versions never change" in assert_error(clash, 409)["message"]
    missing = service.post("/v1/score", {**named, "plan_id": "shop@9", "policy_id": "bonus"},
                           role="hr")  # fmt: skip
    assert "has no version '9'" in assert_error(missing, 404)["message"]
    listed = service.client.get("/v1/plans", headers=service.headers("planner")).json()
    assert [r["reference"] for r in listed["releases"] if r["name"] == "shop"] == [
        "shop@2026.1",
        "shop@2026.2",
    ]
    assert_error(service.client.get("/v1/policies", headers=service.headers("planner")), 403)
