"""The scorecard through its doors: the CLI and the real HTTP server give the same document,
the preceding period's stored run gives the trend, and every stored run replays exactly."""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path
from typing import Any

import httpx
import yaml
from service_harness import Server, Service, assert_error, cli
from service_samples import ACTUALS, plan

from alignment_engine.replay import replay_run
from alignment_engine.storage import Store


def _rows(period: str, factor: float = 1.0) -> list[dict[str, Any]]:
    rows = copy.deepcopy(ACTUALS)
    for row in rows:
        row["period"] = period
        row["actual"] = row["actual"] * factor
    return rows


def _files(folder: Path) -> tuple[Path, Path, Path]:
    plan_path = folder / "plan.yaml"
    plan_path.write_text(yaml.safe_dump(plan()), encoding="utf-8")
    paths = []
    for period, factor in (("2026-Q2", 0.9), ("2026-Q3", 1.0)):
        path = folder / f"actuals-{period}.csv"
        rows = _rows(period, factor)
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        paths.append(path)
    return plan_path, paths[0], paths[1]


def _body(period: str, factor: float = 1.0, **extra: Any) -> dict[str, Any]:
    return {"plan": plan(), "actuals": _rows(period, factor), "period": period, **extra}


def _without_run_ids(text: str) -> dict[str, Any]:
    document = json.loads(text)
    document.pop("run_id")
    if document.get("compared_with"):
        document["compared_with"].pop("run_id")
    return dict(document)


def test_cli_and_http_give_the_same_scorecard_with_its_trend(
    server: Server, tmp_path: Path
) -> None:
    plan_path, q2, q3 = _files(tmp_path)
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    texts = []
    for period, actuals in (("2026-Q2", q2), ("2026-q3", q3)):
        made = cli(
            "scorecard", str(plan_path), "--actuals", str(actuals), "--period", period,
            "--format", "json", "--db", db, cwd=tmp_path,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        texts.append(made.stdout)
    first, second = (json.loads(t) for t in texts)
    assert first["compared_with"] is None and "previous" not in first["overall"]
    assert second["period"] == "2026-Q3"
    assert second["compared_with"] == {"run_id": first["run_id"], "period": "2026-Q2"}
    assert second["overall"]["previous"] == first["overall"]["score"]
    assert (
        abs(second["overall"]["change"] - (second["overall"]["score"] - first["overall"]["score"]))
        < 1e-9
    )
    kpi = second["kpis"][0]
    assert kpi["previous"] == first["kpis"][0]["score"]

    answers = []
    for period, factor in (("2026-Q2", 0.9), ("2026-Q3", 1.0)):
        answer = httpx.post(
            f"{server.url}/v1/scorecard",
            json=_body(period, factor),
            headers=server.headers(),
            timeout=60.0,
        )
        assert answer.status_code == 200, answer.text
        answers.append(answer.text)
    assert _without_run_ids(answers[0]) == _without_run_ids(texts[0])
    assert _without_run_ids(answers[1]) == _without_run_ids(texts[1])

    for database, text in ((db, texts[1]), (server.db_url, answers[1])):
        with Store.open(database) as store:
            replayed = replay_run(store, json.loads(text)["run_id"])
        assert replayed.identical, replayed.difference()


def test_a_department_scorecard_and_its_errors(tmp_path: Path) -> None:
    plan_path, _, q3 = _files(tmp_path)
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    made = cli(
        "scorecard", str(plan_path), "--actuals", str(q3), "--period", "2026-Q3",
        "--department", "sales", "--format", "json", "--db", db, cwd=tmp_path,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    document = json.loads(made.stdout)
    assert document["department"] == "sales"
    assert {k["scope"] for k in document["kpis"]} <= {"sales", "shared.margin"}
    wrong = cli(
        "scorecard", str(plan_path), "--actuals", str(q3), "--period", "2026-Q3",
        "--department", "sale", "--db", db, cwd=tmp_path,
    )  # fmt: skip
    assert wrong.returncode == 2
    assert "unknown department 'sale'" in wrong.stderr and "sales" in wrong.stderr
    assert "Traceback" not in wrong.stderr


def test_the_scorecard_report_and_tables(tmp_path: Path) -> None:
    plan_path, _, q3 = _files(tmp_path)
    out = tmp_path / "out"
    made = cli(
        "scorecard", str(plan_path), "--actuals", str(q3), "--period", "2026-Q3",
        "--out", str(out), "--db", f"sqlite:///{tmp_path / 'runs.db'}", cwd=tmp_path,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "overall" in made.stdout
    assert sorted(p.name for p in out.iterdir()) == [
        "kpis.csv",
        "objectives.csv",
        "perspectives.csv",
        "report.html",
        "scorecard.json",
        "summary.json",
    ]
    document = json.loads((out / "scorecard.json").read_text(encoding="utf-8"))
    html = (out / "report.html").read_text(encoding="utf-8")
    for objective in document["objectives"]:  # the strategy map, coloured by status
        assert f'data-id="{objective["objective"]}" data-kpis' in html
        assert f'data-status="{objective["status"]}"' in html
    assert 'class="chart scorecard-heat-map"' in html
    assert html.count('class="cell"') == 4 * len(plan()["departments"])


def test_every_role_may_ask_for_a_scorecard(service: Service) -> None:
    for role in ("admin", "hr", "planner", "service"):
        answer = service.post("/v1/scorecard", _body("2026-Q3"), role=role)
        assert answer.status_code == 200, (role, answer.text)
    assert_error(service.post("/v1/scorecard", _body("2026-Q3"), role=None), 401)
    bad = service.post("/v1/scorecard", _body("2026-Q3", department="nobody"))
    assert "unknown department 'nobody'" in assert_error(bad, 422)["message"]


def test_the_report_draws_each_kpis_trend_over_the_stored_periods(tmp_path: Path) -> None:
    plan_path, q2, q3 = _files(tmp_path)
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    out = tmp_path / "out"
    for period, actuals in (("2026-Q2", q2), ("2026-Q3", q3)):
        made = cli(
            "scorecard", str(plan_path), "--actuals", str(actuals), "--period", period,
            "--out", str(out / period), "--db", db, cwd=tmp_path,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
    first = (out / "2026-Q2" / "report.html").read_text(encoding="utf-8")
    assert 'class="sparkline"' not in first  # nothing stored before it
    html = (out / "2026-Q3" / "report.html").read_text(encoding="utf-8")
    document = json.loads((out / "2026-Q3" / "scorecard.json").read_text(encoding="utf-8"))
    assert html.count('class="sparkline"') == len(document["kpis"])
    kpi = document["kpis"][0]
    previous = kpi["previous"]
    assert f"2026-Q2: {previous:.0%}, 2026-Q3: {kpi['score']:.0%}" in html


def test_a_service_token_trends_only_against_the_scorecards_it_recorded(service: Service) -> None:
    body = _body("2023-Q1", 0.9)
    first = service.post("/v1/scorecard", body, role="hr")
    assert first.status_code == 200, first.text
    later = _body("2023-Q2")
    as_hr = service.post("/v1/scorecard", later, role="hr").json()
    assert as_hr["compared_with"]["run_id"] == first.json()["run_id"]
    as_service = service.post("/v1/scorecard", later, role="service").json()
    assert as_service["compared_with"] is None  # HR's run is not the service token's to read
