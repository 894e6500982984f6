"""Resolving a pinned release (``name@version``): what a service does on every call."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event
from storage_samples import PLAN

from alignment_engine.errors import NotFoundError
from alignment_engine.storage import Store


def _counting_statements(store: Store) -> list[str]:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(store._engine, "before_cursor_execute", count)
    return seen


def test_a_pinned_version_is_read_once_then_answered_without_a_query(store: Store) -> None:
    pushed = store.push_release("plan", "acme", "2026.1", PLAN)
    statements = _counting_statements(store)
    first = store.resolve_release("plan", "acme@2026.1")
    queries_first = len(statements)
    again = store.resolve_release("plan", "acme@2026.1")
    assert first == again == pushed
    assert queries_first >= 1
    assert len(statements) == queries_first  # versions never change: nothing to ask again


def test_a_version_pushed_later_by_another_process_is_found(db_url: str, store: Store) -> None:
    store.push_release("plan", "acme", "2026.1", PLAN)
    with pytest.raises(NotFoundError, match=r"has no version '2026\.2' \(versions: 2026\.1\)"):
        store.resolve_release("plan", "acme@2026.2")
    with Store.open(db_url) as other:  # another replica pushes the next version
        other.push_release("plan", "acme", "2026.2", {**PLAN, "name": "ACME 2026 v2"})
    # a miss is never remembered: the new version is there on the next call
    assert store.resolve_release("plan", "acme@2026.2").version == "2026.2"
    # the unpinned name is read afresh every time (the newest or the effective version)
    assert store.resolve_release("plan", "acme").version == "2026.2"


def test_an_unknown_release_name_still_lists_the_known_ones(store: Store) -> None:
    store.push_release("plan", "acme", "2026.1", PLAN)
    with pytest.raises(NotFoundError, match=r"no plan release named 'acme2' \(known: acme\)"):
        store.resolve_release("plan", "acme2@2026.1")
