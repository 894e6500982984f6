"""Maker-checker on SQLite and PostgreSQL: approval by someone else than the maker, required
only where the database says so, every step audited."""

from __future__ import annotations

import pytest
from storage_samples import payouts_for, score_output, score_record

from alignment_engine.errors import ConflictError, InputError
from alignment_engine.storage import RunStatus, Store, StoredRun


def _scored(store: Store, market_share: float = 0.26) -> StoredRun:
    record = score_record(market_share=market_share)
    payouts = payouts_for(record)
    return store.record_run(record, result_json=score_output(record, payouts), payouts=payouts)


def test_without_the_setting_finalise_works_alone(store: Store) -> None:
    assert store.settings() == {"require_approval": "false"}
    run = _scored(store)
    assert store.finalise(run.id, "payroll-lead").status is RunStatus.FINAL


def test_with_the_setting_a_run_is_final_only_once_someone_else_approved_it(store: Store) -> None:
    store.set_setting("require_approval", "true", actor="cfo")
    run = _scored(store)  # recorded by "tester"
    with pytest.raises(ConflictError, match="needs an approval") as refused:
        store.finalise(run.id, "tester")
    assert f"runs approve {run.id}" in refused.value.message
    with pytest.raises(ConflictError, match="must come from someone else"):
        store.approve(run.id, "tester")
    approved = store.approve(run.id[:6], "controller")
    assert approved.status is RunStatus.APPROVED
    assert approved.approved_by == "controller" and approved.approved_at is not None
    assert store.approve(run.id, "controller").approved_at == approved.approved_at  # no change
    final = store.finalise(run.id, "payroll-lead")
    assert final.status is RunStatus.FINAL and final.finalised_by == "payroll-lead"
    assert final.approved_by == "controller"
    with pytest.raises(ConflictError, match="only a completed run is approved"):
        store.approve(run.id, "someone")
    actions = [(e.action, e.actor) for e in store.audit_log(limit=None)]
    assert ("setting.changed", "cfo") in actions
    assert ("run.approved", "controller") in actions
    assert ("run.finalised", "payroll-lead") in actions


def test_an_approved_run_with_the_same_inputs_is_reused(store: Store) -> None:
    run = _scored(store)
    store.approve(run.id, "controller")
    again = _scored(store)
    assert again.reused and again.id == run.id and again.status is RunStatus.APPROVED


def test_settings_are_checked(store: Store) -> None:
    with pytest.raises(InputError, match="unknown setting 'require_aproval'") as caught:
        store.set_setting("require_aproval", "true")
    assert caught.value.suggestion == "did you mean 'require_approval'?"
    with pytest.raises(InputError, match="true or false"):
        store.set_setting("require_approval", "maybe")


def test_approving_an_unknown_run_is_not_found(store: Store) -> None:
    from alignment_engine.errors import NotFoundError

    with pytest.raises(NotFoundError):
        store.approve("ffff0000", "controller")
