"""The HTTP decision service under load on loopback, against a baseline endpoint in the same app.

    .venv/bin/python benchmarks/service.py [--seconds 20] [--concurrency 16] [--workers CPUS]
                                           [--only score,check]

It starts ``alignment-engine serve`` (a temporary SQLite database, the baseline endpoint switched
on with ALIGNMENT_BENCHMARK_ENDPOINTS) and, for each load, keeps ``--concurrency`` requests in
flight for ``--seconds``:

- ``score``: POST /v1/score, a plan with one department and 50 employees;
- ``score20``: POST /v1/score, 20 departments of 5 KPIs (100 KPIs), 50 employees;
- ``score20-stored``: the same, naming the plan and policy deployed as releases (plan_id);
- ``estimate``: POST /v1/estimate, one employee of that plan at hypothetical results;
- ``check``: POST /v1/check, the example company's plan (scenarios/acme/plan.yaml);
- ``baseline (score)``, ``baseline (check)``: POST /v1/benchmark/baseline with the same request
  body, answering a JSON of the same size as the decision's answer: the same token check, body
  parsing and response path, without deciding anything (and without recording a run).

It prints requests per second, p50 and p99 latency for each, and each decision's throughput as a
share of its baseline's. Goals: p99 under 50 ms, and at least half the baseline's throughput.
The load generator runs on the same machine: asyncio, one keep-alive HTTP/1.1 connection per
client, on raw streams so that it takes little CPU from the server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

# The server is started the way the service tests start it (tokens through the CLI, a real
# uvicorn process on a free loopback port).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "service"))
from service_harness import serving

ROOT = Path(__file__).resolve().parent.parent
ACME_PLAN = ROOT / "scenarios" / "acme" / "plan.yaml"
P99_GOAL_MS = 50.0
THROUGHPUT_GOAL = 0.5


# ---------------------------------------------------------------------------------------------
# Request bodies


def score_request(employees: int = 50) -> dict[str, Any]:
    """One department with three KPIs, a company KPI, a policy, actuals and ``employees``."""
    plan = {
        "kind": "plan",
        "id": "bench-2026",
        "objectives": [
            {"id": "F1", "perspective": "financial"},
            {"id": "C1", "perspective": "customer", "drives": ["F1"]},
        ],
        "metrics": [
            {"id": "revenue", "aggregation": "sum"},
            {"id": "market_share"},
            {"id": "discount_rate", "better": "lower"},
        ],
        "company_kpis": [
            {
                "id": "company.revenue",
                "metric": "revenue",
                "target": 1000,
                "threshold": 900,
                "maximum": 1200,
                "objectives": ["F1"],
            }
        ],
        "departments": [
            {
                "id": "sales",
                "kpis": [
                    {
                        "id": "sales.revenue",
                        "metric": "revenue",
                        "target": 1000,
                        "weight": 0.5,
                        "threshold": 900,
                        "maximum": 1200,
                        "objectives": ["F1"],
                    },
                    {
                        "id": "sales.share",
                        "metric": "market_share",
                        "target": 0.25,
                        "weight": 0.3,
                        "threshold": 0.22,
                        "maximum": 0.28,
                        "objectives": ["C1"],
                    },
                    {
                        "id": "sales.discount",
                        "metric": "discount_rate",
                        "target": 0.1,
                        "weight": 0.2,
                        "threshold": 0.12,
                        "maximum": 0.08,
                        "objectives": ["C1"],
                    },
                ],
            }
        ],
    }
    policy = {
        "kind": "policy",
        "id": "bench-bonus",
        "components": {"company": 0.3, "department": 0.6, "individual": 0.1},
        "curves": {
            "default": {
                "basis": "levels",
                "points": {"threshold": 0.5, "target": 1.0, "maximum": 2.0},
                "below_threshold": 0,
            }
        },
        "caps": {"kpi": 2.0, "employee": 2.0},
        "pool": {"amount": 500000, "mode": "scale_down"},
        "rounding": {"decimals": 2, "mode": "half_up"},
    }
    actuals = [
        {"period": "2026-Q3", "scope": "company", "kpi": "company.revenue", "actual": 1010},
        {"period": "2026-Q3", "scope": "sales", "kpi": "sales.revenue", "actual": 1040},
        {"period": "2026-Q3", "scope": "sales", "kpi": "sales.share", "actual": 0.262},
        {"period": "2026-Q3", "scope": "sales", "kpi": "sales.discount", "actual": 0.095},
    ]
    people = [
        {
            "employee_id": f"E{i:04d}",
            "department": "sales",
            "target_bonus": 8000 + 37 * i,
            "individual_score": 0.8 + (i % 5) / 10,
        }
        for i in range(employees)
    ]
    return {
        "plan": plan,
        "policy": policy,
        "actuals": actuals,
        "employees": people,
        "period": "2026-Q3",
    }


def wide_score_request(departments: int = 20, kpis: int = 5, employees: int = 50) -> dict[str, Any]:
    """The issue's shape: ``departments`` departments of ``kpis`` KPIs each (100 KPIs), a
    company KPI, a policy, actuals for every KPI and ``employees`` spread over the departments."""
    base = score_request(employees)
    metrics = [{"id": f"m{k}", "aggregation": "sum"} for k in range(kpis)]
    weight = round(1.0 / kpis, 6)
    units = []
    actuals = [base["actuals"][0]]
    for d in range(departments):
        name = f"d{d:02d}"
        members = []
        for k in range(kpis):
            kpi_id = f"{name}.k{k}"
            members.append(
                {
                    "id": kpi_id,
                    "metric": f"m{k}",
                    "target": 100,
                    "threshold": 90,
                    "maximum": 120,
                    "weight": weight if k else round(1.0 - weight * (kpis - 1), 6),
                    "objectives": ["F1" if k % 2 else "C1"],
                }
            )
            actuals.append(
                {"period": "2026-Q3", "scope": name, "kpi": kpi_id, "actual": 95 + (d + k) % 20}
            )
        units.append({"id": name, "kpis": members})
    plan = {**base["plan"], "id": "bench-wide", "metrics": base["plan"]["metrics"] + metrics}
    plan["departments"] = units
    people = [
        {**person, "department": f"d{i % departments:02d}"}
        for i, person in enumerate(base["employees"])
    ]
    return {**base, "plan": plan, "actuals": actuals, "employees": people}


def stored_bodies(url: str, token: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """The 20-department plan and its policy deployed as releases (POST /v1/plans,
    /v1/policies), and the requests that name them: the stored path, and an estimate."""
    wide = wide_score_request()
    headers = {"Authorization": f"Bearer {token}"}
    for path, member in (("/v1/plans", "plan"), ("/v1/policies", "policy")):
        pushed = httpx.post(
            f"{url}{path}",
            json={"name": "bench", "version": "1", member: wide[member]},
            headers=headers,
            timeout=60,
        )
        if pushed.status_code != 201:
            raise SystemExit(f"{path}: {pushed.status_code} {pushed.text[:300]}")
    named = {k: v for k, v in wide.items() if k not in ("plan", "policy")}
    stored = {**named, "plan_id": "bench@1", "policy_id": "bench@1"}
    estimate = {
        "plan_id": "bench@1",
        "policy_id": "bench@1",
        "period": wide["period"],
        "actuals": wide["actuals"],
        "employee": wide["employees"][0],
    }
    return {"score20-stored": ("/v1/score", stored), "estimate": ("/v1/estimate", estimate)}


def check_request() -> dict[str, Any]:
    return {"plan": yaml.safe_load(ACME_PLAN.read_text(encoding="utf-8"))}


# ---------------------------------------------------------------------------------------------
# Load


@dataclass
class Outcome:
    name: str
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    response_bytes: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class Connection:
    """One keep-alive HTTP/1.1 connection on raw asyncio streams. The load generator shares the
    machine with the server, so it must cost little: a prepared request and a Content-Length
    read per call, where a full client (httpx) spends about a millisecond of CPU per request
    and would take that from the server under test."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, url: str) -> Connection:
        address = httpx.URL(url)
        reader, writer = await asyncio.open_connection(address.host, address.port)
        return cls(reader, writer)

    async def call(self, request: bytes) -> tuple[int, bytes]:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


def prepared_request(url: str, path: str, body: bytes, token: str) -> bytes:
    host = httpx.URL(url).netloc.decode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


async def load(
    url: str, path: str, body: bytes, token: str, seconds: float, concurrency: int, name: str
) -> Outcome:
    request = prepared_request(url, path, body, token)
    latencies: list[float] = []
    errors = 0
    connections = [await Connection.open(url) for _ in range(concurrency)]
    # Warm up: connections open, caches filled, the first-use costs paid.
    size = 0
    for connection in connections:
        status, answer = await connection.call(request)
        if status != 200:
            raise SystemExit(f"{name}: {status} {answer[:500]!r}")
        size = len(answer)
    started = time.perf_counter()
    stop = started + seconds

    async def client_loop(connection: Connection) -> None:
        nonlocal errors
        while time.perf_counter() < stop:
            sent = time.perf_counter()
            status, _answer = await connection.call(request)
            latencies.append((time.perf_counter() - sent) * 1000)
            if status != 200:
                errors += 1

    await asyncio.gather(*(client_loop(connection) for connection in connections))
    elapsed = time.perf_counter() - started
    for connection in connections:
        connection.close()
    return Outcome(name, len(latencies), errors, elapsed, latencies, size)


def run(arguments: argparse.Namespace) -> list[Outcome]:
    chosen = [name.strip() for name in arguments.only.split(",") if name.strip()]
    bodies = {
        "score": ("/v1/score", score_request()),
        "score20": ("/v1/score", wide_score_request()),
        "check": ("/v1/check", check_request()),
    }
    outcomes: list[Outcome] = []
    options = ("--workers", str(arguments.workers), "--log-level", "warning")
    environment = {"ALIGNMENT_BENCHMARK_ENDPOINTS": "true", "ALIGNMENT_LOG_LEVEL": "warning"}
    with (
        tempfile.TemporaryDirectory(prefix="alignment-bench-") as folder,
        serving(Path(folder), *options, env=environment) as server,
    ):
        if {"score20-stored", "estimate"} & set(chosen):
            bodies.update(stored_bodies(server.url, server.token))
        for name in chosen:
            path, request = bodies[name]
            body = json.dumps(request).encode("utf-8")
            decision = asyncio.run(
                load(
                    server.url,
                    path,
                    body,
                    server.token,
                    arguments.seconds,
                    arguments.concurrency,
                    name,
                )
            )
            baseline = asyncio.run(
                load(
                    server.url,
                    f"/v1/benchmark/baseline?size={decision.response_bytes}",
                    body,
                    server.token,
                    arguments.seconds,
                    arguments.concurrency,
                    f"baseline ({name})",
                )
            )
            outcomes += [baseline, decision]
    return outcomes


def report(outcomes: list[Outcome], arguments: argparse.Namespace) -> None:
    print(
        f"loopback, {arguments.concurrency} concurrent clients, {arguments.seconds:g} s each, "
        f"{arguments.workers} worker process(es), {os.cpu_count()} CPUs"
    )
    header = (
        f"{'load':<18} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} "
        f"{'answer':>9} {'vs baseline':>12}  goals"
    )
    print(header)
    print("-" * len(header))
    baselines = {
        o.name.removeprefix("baseline (").rstrip(")"): o
        for o in outcomes
        if o.name.startswith("baseline")
    }
    for outcome in outcomes:
        share = ""
        goals = ""
        if not outcome.name.startswith("baseline"):
            ratio = outcome.rate / baselines[outcome.name].rate
            share = f"{ratio:.0%}"
            met = outcome.percentile(0.99) < P99_GOAL_MS and ratio >= THROUGHPUT_GOAL
            goals = "met" if met else "NOT met"
        print(
            f"{outcome.name:<18} {outcome.rate:>8.1f} {outcome.percentile(0.5):>8.1f} "
            f"{outcome.percentile(0.99):>8.1f} {outcome.errors:>7} "
            f"{outcome.response_bytes / 1024:>7.1f}kB {share:>12}  {goals}"
        )
    print(
        f"goals: p99 under {P99_GOAL_MS:g} ms and at least {THROUGHPUT_GOAL:.0%} of the "
        "baseline's requests per second"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each load")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="server worker processes (default: one per CPU)",
    )
    parser.add_argument(
        "--only",
        default="score,check",
        help="loads to run: score, score20, score20-stored, estimate, check",
    )
    arguments = parser.parse_args()
    report(run(arguments), arguments)


if __name__ == "__main__":
    main()
