"""Maker-checker through the CLI and over HTTP: `db settings`, `runs approve --by`,
`POST /v1/runs/{id}/approve` and `/finalise` with the roles of the permission matrix."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from service_harness import Service, assert_error
from service_samples import score_body

from alignment_engine.cli import main
from alignment_engine.storage import RunStatus, Store


def test_the_cli_requires_an_approval_once_the_database_says_so(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    runner = CliRunner()
    set_it = runner.invoke(main, ["db", "settings", "--require-approval", "yes", "--db", url])
    assert set_it.exit_code == 0 and "require_approval: true" in set_it.output
    root = Path(__file__).resolve().parents[2]
    made = runner.invoke(
        main,
        ["check", str(root / "scenarios" / "acme" / "plan.yaml"), "--db", url, "--format", "json"],
    )
    assert made.exit_code == 0, made.output
    with Store.open(url) as store:
        # A check has no period; a scorecard does: store one and approve it.
        run = store.list_runs(kind="check")[0]
    assert run.period is None
    acme = root / "scenarios" / "acme"
    args = ["scorecard", str(acme / "plan.yaml"), "--actuals", str(acme / "actuals-2026-q3.csv")]
    scored = runner.invoke(main, [*args, "--period", "2026-Q3", "--db", url, "--format", "json"])
    assert scored.exit_code == 0, scored.output
    with Store.open(url) as store:
        card = store.list_runs(kind="scorecard")[0]
    early = runner.invoke(main, ["runs", "finalise", card.id, "--db", url])
    assert early.exit_code == 2 and "needs an approval" in early.output
    own = runner.invoke(main, ["runs", "approve", card.id, "--by", card.actor, "--db", url])
    assert own.exit_code == 2 and "must come from someone else" in own.output
    approved = runner.invoke(main, ["runs", "approve", card.id, "--by", "controller", "--db", url])
    assert approved.exit_code == 0 and "approved by controller" in approved.output
    final = runner.invoke(main, ["runs", "finalise", card.id, "--by", "cfo", "--db", url])
    assert final.exit_code == 0, final.output
    shown = runner.invoke(main, ["runs", "show", card.id, "--db", url])
    assert "controller" in shown.output and "cfo" in shown.output


def test_http_approval_is_maker_checker_with_the_matrix_roles(service: Service) -> None:
    with Store.open(service.db_url) as store:
        store.set_setting("require_approval", "true", actor="admin-user")
    body = score_body()
    body["period"] = "2024-Q2"
    for row in body["actuals"]:
        row["period"] = "2024-Q2"
    made = service.post("/v1/score", body, role="hr")
    assert made.status_code == 200, made.text
    run_id = made.json()["run_id"]
    early = service.post(f"/v1/runs/{run_id}/finalise", None, role="admin")
    assert "needs an approval" in assert_error(early, 409)["message"]
    own = service.post(f"/v1/runs/{run_id}/approve", None, role="hr")  # its maker
    assert "must come from someone else" in assert_error(own, 409)["message"]
    assert_error(service.post(f"/v1/runs/{run_id}/approve", None, role="planner"), 404)
    assert_error(service.post(f"/v1/runs/{run_id}/approve", None, role="service"), 404)
    approved = service.post(f"/v1/runs/{run_id}/approve", None, role="admin")
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert approved.json()["approved_by"] == "admin-user"
    final = service.post(f"/v1/runs/{run_id}/finalise", None, role="hr")
    assert final.status_code == 200, final.text
    assert final.json()["status"] == "final" and final.json()["finalised_by"] == "hr-user"
    with Store.open(service.db_url) as store:
        assert store.get_run(run_id).status is RunStatus.FINAL
        store.set_setting("require_approval", "false", actor="admin-user")
