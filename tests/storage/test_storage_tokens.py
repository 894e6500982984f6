"""Service tokens: shown once, stored as a hash, verified, listed, revoked; all audited."""

from __future__ import annotations

import pytest

from alignment_engine.errors import ConflictError, InputError, NotFoundError
from alignment_engine.storage import Store, TokenIdentity, content_hash
from alignment_engine.storage.orm import TokenRow


def test_token_lifecycle(store: Store) -> None:
    token = store.create_token("ci", "service", actor="alice")
    assert token.startswith("ae_") and len(token) > 40
    assert store.verify_token(token) == TokenIdentity("ci", "service")
    assert store.verify_token(token) == ("ci", "service")
    assert store.verify_token(token + "x") is None
    assert store.verify_token("not-a-token") is None
    [listed] = store.list_tokens()
    assert (listed.name, listed.role, listed.created_by, listed.active) == (
        "ci",
        "service",
        "alice",
        True,
    )
    revoked = store.revoke_token("ci", actor="bob")
    assert not revoked.active and revoked.revoked_by == "bob"
    assert store.verify_token(token) is None
    assert store.revoke_token("ci").revoked_by == "bob"  # revoking again changes nothing
    actions = [(e.action, e.actor, e.subject) for e in store.audit_log() if e.subject]
    assert actions == [("token.revoked", "bob", "ci"), ("token.created", "alice", "ci")]


def test_only_the_hash_is_stored(store: Store) -> None:
    token = store.create_token("hr-portal", "hr")
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    with Session(store._engine) as session:
        row = session.scalars(select(TokenRow)).one()
    assert row.token_hash == content_hash(token)
    assert token not in {row.name, row.role, row.token_hash, row.created_by}


def test_token_mistakes(store: Store) -> None:
    store.create_token("ci", "admin")
    with pytest.raises(ConflictError, match="a token named 'ci' exists"):
        store.create_token("ci", "planner")
    with pytest.raises(InputError, match="did you mean 'planner'"):
        store.create_token("other", "planer")
    with pytest.raises(InputError, match="token name"):
        store.create_token("has space", "hr")
    with pytest.raises(NotFoundError, match="no token named 'nobody'"):
        store.revoke_token("nobody")
    assert [t.name for t in store.list_tokens()] == ["ci"]
