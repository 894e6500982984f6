"""The engine's inputs from a request: documents given inline or by stored version, and tables."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

import pandas as pd
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from alignment_engine import Plan, Policy
from alignment_engine.errors import InputError, NotFoundError
from alignment_engine.service.api import ActualRow, AdjustmentRow, EmployeeRow, FxRow
from alignment_engine.service.document_cache import documents
from alignment_engine.service.documents import (
    actuals_table,
    adjustments_table,
    document_from_json,
    employees_table,
    fx_table,
)
from alignment_engine.service.state import ServiceState

__all__ = ["plan_of", "policy_of", "stored_document", "table_builder"]

ModelT = TypeVar("ModelT", bound=BaseModel)
_CONTENT_HASH = re.compile(r"^[0-9a-f]{64}$")


def stored_document(
    state: ServiceState,
    model: type[ModelT],
    member: str,
    reference: str,
    period: str | None = None,
) -> ModelT:
    """A stored document version by content hash or release reference (``name@version``, or
    ``name``: the version effective in ``period``); validated once per content per worker
    (blocking: the store is read)."""
    store = state.store()
    hash_ = reference
    if not _CONTENT_HASH.match(reference):
        try:
            hash_ = store.resolve_release(member, reference, period).hash
        except NotFoundError as error:
            raise NotFoundError(error.message, details=[{"path": f"{member}_id"}]) from None
    cached = documents.stored(member, hash_)
    if cached is not None:
        return cached  # type: ignore[return-value]
    try:
        stored = store.document(hash_)
    except NotFoundError:
        # The store's message names the database; ours names only what was asked for.
        raise NotFoundError(
            f"no stored document {hash_!r} ({member}_id)", details=[{"path": f"{member}_id"}]
        ) from None
    if stored.kind != member:
        raise InputError(
            f"stored document {hash_[:12]}... is a {stored.kind}, not a {member}",
            file="request",
            key=f"{member}_id",
        )
    made = document_from_json(model, member, stored.content)
    documents.remember_stored(member, hash_, made)
    return made


async def plan_of(
    state: ServiceState, plan: Plan | None, plan_id: str | None, period: str | None = None
) -> Plan:
    if plan is not None:
        return plan
    if plan_id is None:  # the request models require one of the two
        raise InputError("give 'plan' or 'plan_id'", file="request", key="plan")
    return await run_in_threadpool(stored_document, state, Plan, "plan", plan_id, period)


async def policy_of(
    state: ServiceState, policy: Policy | None, policy_id: str | None, period: str | None = None
) -> Policy | None:
    if policy is not None or policy_id is None:
        return policy
    return await run_in_threadpool(stored_document, state, Policy, "policy", policy_id, period)


def table_builder(
    actuals: list[ActualRow] | None,
    employees: list[EmployeeRow] | None,
    adjustments: list[AdjustmentRow] | None = None,
    fx: list[FxRow] | None = None,
) -> Callable[[], dict[str, pd.DataFrame]]:
    """Builds the tables given (``actuals``, ``employees``, ``adjustments``; none for rows left
    out or empty), checked as the CLI checks files. Called in the worker thread that takes the
    decision."""

    def build() -> dict[str, pd.DataFrame]:
        tables = {}
        if actuals:
            tables["actuals"] = actuals_table(actuals)
        if employees:
            tables["employees"] = employees_table(employees)
        if adjustments:
            tables["adjustments"] = adjustments_table(adjustments)
        if fx:
            tables["fx"] = fx_table(fx)
        return tables

    return build
