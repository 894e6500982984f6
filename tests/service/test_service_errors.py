"""Every 4xx and 5xx answer has one shape: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from service_harness import Service, TestClient, assert_error
from service_samples import DECISIONS, check_body, plan, score_body

from alignment_engine import engine
from alignment_engine.errors import Problem
from alignment_engine.service import ServiceSettings, create_app
from alignment_engine.service.documents import json_path
from alignment_engine.service.errors import problem_path

ENDPOINTS = [("POST", path) for path in DECISIONS] + [("GET", "/v1/runs/0123456789abcdef")]


def call(service: Service, method: str, path: str, body: Any, role: str | None) -> httpx.Response:
    if method == "GET":
        return service.client.get(path, headers=service.headers(role))
    return service.post(path, body, role)


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_no_token_is_401_in_the_error_shape(service: Service, method: str, path: str) -> None:
    response = call(service, method, path, {}, None)
    assert_error(response, 401, "unauthorized")
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_bad_token_is_401_in_the_error_shape(service: Service, method: str, path: str) -> None:
    headers = {"Authorization": "Bearer ae_not-a-real-token"}
    response = service.client.request(method, path, json={}, headers=headers)
    assert_error(response, 401, "unauthorized")


@pytest.mark.parametrize("path", list(DECISIONS))
def test_invalid_body_is_422_with_located_problems(service: Service, path: str) -> None:
    error = assert_error(service.post(path, {"plan": {"kind": "plan"}, "surplus": 1}), 422)
    assert error["code"] == "invalid_input"
    assert isinstance(error["details"], list) and error["details"]
    for detail in error["details"]:
        assert {"path", "message", "suggestion"} <= set(detail)
    paths = {d["path"] for d in error["details"]}
    assert "surplus" in paths
    assert "plan.id" in paths


@pytest.mark.parametrize("path", list(DECISIONS))
def test_body_that_is_not_json_is_422(service: Service, path: str) -> None:
    response = service.client.post(
        path,
        content=b'{"plan": ',
        headers={**service.headers("admin"), "content-type": "application/json"},
    )
    assert_error(response, 422, "invalid_input")


def test_body_that_is_not_utf8_is_422(service: Service) -> None:
    response = service.client.post(
        "/v1/check",
        content=b"\x1d\x0e\x05\xffXHc",
        headers={**service.headers("admin"), "content-type": "application/json"},
    )
    assert_error(response, 422, "invalid_input")


def test_unknown_run_is_404(service: Service) -> None:
    response = service.client.get("/v1/runs/0123456789abcdef", headers=service.headers("admin"))
    error = assert_error(response, 404, "not_found")
    assert error["message"] == "no run '0123456789abcdef'"


def test_unknown_path_and_wrong_method(service: Service) -> None:
    assert_error(service.client.get("/v1/nothing-here"), 404, "not_found")
    response = service.client.get("/v1/check", headers=service.headers("admin"))
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "POST"


def test_misspelt_plan_key_names_its_json_path_and_a_suggestion(service: Service) -> None:
    body = check_body()
    kpi = body["plan"]["departments"][0]["kpis"][1]
    kpi["targt"] = kpi.pop("target")
    error = assert_error(service.post("/v1/check", body), 422, "invalid_input")
    assert error["details"] == [
        {
            "file": "plan",
            "line": None,
            "column": None,
            "row": None,
            "key": "departments[0].kpis[1].targt",
            "message": "unknown key 'targt'",
            "suggestion": "did you mean 'target'?",
            "path": "plan.departments[0].kpis[1].targt",
        }
    ]


def test_wrong_type_deep_in_the_plan_is_located(service: Service) -> None:
    body = check_body()
    body["plan"]["departments"][0]["kpis"][1]["target"] = "a lot"
    error = assert_error(service.post("/v1/check", body), 422)
    assert [d["path"] for d in error["details"]] == ["plan.departments[0].kpis[1].target"]


def test_broken_reference_in_the_plan_is_located(service: Service) -> None:
    body = check_body()
    body["plan"]["departments"][0]["kpis"][0]["metric"] = "market_shar"
    error = assert_error(service.post("/v1/check", body), 422)
    (detail,) = error["details"]
    assert detail["path"] == "plan.departments[0].kpis[0].metric"
    assert detail["suggestion"] == "did you mean 'market_share'?"


def test_missing_key_points_at_where_it_belongs(service: Service) -> None:
    body = score_body()
    del body["period"]
    del body["plan"]["departments"][1]["kpis"][0]["metric"]
    error = assert_error(service.post("/v1/score", body), 422)
    by_path = {d["path"]: d["message"] for d in error["details"]}
    assert by_path["period"] == "missing required key 'period'"
    assert by_path["plan.departments[1].kpis[0].metric"] == "missing required key 'metric'"


def test_bad_rows_are_located_by_index(service: Service) -> None:
    body = score_body()
    body["actuals"][2]["actual"] = "n/a"
    body["employees"][4]["start_date"] = "yesterday"
    body["actuals"][0]["period"] = "Q3"
    error = assert_error(service.post("/v1/score", body), 422)
    paths = {d["path"] for d in error["details"]}
    assert paths == {"actuals[2].actual", "employees[4].start_date", "actuals[0].period"}


def test_both_plan_and_plan_id_is_an_error(service: Service) -> None:
    body = {**check_body(), "plan_id": "0" * 64}
    error = assert_error(service.post("/v1/check", body), 422)
    assert "either 'plan'" in error["message"]


def test_unknown_stored_document_is_404(service: Service) -> None:
    error = assert_error(service.post("/v1/check", {"plan_id": "ab" * 32}), 404, "not_found")
    assert error["message"] == f"no stored document {'ab' * 32!r} (plan_id)"


def test_body_over_the_limit_is_413(make_service: Any) -> None:
    small: Service = make_service(max_body_bytes=2000)
    big = {"plan": plan(), "padding": "x" * 3000}
    assert_error(small.post("/v1/check", big), 413, "payload_too_large")


def test_chunked_body_over_the_limit_is_413(make_service: Any) -> None:
    small: Service = make_service(max_body_bytes=2000)

    def chunks() -> Any:
        for _ in range(10):
            yield b" " * 500

    response = small.client.post(
        "/v1/check",
        content=chunks(),
        headers={**small.headers("admin"), "content-type": "application/json"},
    )
    assert_error(response, 413, "payload_too_large")


def test_unexpected_exception_is_500_without_internals(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("secret detail in /srv/secret/path.py")

    monkeypatch.setattr(engine, "check_plan", broken)
    response = service.post("/v1/check", check_body())
    error = assert_error(response, 500, "internal_error")
    assert "secret" not in response.text
    assert error["details"] is None


def test_database_failure_is_503_without_its_location(make_service: Any, tmp_path: Any) -> None:
    missing = tmp_path / "no" / "such" / "folder" / "x.db"
    app = create_app(ServiceSettings(db_url=f"sqlite:///{missing}"))
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post(
            "/v1/check", json=check_body(), headers={"Authorization": "Bearer ae_x"}
        )
        error = assert_error(response, 503, "storage_unavailable")
        assert "folder" not in error["message"]
        ready = client.get("/readyz")
        assert_error(ready, 503, "not_ready")
        assert ready.json()["error"]["details"]["database"] != "ok"


def test_openapi_declares_the_error_shape_for_every_endpoint(service: Service) -> None:
    document = service.client.get("/openapi.json").json()
    for method, path in ENDPOINTS:
        template = "/v1/runs/{run_id}" if path.startswith("/v1/runs/") else path
        responses = document["paths"][template][method.lower()]["responses"]
        for status in ("401", "403", "500"):
            assert responses[status]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorBody"
            }


@pytest.mark.parametrize(
    ("segments", "expected"),
    [
        (("departments", 0, "kpis", 1, "target"), "departments[0].kpis[1].target"),
        ((0, "actual"), "[0].actual"),
        (("allocation", "north.east"), 'allocation["north.east"]'),
        (("objectives", "提高"), 'objectives["提高"]'),
        ((), ""),
    ],
)
def test_json_path(segments: tuple[Any, ...], expected: str) -> None:
    assert json_path(segments) == expected


@pytest.mark.parametrize(
    ("problem", "expected"),
    [
        (Problem("m", "plan", key="departments[0].id"), "plan.departments[0].id"),
        (Problem("m", "plan"), "plan"),
        (Problem("m", "request", key="actuals[3].actual"), "actuals[3].actual"),
        (Problem("m", "actuals", row=3), "actuals[2]"),
        (Problem("m", "employees", key="target_bonus", row=1), "employees[0].target_bonus"),
        (Problem("m", "<policy>", key="gates"), "policy.gates"),
        (Problem("m", "<durable engine>"), None),
        (Problem("m", "scenario.set[1]", key="departments[x].target"), "scenario.set[1]"),
        (Problem("m", "<policy bonus-2026>", key="gates.0.when.kpi"), "policy.gates.0.when.kpi"),
        (Problem("m", "/etc/rules/a.yaml", 3, 4), None),
        (Problem("m"), None),
    ],
)
def test_problem_path(problem: Problem, expected: str | None) -> None:
    assert problem_path(problem) == expected


def test_error_bodies_are_json_objects_not_strings(service: Service) -> None:
    response = service.post("/v1/check", {"plan": 5})
    assert json.loads(response.text)["error"]["details"][0]["path"] == "plan"


def test_bad_period_and_misspelt_envelope_key_read_like_the_cli(service: Service) -> None:
    body = score_body()
    body["period"] = "2026Q3"
    body["employes"] = body.pop("employees")
    error = assert_error(service.post("/v1/score", body), 422)
    by_path = {d["path"]: d for d in error["details"]}
    assert (
        by_path["period"]["message"] == "not a period: use 2026, 2026-Q3 or 2026-07; got '2026Q3'"
    )
    assert by_path["employes"]["message"] == "unknown key 'employes'"
    assert by_path["employes"]["suggestion"] == "did you mean 'employees'?"


def test_overlapping_table_rows_name_both_rows_by_their_json_path(service: Service) -> None:
    body = score_body()
    body["policy"]["tables"] = [
        {
            "id": "ceiling",
            "inputs": [{"scope": "company"}],
            "effect": "cap",
            "rules": [{"when": ["< 1"], "then": 0.8}, {"when": ["<= 1.2"], "then": 1.5}],
            "default": 2.0,
        }
    ]
    error = assert_error(service.post("/v1/score", body), 422)
    (detail,) = error["details"]
    assert detail["path"] == "policy.tables[0].rules[1]"
    assert detail["message"] == (
        "rows 1 and 2 of a 'unique' table overlap: both match company score < 1; row 1 is at "
        "policy.tables[0].rules[0]"
    )
