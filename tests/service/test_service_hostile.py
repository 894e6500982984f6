"""Hostile requests against the real server: repeated JSON keys, a body with 200,000 unknown
keys, an id of 100 KB. Each gets one small 4xx in the error shape, and the worker keeps
answering."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import httpx
from service_harness import Server, serving
from service_samples import score_body


def _post_raw(server: Server, path: str, text: str) -> httpx.Response:
    return httpx.post(
        f"{server.url}{path}",
        content=text.encode("utf-8"),
        headers={**server.headers(), "Content-Type": "application/json"},
        timeout=120.0,
    )


def test_a_key_given_twice_is_refused_not_silently_last_wins(server: Server) -> None:
    body = json.dumps(score_body())
    # The first employee's target_bonus, given again with another value.
    repeated = body.replace(
        '"target_bonus": 10100', '"target_bonus": 10100, "target_bonus": 1000000', 1
    )
    assert repeated != body
    answer = _post_raw(server, "/v1/score", repeated)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == "invalid_input"
    assert "'target_bonus' appears twice" in error["message"]
    assert _post_raw(server, "/v1/score", body).status_code == 200  # the same body, once each


def test_two_hundred_thousand_unknown_keys_get_a_small_answer(server: Server) -> None:
    body = score_body()
    plan = body["plan"]
    assert isinstance(plan, dict)
    plan.update({f"junk_{i}": i for i in range(200_000)})
    started = time.monotonic()
    answer = _post_raw(server, "/v1/check", json.dumps({"plan": plan}))
    assert answer.status_code == 422
    assert len(answer.content) < 100_000  # was 101 MB
    error = answer.json()["error"]
    assert len(error["details"]) <= 101
    assert "more problem" in error["details"][-1]["message"]
    assert "unknown key 'junk_0'" in error["message"]
    health = httpx.get(f"{server.url}/healthz", timeout=60.0)
    assert health.status_code == 200
    assert time.monotonic() - started < 120  # a bound for a busy machine, not a timing test


def test_a_huge_id_is_not_echoed_whole(server: Server) -> None:
    body = score_body()
    employees = body["employees"]
    assert isinstance(employees, list)
    employees[0]["department"] = "x" * 100_000
    answer = _post_raw(server, "/v1/score", json.dumps(body))
    assert 400 <= answer.status_code < 500, answer.text
    assert len(answer.content) < 20_000
    assert "x" * 1_000 not in answer.text


def test_errors_quote_at_most_a_bounded_part_of_what_they_were_given() -> None:
    """Whatever raises it, an InputError lists 100 problems and counts the rest, and cuts
    quoted text (a 100 KB id) to a readable length."""
    from alignment_engine.errors import MAX_PROBLEMS, InputError, Problem

    many = InputError(problems=[Problem(f"bad {i}", "f.yaml", i + 1) for i in range(5_000)])
    assert len(many.problems) == MAX_PROBLEMS + 1
    assert many.problems[-1].message == "... and 4,900 more problems not listed"
    long = InputError(f"no department '{'x' * 100_000}'", file="employees.csv")
    assert len(long.message) < 1_200 and "(100,016 characters)" in long.message


def _closed_by_server(sock: socket.socket, deadline: float, trickle: bytes = b"") -> bool:
    """Wait for the server to close ``sock`` (recv returns b"" or the connection resets),
    sending ``trickle`` a byte at a time meanwhile; False if it is still open at ``deadline``."""
    sock.settimeout(0.2)
    sent = 0
    while time.monotonic() < deadline:
        try:
            if sent < len(trickle):
                sock.send(trickle[sent : sent + 1])
                sent += 1
            if sock.recv(1024) == b"":
                return True
        except TimeoutError:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return True
    return False


def test_idle_and_trickling_connections_are_closed_and_health_keeps_answering(
    tmp_path: Path,
) -> None:
    with serving(tmp_path, env={"ALIGNMENT_REQUEST_READ_SECONDS": "1"}) as running:
        host, port = running.url.removeprefix("http://").split(":")
        idle = socket.create_connection((host, int(port)))
        trickling = socket.create_connection((host, int(port)))
        try:
            deadline = time.monotonic() + 60  # generous: the limit is 1 s
            request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 400
            assert _closed_by_server(trickling, deadline, trickle=request)
            assert _closed_by_server(idle, deadline)
        finally:
            idle.close()
            trickling.close()
        assert httpx.get(f"{running.url}/healthz", timeout=60).status_code == 200


def test_malformed_http_and_a_trailing_slash_get_the_error_shape(server: Server) -> None:
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost x\r\n\r\n")  # a header without a colon
        received = b""
        while chunk := sock.recv(4096):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400") and b"application/json" in head
    assert set(json.loads(body)["error"]) == {"code", "message", "details"}
    slash = httpx.post(f"{server.url}/v1/score/", json={}, headers=server.headers(), timeout=60)
    assert slash.status_code == 404
    assert slash.json()["error"]["code"] == "not_found"


def test_a_body_nested_deeper_than_any_document_is_a_422(server: Server) -> None:
    """A scenario `set` value nested 260 deep answered 500 when its answer was serialised."""
    from service_samples import scenario_body

    body = scenario_body()
    value: object = 1
    for _ in range(260):
        value = {"x": value}
    body["scenario"]["set"] = {"departments[sales].kpis[sales.revenue].target": value}  # type: ignore[index]
    answer = _post_raw(server, "/v1/scenarios/run", json.dumps(body))
    assert answer.status_code == 422, answer.text
    assert "nested more than 64 levels" in answer.json()["error"]["message"]
    assert httpx.get(f"{server.url}/healthz", timeout=60).status_code == 200
