"""``docs push``, ``docs list``, ``docs diff`` on SQLite and PostgreSQL: versions stored once,
never changed, compared by id paths; the effective version chosen by period."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from alignment_engine.cli import main
from alignment_engine.storage import Store

ROOT = Path(__file__).resolve().parents[2]
PLAN = ROOT / "scenarios" / "acme" / "plan.yaml"


def _run(*args: str) -> object:
    return CliRunner().invoke(main, list(args))


def test_push_list_diff_and_the_effective_version(tmp_path: Path, db_url: str) -> None:
    text = PLAN.read_text(encoding="utf-8")
    harder = tmp_path / "plan-2.yaml"
    harder.write_text(text.replace("target: 250,", "target: 260,", 1), encoding="utf-8")
    first = _run("docs", "push", str(PLAN), "--name", "acme", "--version", "2026.1",
                 "--effective-to", "2026-06-30", "--db", db_url)  # fmt: skip
    assert first.exit_code == 0, first.output  # type: ignore[attr-defined]
    second = _run("docs", "push", str(harder), "--name", "acme", "--version", "2026.2",
                  "--effective-from", "2026-07-01", "--db", db_url)  # fmt: skip
    assert second.exit_code == 0, second.output  # type: ignore[attr-defined]
    again = _run("docs", "push", str(PLAN), "--name", "acme", "--version", "2026.1", "--db", db_url)
    assert again.exit_code == 0  # type: ignore[attr-defined]  # the same content: a no-op
    clash = _run("docs", "push", str(harder), "--name", "acme", "--version", "2026.1",
                 "--db", db_url)  # fmt: skip
    assert clash.exit_code == 2 and "versions never change" in clash.output  # type: ignore[attr-defined]
    listed = json.loads(_run("docs", "list", "--format", "json", "--db", db_url).output)  # type: ignore[attr-defined]
    assert [r["reference"] for r in listed["releases"]] == ["acme@2026.1", "acme@2026.2"]
    changes = json.loads(
        _run(
            "docs", "diff", "acme@2026.1", "acme@2026.2", "--format", "json", "--db", db_url
        ).output  # type: ignore[attr-defined]
    )["changes"]
    assert changes == [{"path": "company_kpis[company.revenue].target", "a": 250.0, "b": 260.0}]
    with Store.open(db_url) as store:
        assert store.resolve_release("plan", "acme", "2026-Q1").version == "2026.1"
        assert store.resolve_release("plan", "acme", "2026-Q3").version == "2026.2"
        assert store.resolve_release("plan", "acme").version == "2026.2"
        actions = [e.action for e in store.audit_log()]
    assert actions.count("release.pushed") == 2


def test_unhappy_paths_name_the_file_or_the_release(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    broken = tmp_path / "plan.yaml"
    broken.write_text("kind: plan\nid: x\nobjectives: [\n", encoding="utf-8")
    bad = _run("docs", "push", str(broken), "--name", "x", "--version", "1", "--db", db)
    assert bad.exit_code == 2 and "plan.yaml" in bad.output  # type: ignore[attr-defined]
    assert "Traceback" not in bad.output  # type: ignore[attr-defined]
    rules = ROOT / "rules"
    pack = next(p for p in sorted(rules.glob("*.yaml")))
    other = _run("docs", "push", str(pack), "--name", "x", "--version", "1", "--db", db)
    assert other.exit_code == 2 and "a plan or a policy" in other.output  # type: ignore[attr-defined]
    label = _run("docs", "push", str(PLAN), "--name", "has space", "--version", "1", "--db", db)
    assert label.exit_code == 2 and "no '@' or spaces" in label.output  # type: ignore[attr-defined]
    assert (
        _run("docs", "push", str(PLAN), "--name", "acme", "--version", "1", "--db", db).exit_code
        == 0
    )  # type: ignore[attr-defined]
    unknown = _run("docs", "diff", "acme@1", "acme@2", "--db", db)
    assert unknown.exit_code == 2 and "versions: 1" in unknown.output  # type: ignore[attr-defined]
    nobody = _run("docs", "diff", "acme@1", "shop@1", "--db", db)
    assert nobody.exit_code == 2 and "known: acme" in nobody.output  # type: ignore[attr-defined]
    empty = _run("docs", "list", "--kind", "policy", "--db", db)
    assert empty.exit_code == 0 and "no releases" in empty.output  # type: ignore[attr-defined]
