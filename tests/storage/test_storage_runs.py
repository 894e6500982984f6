"""Runs on SQLite and PostgreSQL: stored whole, idempotent, final, diffable, reproducible."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest
from storage_samples import (
    check_record,
    finding,
    payouts_for,
    score_output,
    score_record,
)

from alignment_engine.errors import ConflictError, InputError, NotFoundError
from alignment_engine.storage import (
    RunOutput,
    RunRecord,
    RunStatus,
    Store,
    StoredRun,
    table_from_bytes,
)
from alignment_engine.storage import bulk as bulk_module


def _store_score(
    store: Store, record: RunRecord, factor: float = 1.0, *, force: bool = False
) -> StoredRun:
    payouts = payouts_for(record, factor)
    return store.record_run(
        record, result_json=score_output(record, payouts), payouts=payouts, force=force
    )


def test_a_stored_run_comes_back_exactly(store: Store) -> None:
    record = score_record()
    payouts = payouts_for(record, 1.25)
    output = score_output(record, payouts)
    stored = store.record_run(record, result_json=output, payouts=payouts)
    assert not stored.reused
    again = store.get_run(stored.id)
    assert again.result_json == output
    assert again.run_hash == record.run_hash
    assert again.kind.value == "score"
    assert again.status is RunStatus.COMPLETED
    assert again.period == "2026-Q3"
    assert again.actor == "tester"
    assert set(again.documents) == {"plan", "policy"}
    assert set(again.tables) == {"actuals", "employees"}
    assert again.started_at <= again.finished_at
    assert again.started_at.tzinfo is not None
    rows = store.payouts(stored.id)
    assert rows["employee_id"].tolist() == payouts["employee_id"].tolist()
    assert rows["payout_units"].tolist() == (payouts["payout"] * 100).round().astype(int).tolist()
    assert rows["payout"].tolist() == payouts["payout"].tolist()
    assert rows["factor"].tolist() == [1.25] * len(payouts)


def test_the_same_inputs_give_the_same_run_unless_forced(store: Store) -> None:
    first = _store_score(store, score_record())
    second_record = score_record()
    assert second_record.run_hash == first.run_hash
    assert second_record.run_id != first.id
    assert store.existing_run(second_record) is not None
    second = _store_score(store, second_record)
    assert second.reused
    assert second.id == first.id
    assert second.result_json == first.result_json
    forced_record = score_record()
    forced = _store_score(store, forced_record, force=True)
    assert _store_score(store, forced_record, force=True).reused  # a retry stores it once
    assert not forced.reused
    assert forced.id != first.id
    assert len(store.list_runs()) == 2
    changed = score_record(options={"shared_weight": 0.4})
    assert changed.run_hash != first.run_hash
    assert store.existing_run(changed) is None


def test_record_or_reuse_computes_only_when_needed(store: Store) -> None:
    calls: list[str] = []

    def produce(run_id: str) -> RunOutput:
        calls.append(run_id)
        record = score_record()
        payouts = payouts_for(record)
        text = score_output(record, payouts).replace(record.run_id, run_id)
        return RunOutput(result_json=text, payouts=payouts)

    first_record = score_record()
    first = store.record_or_reuse(first_record, produce)
    assert calls == [first_record.run_id] and first.id == first_record.run_id
    assert json.loads(first.result_json)["run_id"] == first.id
    again = store.record_or_reuse(score_record(), produce)
    assert again.reused and again.id == first.id and len(calls) == 1
    forced = store.record_or_reuse(score_record(), produce, force=True)
    assert not forced.reused and len(calls) == 2
    assert json.loads(forced.result_json)["run_id"] == forced.id


def test_finality(store: Store) -> None:
    first = _store_score(store, score_record())
    final = store.finalise(first.id[:6])
    assert final.status is RunStatus.FINAL
    assert final.finalised_at is not None
    assert store.finalise(first.id).status is RunStatus.FINAL  # again: nothing changes
    identical = _store_score(store, score_record(), force=True)
    assert identical.reused and identical.id == first.id
    different = score_record(market_share=0.2)
    with pytest.raises(ConflictError, match="is final for period 2026-Q3"):
        store.existing_run(different)
    with pytest.raises(ConflictError, match="is final"):
        _store_score(store, different, force=True)
    other_period = _store_score(store, score_record(period="2026-Q4", market_share=0.2))
    assert not other_period.reused
    assert len(store.list_runs()) == 2


def test_only_one_final_run_per_period(store: Store) -> None:
    first = _store_score(store, score_record())
    second = _store_score(store, score_record(), force=True)
    store.finalise(first.id)
    with pytest.raises(ConflictError, match="already has a final score run"):
        store.finalise(second.id)
    record, output = check_record([])
    no_period = store.record_run(record, result_json=output)
    with pytest.raises(ConflictError, match="has no period"):
        store.finalise(no_period.id)


def test_failed_runs_are_kept_but_never_reused(store: Store) -> None:
    record = score_record()
    failed = store.record_run(
        record, result_json='{"error": {"code": "invalid_input"}}', status="failed"
    )
    assert failed.status is RunStatus.FAILED
    assert store.existing_run(score_record()) is None
    retried = _store_score(store, score_record())
    assert not retried.reused
    with pytest.raises(ConflictError, match="failed"):
        store.finalise(failed.id)
    with pytest.raises(InputError, match="finalise"):
        store.record_run(score_record(), result_json="{}", status="final")


def test_listing_filters(store: Store) -> None:
    q3 = _store_score(store, score_record())
    q4 = _store_score(store, score_record(period="2026-Q4"))
    record, output = check_record([finding("trade-off")])
    check = store.record_run(record, result_json=output)
    store.finalise(q3.id)
    assert [r.id for r in store.list_runs()] == [check.id, q4.id, q3.id]
    assert {r.id for r in store.list_runs(kind="score")} == {q3.id, q4.id}
    assert [r.id for r in store.list_runs(period="2026-Q4")] == [q4.id]
    assert [r.id for r in store.list_runs(status="final")] == [q3.id]
    assert len(store.list_runs(limit=1)) == 1
    with pytest.raises(InputError, match="did you mean 'score'"):
        store.list_runs(kind="scor")


def test_unknown_runs_are_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError, match="no run 'ffffffff'"):
        store.get_run("ffffffff")
    with pytest.raises(NotFoundError):
        store.document("0" * 64)
    with pytest.raises(NotFoundError):
        store.table("0" * 64)


def test_documents_and_tables_are_stored_once(store: Store) -> None:
    a = _store_score(store, score_record())
    b = _store_score(store, score_record(market_share=0.3))
    assert a.documents == b.documents
    assert a.tables["employees"] == b.tables["employees"]
    assert a.tables["actuals"] != b.tables["actuals"]
    plan = store.document(a.documents["plan"])
    assert plan.kind == "plan" and plan.document_id == "acme-2026"
    assert plan.content["name"] == "ACME 2026 · 销售"


def test_the_inputs_reproduce_the_run_hash(store: Store) -> None:
    """Everything needed to run again is in the database: re-staging the stored inputs gives
    the same run hash, so the engine reproduces the same result."""
    original = score_record()
    stored = _store_score(store, original)
    inputs = store.run_inputs(stored.id)
    employees = inputs.tables["employees"].frame()
    typed = employees.astype({"target_bonus": float, "individual_score": float})
    actuals = inputs.tables["actuals"].frame().astype({"actual": float})
    again = RunRecord.create(
        "score",
        period=inputs.run.period,
        documents={role: doc.content for role, doc in inputs.documents.items()},
        tables={"employees": typed, "actuals": actuals},
        options=inputs.run.options,
        engine_version=inputs.run.engine_version,
    )
    assert again.run_hash == stored.run_hash
    assert inputs.tables["employees"].row_count == 5
    assert table_from_bytes(inputs.tables["employees"].data).shape == (5, 4)


def test_a_failure_leaves_no_partial_rows(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    real_insert = bulk_module.insert_frame

    def insert_then_fail(*args: Any) -> None:
        real_insert(*args)
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("alignment_engine.storage.store.insert_frame", insert_then_fail)
    record = score_record()
    with pytest.raises(RuntimeError, match="disk on fire"):
        _store_score(store, record)
    monkeypatch.undo()
    assert store.list_runs() == []
    assert store.existing_run(record) is None
    with pytest.raises(NotFoundError):
        store.get_run(record.run_id)
    with pytest.raises(NotFoundError):
        store.document(record.documents[0].hash)
    assert store.audit_log(action="run.created") == []
    stored = _store_score(store, record)
    assert len(store.payouts(stored.id)) == 5


def test_payouts_come_from_the_result_when_not_given(store: Store) -> None:
    record = score_record()
    payouts = payouts_for(record, 0.5)
    stored = store.record_run(record, result_json=score_output(record, payouts))
    rows = store.payouts(stored.id)
    assert rows["payout"].tolist() == payouts["payout"].tolist()


def test_bad_payouts_are_input_errors(store: Store) -> None:
    record = score_record()
    with pytest.raises(InputError, match="lack the columns payout"):
        store.record_run(
            record, result_json="{}", payouts=pd.DataFrame({"employee_id": [], "department": []})
        )
    with pytest.raises(InputError, match="not JSON"):
        store.record_run(record, result_json="not json")
    assert store.list_runs() == []


def test_diff_of_score_runs(store: Store) -> None:
    a = _store_score(store, score_record(), factor=1.0)
    b_record = score_record(market_share=0.3)
    b_payouts = payouts_for(b_record, 1.0)
    b_payouts.loc[0, "payout"] += 100.0
    b_payouts = b_payouts.drop(index=4)
    b = store.record_run(b_record, result_json=score_output(b_record, b_payouts), payouts=b_payouts)
    difference = store.diff(a.id, b.id)
    assert difference.kind == "score"
    employees = difference.payouts["employees"]  # type: ignore[index]
    assert [(e["employee_id"], e["status"], e["delta"]) for e in employees] == [
        ("E000000", "changed", 100.0),
        ("E000004", "removed", -payouts_for(a_record := score_record())["payout"].iloc[4]),
    ]
    assert a_record.run_hash == a.run_hash
    totals = difference.payouts["totals"]  # type: ignore[index]
    assert totals["changed"] == 1 and totals["removed"] == 1 and totals["added"] == 0
    assert totals["delta"] == pytest.approx(totals["b"] - totals["a"])
    assert [c["path"] for c in difference.changes] == ["totals.payout"]
    assert not difference.identical
    assert store.diff(a.id, a.id).identical


def test_diff_of_check_runs(store: Store) -> None:
    record_a, output_a = check_record([finding("trade-off", departments=("sales", "finance"))])
    record_b, output_b = check_record(
        [finding("resource-oversubscription"), finding("cascade-gap", severity="low")]
    )
    a = store.record_run(record_a, result_json=output_a)
    b = store.record_run(record_b, result_json=output_b)
    assert store.findings(a.id) == json.loads(output_a)["findings"]
    difference = store.diff(a.id, b.id).to_dict()
    assert [f["rule"] for f in difference["findings"]["added"]] == [
        "resource-oversubscription",
        "cascade-gap",
    ]
    assert [f["rule"] for f in difference["findings"]["removed"]] == ["trade-off"]


def test_diff_of_other_runs_compares_the_json(store: Store) -> None:
    allocations = [
        {"resource": "budget", "department": "sales", "current": 10.0, "proposed": 12.0},
        {"resource": "budget", "department": "finance", "current": 10.0, "proposed": 8.0},
    ]
    outputs = []
    for share in (0.3, 0.5):
        record = RunRecord.create("optimise", documents={}, options={"shared_weight": share})
        text = json.dumps({"status": "optimal", "objective": share, "allocations": allocations})
        outputs.append(store.record_run(record, result_json=text))
    assert store.allocations(outputs[0].id)[0]["proposed"] == 12.0
    changes = store.diff(outputs[0].id, outputs[1].id).changes
    assert changes == [{"path": "objective", "a": 0.3, "b": 0.5}]


def test_a_check_with_thousands_of_findings_stores_each_on_the_bulk_path(store: Store) -> None:
    """Above a thousand findings they are written by executemany (SQLite) or COPY (PostgreSQL);
    each reads back as the result listed it, tabs, quotes, newlines and Chinese included."""
    findings = [
        {
            **finding("trade-off", departments=(f"d{i:04d}", "财务")),
            "message": f'line {i}\twith "quotes", a back\\slash\nand a new line',
            "kpis": [f"d{i:04d}.k1", "shared.g1"],
        }
        for i in range(2_500)
    ]
    record, output = check_record(findings)
    run = store.record_run(record, result_json=output)
    assert store.findings(run.id) == findings


def test_runs_and_tables_stored_zlib_compressed_still_read(store: Store) -> None:
    """Databases written before Zstandard hold zlib blobs: they read back the same."""
    import zlib

    from sqlalchemy import select, update

    from alignment_engine.storage.codec import decompress
    from alignment_engine.storage.orm import InputTableRow, RunRow

    record = score_record()
    payouts = payouts_for(record, 1.5)
    output = score_output(record, payouts)
    stored = store.record_run(record, result_json=output, payouts=payouts)
    before = store.run_inputs(stored.id)
    with store._engine.begin() as connection:  # what an older release wrote
        blob = connection.execute(select(RunRow.result).where(RunRow.id == stored.id)).scalar_one()
        assert blob[:4] == b"\x28\xb5\x2f\xfd"  # written as Zstandard now
        connection.execute(
            update(RunRow)
            .where(RunRow.id == stored.id)
            .values(result=zlib.compress(decompress(blob), 3))
        )
        for content_hash, content in connection.execute(
            select(InputTableRow.hash, InputTableRow.content)
        ).all():
            connection.execute(
                update(InputTableRow)
                .where(InputTableRow.hash == content_hash)
                .values(content=zlib.compress(decompress(content), 3), encoding="csv+zlib")
            )
    again = store.run_inputs(stored.id)
    assert again.run.result_json == output
    assert {role: t.data for role, t in again.tables.items()} == {
        role: t.data for role, t in before.tables.items()
    }


def test_a_result_that_is_not_utf8_is_refused(store: Store) -> None:
    record, _text = check_record([])
    with pytest.raises(InputError, match="not UTF-8 text"):
        store.record_run(record, result_json=b'{"findings": [], "summary": {"x": "\xff"}}')
    assert store.list_runs() == []
