"""Bearer tokens and the permission matrix: 401 without a valid token, 403 for the wrong role."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from service_harness import Service, assert_error
from service_samples import DECISIONS, ROLES, check_body

from alignment_engine.service.auth import (
    PERMISSIONS,
    RUN_KINDS_READABLE,
    Action,
    Caller,
    Role,
    TokenCache,
)
from alignment_engine.storage import RunRecord, Store

DOCS = Path(__file__).resolve().parent.parent.parent / "docs" / "service.md"
MATRIX = [(path, role) for path in DECISIONS for role in ROLES]


@pytest.mark.parametrize(("path", "role"), MATRIX)
def test_permission_matrix(service: Service, path: str, role: str) -> None:
    action, body = DECISIONS[path]
    response = service.post(path, body(), role)
    if Role(role) in PERMISSIONS[Action(action)]:
        assert response.status_code not in (401, 403), response.text
    else:
        error = assert_error(response, 403, "forbidden")
        assert f"role '{role}' may not {action}" in error["message"]


def test_forbidden_comes_before_validation(service: Service) -> None:
    """A role that may not score learns nothing about what a valid request would be."""
    error = assert_error(service.post("/v1/score", {"nonsense": True}, "planner"), 403)
    assert error["details"] is None


def test_no_token_comes_before_validation(service: Service) -> None:
    assert_error(service.post("/v1/check", {"nonsense": True}, None), 401)


@pytest.mark.parametrize("scheme", ["Basic", "Token", ""])
def test_other_schemes_are_401(service: Service, scheme: str) -> None:
    headers = {"Authorization": f"{scheme} {service.tokens['admin']}".strip()}
    assert_error(service.client.post("/v1/check", json=check_body(), headers=headers), 401)


def test_revoked_token_is_refused_at_once(make_service: Any) -> None:
    running: Service = make_service()
    allowed = running.client.get("/v1/runs/0000000000000000", headers=running.headers("hr"))
    assert allowed.status_code == 404
    with Store.open(running.db_url) as store:
        store.revoke_token("hr-user")
    refused = running.client.get("/v1/runs/0000000000000000", headers=running.headers("hr"))
    assert_error(refused, 401, "unauthorized")


def _stored_run(db_url: str, kind: str, actor: str) -> str:
    record = RunRecord.create(kind, period="2026-Q3" if kind == "score" else None, actor=actor)
    with Store.open(db_url) as store:
        return store.record_run(record, result_json=json.dumps({"kind": kind}), force=True).id


def test_who_reads_which_runs(make_service: Any) -> None:
    running: Service = make_service()
    runs = {
        (kind, actor): _stored_run(running.db_url, kind, actor)
        for kind in ("check", "score", "optimise", "scenario")
        for actor in ("admin-user", "service-user", "someone-else")
    }
    for role in ROLES:
        for (kind, actor), run_id in runs.items():
            response = running.client.get(f"/v1/runs/{run_id}", headers=running.headers(role))
            if Caller(f"{role}-user", Role(role)).may_read_run(kind, actor):
                assert response.status_code == 200, (role, kind, actor)
                assert response.json()["id"] == run_id
                assert response.json()["result"] == {"kind": kind}
            else:
                error = assert_error(response, 404, "not_found")
                assert error["message"] == f"no run {run_id!r}"


def test_readable_runs_by_role() -> None:
    def readable(role: Role, kind: str, actor: str = "x") -> bool:
        return Caller("me", role).may_read_run(kind, actor)

    assert all(readable(Role.ADMIN, k) for k in ("check", "score", "optimise", "scenario"))
    assert [k for k in ("check", "score", "optimise", "scenario") if readable(Role.HR, k)] == [
        "check",
        "score",
    ]
    assert not readable(Role.PLANNER, "score")
    assert readable(Role.SERVICE, "score", "me")
    assert not readable(Role.SERVICE, "check", "someone else")


def test_token_cache_trusts_a_valid_token_for_its_ttl() -> None:
    answers: dict[str, tuple[str, str] | None] = {"t1": ("alice", "hr")}
    calls: list[str] = []

    def verify(token: str) -> tuple[str, str] | None:
        calls.append(token)
        return answers.get(token)

    cache = TokenCache(verify, ttl=60)
    assert cache.cached("t1") is None
    assert cache.verify("t1") == Caller("alice", Role.HR)
    answers["t1"] = None  # revoked in the database
    assert cache.cached("t1") == Caller("alice", Role.HR)
    assert cache.verify("unknown") is None
    assert cache.cached("unknown") is None
    assert calls == ["t1", "unknown"]
    no_cache = TokenCache(verify, ttl=0)
    answers["t2"] = ("bob", "planner")
    assert no_cache.verify("t2") == Caller("bob", Role.PLANNER)
    assert no_cache.cached("t2") is None


def test_a_role_this_version_does_not_know_grants_nothing() -> None:
    cache = TokenCache(lambda _token: ("mallory", "superuser"), ttl=60)
    assert cache.verify("t") is None


def _docs_matrix() -> dict[str, dict[str, str]]:
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("## Permission matrix", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    header = [cell.strip() for cell in rows[0].strip("|").split("|")]
    table: dict[str, dict[str, str]] = {}
    for row in rows[1:]:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        if set(cells[0]) <= {"-", " "}:
            continue
        table[cells[0]] = dict(zip(header[2:], cells[2:], strict=True))
    return table


def test_docs_show_the_permission_matrix_the_code_enforces() -> None:
    documented = _docs_matrix()
    for action in Action:
        row = documented[action.value]
        if action is Action.READ_RUNS:
            for role in Role:
                kinds = RUN_KINDS_READABLE[role]
                if role is Role.SERVICE:
                    assert "recorded" in row[role.value]
                elif kinds is None:
                    assert row[role.value] == "all runs"
                else:
                    assert set(re.findall(r"\w+", row[role.value])) - {"and", "runs"} == kinds
            continue
        allowed = {role.value for role in Role if row[role.value] == "yes"}
        refused = {role.value for role in Role if row[role.value] == "no"}
        assert allowed == {r.value for r in PERMISSIONS[action]}
        assert allowed | refused == {r.value for r in Role}
