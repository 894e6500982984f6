"""The storage commands: db, runs, tokens, audit (through click, on both backends)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from storage_samples import check_record, finding, payouts_for, score_output, score_record

from alignment_engine.cli import main
from alignment_engine.storage import RunRecord, Store


def run(*arguments: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(arguments), env=env)


def _printed_score(db_url: str, market_share: float = 0.26, factor: float = 1.0) -> tuple[str, str]:
    """Store a score run the way the score command does; returns (run id, what it printed)."""
    record = score_record(market_share=market_share)
    payouts = payouts_for(record, factor)
    with Store.open(db_url) as store:
        stored = store.record_run(
            record, result_json=score_output(record, payouts), payouts=payouts
        )
    return stored.id, stored.result_json + "\n"  # click.echo adds the newline


def test_show_prints_the_original_output_byte_for_byte(db_url: str) -> None:
    run_id, printed = _printed_score(db_url)
    result = run("runs", "show", run_id, "--format", "json", "--db", db_url)
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == printed.encode("utf-8")
    table = run("runs", "show", run_id[:6], "--db", db_url)
    assert table.exit_code == 0
    assert run_id in table.stdout and "employees" in table.stdout


def test_list_and_filters(db_url: str) -> None:
    score_id, _ = _printed_score(db_url)
    record, output = check_record([finding("trade-off")])
    with Store.open(db_url) as store:
        check_id = store.record_run(record, result_json=output).id
    listed = json.loads(run("runs", "list", "--format", "json", "--db", db_url).stdout)
    assert [r["id"] for r in listed["runs"]] == [check_id, score_id]
    assert listed["runs"][1]["kind"] == "score"
    assert listed["runs"][1]["period"] == "2026-Q3"
    only = run("runs", "list", "--kind", "score", "--format", "json", "--db", db_url)
    assert [r["id"] for r in json.loads(only.stdout)["runs"]] == [score_id]
    table = run("runs", "list", "--db", db_url)
    assert table.exit_code == 0 and score_id in table.stdout and "2 runs" in table.stdout


def test_diff_and_finalise(db_url: str) -> None:
    a, _ = _printed_score(db_url, factor=1.0)
    b, _ = _printed_score(db_url, market_share=0.3, factor=1.1)
    result = run("runs", "diff", a, b, "--format", "json", "--db", db_url)
    assert result.exit_code == 0, result.output
    difference = json.loads(result.stdout)
    assert difference["payouts"]["totals"]["changed"] == 5
    assert difference["payouts"]["totals"]["delta"] > 0
    table = run("runs", "diff", a, b, "--db", db_url)
    assert "Payout changes" in table.stdout and "5 changed" in table.stdout
    final = run("runs", "finalise", a, "--db", db_url)
    assert final.exit_code == 0 and f"run {a} is final for score 2026-Q3" in final.stdout
    again = run("runs", "finalise", b, "--db", db_url)
    assert again.exit_code == 2
    assert "already has a final score run" in again.stderr
    assert "Traceback" not in again.output


def test_diff_of_runs_of_different_kinds_prints_each_change_cut_short(db_url: str) -> None:
    # A check run has no employees: the score run's whole employee list is one change, and
    # printed in full it ran to tens of thousands of lines.
    score_id, _ = _printed_score(db_url)
    record, output = check_record([finding("trade-off") for _ in range(40)])
    with Store.open(db_url) as store:
        check_id = store.record_run(record, result_json=output).id
    table = run("runs", "diff", score_id, check_id, "--db", db_url)
    assert table.exit_code == 0, table.output
    assert "items)" in table.stdout  # a subtree is shown by its start and its size
    whole = run("runs", "diff", score_id, check_id, "--format", "json", "--db", db_url)
    changes = json.loads(whole.stdout)["changes"]
    longest = max(
        len(json.dumps(c.get(side), ensure_ascii=False)) for c in changes for side in "ab"
    )
    assert longest > 1000  # the JSON keeps every change whole
    assert len(table.stdout.splitlines()) < 200


def test_export_writes_everything_the_run_needs(db_url: str, tmp_path: Path) -> None:
    run_id, printed = _printed_score(db_url)
    result = run("runs", "export", run_id, str(tmp_path / "out"), "--db", db_url)
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "actuals.csv",
        "employees.csv",
        "plan.json",
        "policy.json",
        "result.json",
        "run.json",
    ]
    assert (out / "result.json").read_text(encoding="utf-8") + "\n" == printed
    metadata = json.loads((out / "run.json").read_text())
    documents = {
        role: json.loads((out / f"{role}.json").read_text()) for role in ("plan", "policy")
    }
    import pandas as pd

    tables = {
        "employees": pd.read_csv(out / "employees.csv"),
        "actuals": pd.read_csv(out / "actuals.csv"),
    }
    again = RunRecord.create(
        "score",
        period=metadata["period"],
        documents=documents,
        tables=tables,
        options=metadata["options"],
        engine_version=metadata["engine_version"],
    )
    assert again.run_hash == metadata["run_hash"]


def test_tokens(db_url: str) -> None:
    created = run("tokens", "create", "--role", "service", "--name", "ci", "--db", db_url)
    assert created.exit_code == 0, created.output
    token = created.stdout.splitlines()[-1]
    assert token.startswith("ae_")
    assert "shown once" in created.stderr
    with Store.open(db_url) as store:
        assert store.verify_token(token) == ("ci", "service")
    listed = json.loads(run("tokens", "list", "--format", "json", "--db", db_url).stdout)
    assert [(t["name"], t["active"]) for t in listed["tokens"]] == [("ci", True)]
    assert token not in run("tokens", "list", "--db", db_url).stdout
    assert run("tokens", "revoke", "ci", "--db", db_url).exit_code == 0
    with Store.open(db_url) as store:
        assert store.verify_token(token) is None
    missing = run("tokens", "revoke", "nobody", "--db", db_url)
    assert missing.exit_code == 2 and "no token named 'nobody'" in missing.stderr
    duplicate = run("tokens", "create", "--role", "hr", "--name", "ci", "--db", db_url)
    assert duplicate.exit_code == 2 and "exists" in duplicate.stderr
    audit = json.loads(run("audit", "--format", "json", "--db", db_url).stdout)
    assert [e["action"] for e in audit["entries"]][:2] == ["token.revoked", "token.created"]


def test_the_database_comes_from_the_environment(db_url: str) -> None:
    run_id, _ = _printed_score(db_url)
    result = run("runs", "list", "--format", "json", env={"ALIGNMENT_DB_URL": db_url})
    assert [r["id"] for r in json.loads(result.stdout)["runs"]] == [run_id]


def test_the_default_database_is_a_file_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("runs", "list", env={"ALIGNMENT_DB_URL": ""})
    assert result.exit_code == 0, result.output
    assert (tmp_path / "alignment-engine.db").exists()


def test_db_upgrade_and_status(blank_db_url: str) -> None:
    status = run("db", "status", "--db", blank_db_url)
    if blank_db_url.startswith("sqlite"):  # a SQLite file upgrades itself when first used
        assert "upgraded automatically on first use" in status.stdout
    else:
        assert "needs `alignment-engine db upgrade`" in status.stdout
    upgraded = run("db", "upgrade", "--db", blank_db_url)
    assert upgraded.exit_code == 0 and "upgraded from empty to revision" in upgraded.stdout
    again = run("db", "upgrade", "--db", blank_db_url)
    assert "already at schema revision" in again.stdout
    assert "up to date" in run("db", "status", "--db", blank_db_url).stdout


@pytest.mark.postgres
def test_an_old_postgres_schema_is_a_clear_error(postgres_url: str) -> None:
    result = run("runs", "list", "--db", postgres_url)
    assert result.exit_code == 2
    assert "run `alignment-engine db upgrade --db" in result.stderr
    assert "Traceback" not in result.output


def test_unknown_runs_exit_2(db_url: str) -> None:
    result = run("runs", "show", "abcdef12", "--db", db_url)
    assert result.exit_code == 2
    assert "no run 'abcdef12'" in result.stderr
