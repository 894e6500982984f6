"""Who is calling, and may they? Bearer tokens, four roles and one permission matrix.

Tokens are made with ``alignment-engine tokens create --role ROLE --name NAME``; the store keeps
only their hash and answers :meth:`verify_token`. The token's name is the actor of every run the
caller records. Missing or unknown tokens get 401; a role without the permission gets 403.

Permission matrix (docs/service.md shows the same; a test keeps them equal)::

    action                              admin  hr     planner  service
    check     POST /v1/check            yes    yes    yes      yes
    score     POST /v1/score            yes    yes    -        yes
    optimise  POST /v1/optimise         yes    -      yes      yes
    scenario  POST /v1/scenarios/run    yes    -      yes      yes
    read runs GET /v1/runs/{id}         all    check  check    the runs it
                                               score  optimise recorded itself
                                                      scenario

A run the caller may not read answers 404, like a run that does not exist, so run ids of other
teams' payouts cannot be probed.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from alignment_engine.errors import AuthError, ForbiddenError

__all__ = [
    "PERMISSIONS",
    "RUN_APPROVERS",
    "RUN_KINDS_READABLE",
    "Action",
    "Caller",
    "Role",
    "TokenCache",
    "authenticate",
    "require",
]


class Role(StrEnum):
    ADMIN = "admin"
    HR = "hr"
    PLANNER = "planner"
    SERVICE = "service"


class Action(StrEnum):
    CHECK = "check"
    SCORE = "score"
    OPTIMISE = "optimise"
    SCENARIO = "scenario"
    SCORECARD = "scorecard"
    READ_RUNS = "read runs"
    PUSH_PLAN = "push plans"
    PUSH_POLICY = "push policies"
    READ_POLICIES = "read policies"
    ESTIMATE = "estimate"


PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.CHECK: frozenset(Role),
    Action.SCORE: frozenset({Role.ADMIN, Role.HR, Role.SERVICE}),
    Action.OPTIMISE: frozenset({Role.ADMIN, Role.PLANNER, Role.SERVICE}),
    Action.SCENARIO: frozenset({Role.ADMIN, Role.PLANNER, Role.SERVICE}),
    Action.SCORECARD: frozenset(Role),  # how the company stands: no pay in it
    Action.READ_RUNS: frozenset(Role),
    # Stored releases: planners deploy plans; a policy is pay design, deployed by HR.
    Action.PUSH_PLAN: frozenset({Role.ADMIN, Role.HR, Role.PLANNER}),
    Action.PUSH_POLICY: frozenset({Role.ADMIN, Role.HR}),
    Action.READ_POLICIES: frozenset({Role.ADMIN, Role.HR, Role.SERVICE}),
    Action.ESTIMATE: frozenset({Role.ADMIN, Role.HR, Role.SERVICE}),  # it is pay
}

# Which kinds of stored runs each role may read; None: every kind. The service role reads only
# the runs it recorded itself (a machine client has no business reading HR's payout runs).
RUN_KINDS_READABLE: dict[Role, frozenset[str] | None] = {
    Role.ADMIN: None,
    Role.HR: frozenset({"check", "score", "scorecard", "simulate"}),
    Role.PLANNER: frozenset({"check", "optimise", "scenario", "scorecard"}),
    Role.SERVICE: None,
}


# Who may approve and finalise a stored run of each kind (maker-checker: never its own maker).
RUN_APPROVERS: dict[str, frozenset[Role]] = {
    "score": frozenset({Role.ADMIN, Role.HR}),
    "check": frozenset({Role.ADMIN, Role.HR, Role.PLANNER}),
    "scorecard": frozenset({Role.ADMIN, Role.HR, Role.PLANNER}),
    "optimise": frozenset({Role.ADMIN, Role.PLANNER}),
    "scenario": frozenset({Role.ADMIN, Role.PLANNER}),
}


@dataclass(frozen=True)
class Caller:
    """An authenticated caller: the token's name (the runs' actor) and its role."""

    name: str
    role: Role

    def may_approve(self, kind: str) -> bool:
        """Whether this caller may approve and finalise runs of ``kind``."""
        return self.role in RUN_APPROVERS.get(kind, frozenset())

    def may(self, action: Action) -> bool:
        return self.role in PERMISSIONS[action]

    def may_read_run(self, kind: str, actor: str) -> bool:
        if self.role is Role.SERVICE:
            return actor == self.name
        kinds = RUN_KINDS_READABLE[self.role]
        return kinds is None or kind in kinds

    @property
    def readable_kinds(self) -> frozenset[str] | None:
        """The run kinds this caller may read (None: every kind)."""
        return None if self.role is Role.SERVICE else RUN_KINDS_READABLE[self.role]

    @property
    def readable_actor(self) -> str | None:
        """Whose runs this caller may read (None: anyone's)."""
        return self.name if self.role is Role.SERVICE else None

    @property
    def sees_pay(self) -> bool:
        """Whether individual payouts and pay amounts may be shown to this caller: the roles
        that may score (planners see plans, targets and allocations, not pay)."""
        return self.may(Action.SCORE)


TokenVerifier = Callable[[str], tuple[str, str] | None]


class TokenCache:
    """Verified tokens, trusted for ``ttl`` seconds so that not every request asks the database.

    Keys are the tokens' sha256 (the plain token is not kept in memory longer than a request).
    Unknown tokens are never cached, so a new token works at once; a revoked one stops working
    within ``ttl``.
    """

    def __init__(self, verify: TokenVerifier, ttl: float) -> None:
        self._verify = verify
        self._ttl = ttl
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, Caller]] = {}

    @staticmethod
    def _key(token: str) -> str:
        return hashlib.sha256(token.encode("utf-8")).hexdigest()

    def cached(self, token: str) -> Caller | None:
        """The caller if the token was verified less than ``ttl`` ago (no database access)."""
        with self._lock:
            entry = self._entries.get(self._key(token))
        if entry is not None and entry[0] > time.monotonic():
            return entry[1]
        return None

    def verify(self, token: str) -> Caller | None:
        """Ask the store (blocking), and remember a valid answer for ``ttl`` seconds."""
        key = self._key(token)
        now = time.monotonic()
        found = self._verify(token)
        if found is None:
            with self._lock:
                self._entries.pop(key, None)
            return None
        name, role_text = found
        try:
            role = Role(role_text)
        except ValueError:
            return None  # a role this version does not know grants nothing
        caller = Caller(name, role)
        if self._ttl > 0:
            with self._lock:
                if len(self._entries) > 10_000:  # bounded: forget all rather than grow
                    self._entries.clear()
                self._entries[key] = (now + self._ttl, caller)
        return caller


_bearer = HTTPBearer(
    auto_error=False,
    description="A token from `alignment-engine tokens create --role ROLE --name NAME`.",
)


async def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    """The caller behind the request's bearer token, or 401."""
    if credentials is None or not credentials.credentials:
        raise AuthError("a bearer token is required (Authorization: Bearer TOKEN)")
    tokens: TokenCache = request.app.state.service.tokens
    token = credentials.credentials
    caller = tokens.cached(token) or await run_in_threadpool(tokens.verify, token)
    if caller is None:
        raise AuthError("the bearer token is not valid (unknown or revoked)")
    # The access log and the metrics read these after the response.
    request.state.actor = caller.name
    request.state.role = caller.role.value
    return caller


def require(action: Action) -> Callable[..., Awaitable[Caller]]:
    """A dependency: the caller, if their role may do ``action``; else 403."""

    async def dependency(caller: Annotated[Caller, Depends(authenticate)]) -> Caller:
        if not caller.may(action):
            allowed = ", ".join(sorted(r.value for r in PERMISSIONS[action]))
            raise ForbiddenError(
                f"role '{caller.role.value}' may not {action.value} (allowed: {allowed})"
            )
        return caller

    return dependency
