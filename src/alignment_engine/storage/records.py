"""What goes into the store and what comes out: plain frozen dataclasses, no SQLAlchemy."""

from __future__ import annotations

import functools
import getpass
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NamedTuple

from pydantic import BaseModel

from alignment_engine import __version__
from alignment_engine.errors import InputError
from alignment_engine.memo import ObjectMemo
from alignment_engine.model import did_you_mean
from alignment_engine.storage.canonical import (
    JsonDocument,
    canonical_json,
    canonical_table_bytes,
    content_hash,
    document_content,
    table_from_bytes,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ROLES",
    "AuditEntry",
    "Job",
    "JobState",
    "Release",
    "RunInputs",
    "RunKind",
    "RunOutput",
    "RunRecord",
    "RunStatus",
    "RunSummary",
    "StagedDocument",
    "StagedTable",
    "StoredDocument",
    "StoredRun",
    "StoredTable",
    "TokenIdentity",
    "TokenInfo",
    "default_actor",
    "new_run_id",
    "utc_now",
]

ROLES = ("admin", "hr", "planner", "service")


class RunKind(StrEnum):
    CHECK = "check"
    SCORE = "score"
    OPTIMISE = "optimise"
    SCENARIO = "scenario"
    SCORECARD = "scorecard"
    SIMULATE = "simulate"


class RunStatus(StrEnum):
    COMPLETED = "completed"
    FAILED = "failed"
    APPROVED = "approved"  # checked by someone other than its maker; may become final
    FINAL = "final"
    SUPERSEDED = "superseded"  # was final; a finalised restatement replaced it (kept as it was)


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


@dataclass(frozen=True)
class Job:
    """Work submitted to run in the background (a large quarter's scoring), kept in the
    database so that it outlives the process that took it."""

    id: str
    kind: RunKind
    state: JobState
    actor: str
    period: str | None
    inputs: dict[str, dict[str, str]]  # {"documents": {role: hash}, "tables": {role: hash}}
    options: dict[str, Any]
    submitted_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None
    claimed_by: str | None
    attempts: int
    progress: dict[str, Any]
    run_id: str | None
    error: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        def when(value: datetime | None) -> str | None:
            return None if value is None else value.isoformat()

        return {
            "job_id": self.id,
            "kind": self.kind.value,
            "state": self.state.value,
            "period": self.period,
            "actor": self.actor,
            "submitted_at": when(self.submitted_at),
            "started_at": when(self.started_at),
            "finished_at": when(self.finished_at),
            "attempts": self.attempts,
            "progress": self.progress,
            "run_id": self.run_id,
            "error": self.error,
            "inputs": self.inputs,
        }


def utc_now() -> datetime:
    return datetime.now(UTC)


def default_actor() -> str:
    """Who is running this process: the OS user name."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no USER/LOGNAME (some containers)
        return "unknown"


def new_run_id() -> str:
    """16 random hex digits (64 bits): no coordination needed between processes."""
    return secrets.token_hex(8)


def parse_kind(kind: RunKind | str) -> RunKind:
    try:
        return RunKind(kind)
    except ValueError:
        choices = [k.value for k in RunKind]
        raise InputError(
            f"unknown run kind {kind!r}: one of {', '.join(choices)}",
            suggestion=did_you_mean(str(kind), choices),
        ) from None


@dataclass(frozen=True)
class StagedDocument:
    """A document ready to store: its canonical JSON text and that text's hash."""

    role: str
    kind: str
    document_id: str | None
    text: str
    hash: str


@dataclass(frozen=True)
class StagedTable:
    """A table ready to store: its canonical CSV bytes and their hash."""

    role: str
    data: bytes
    hash: str
    columns: tuple[str, ...]
    row_count: int


_STAGED: ObjectMemo[StagedDocument] = ObjectMemo(64)


def stage_document(role: str, document: JsonDocument) -> StagedDocument:
    """A document's canonical text and hash; worked out once per (frozen) model object."""
    if isinstance(document, BaseModel) and document.model_config.get("frozen"):
        return _STAGED.get((document,), role, lambda: _stage_document(role, document))
    return _stage_document(role, document)


def _stage_document(role: str, document: JsonDocument) -> StagedDocument:
    content = document_content(document)
    text = canonical_json(content)
    kind = content.get("kind")
    document_id = content.get("id")
    return StagedDocument(
        role=role,
        kind=str(kind) if kind is not None else role,
        document_id=str(document_id) if document_id is not None else None,
        text=text,
        hash=content_hash(text),
    )


def stage_table(role: str, frame: pd.DataFrame) -> StagedTable:
    data = canonical_table_bytes(frame)
    return StagedTable(
        role=role,
        data=data,
        hash=content_hash(data),
        columns=tuple(str(c) for c in frame.columns),
        row_count=len(frame),
    )


def _check_role(role: str) -> str:
    if not role or len(role) > 64:
        raise InputError(f"an input role must be 1 to 64 characters, got {role!r}")
    return role


@dataclass(frozen=True)
class RunRecord:
    """One run about to be stored: what it is, its canonical inputs and their hashes.

    Build it with :meth:`create` before computing the result: ``run_id`` is known up front (the
    result may print it) and ``run_hash`` = sha256 of (kind, engine version, period, inputs'
    hashes, options), so the same inputs give the same hash in any process, on any machine.
    """

    kind: RunKind
    run_id: str
    run_hash: str
    period: str | None
    engine_version: str
    options_json: str
    documents: tuple[StagedDocument, ...]
    tables: tuple[StagedTable, ...]
    actor: str
    started_at: datetime

    @classmethod
    def create(
        cls,
        kind: RunKind | str,
        *,
        period: str | None = None,
        documents: Mapping[str, JsonDocument] | None = None,
        tables: Mapping[str, pd.DataFrame] | None = None,
        options: Mapping[str, Any] | None = None,
        actor: str | None = None,
        engine_version: str | None = None,
        started_at: datetime | None = None,
    ) -> RunRecord:
        """Stage a run. ``documents`` and ``tables`` are keyed by role (``plan``, ``policy``,
        ``rules/alignment``, ``actuals``, ``employees``...); options are the command's flags
        that change the result (not ``--format`` or ``--db``)."""
        run_kind = parse_kind(kind)
        if engine_version is None:
            engine_version = __version__
        staged_documents = tuple(
            stage_document(_check_role(role), document)
            for role, document in sorted((documents or {}).items())
        )
        staged_tables = tuple(
            stage_table(_check_role(role), frame) for role, frame in sorted((tables or {}).items())
        )
        options_json = canonical_json(dict(options or {}))
        identity = {
            "kind": run_kind.value,
            "engine_version": engine_version,
            "period": period,
            "documents": {d.role: d.hash for d in staged_documents},
            "tables": {t.role: t.hash for t in staged_tables},
            "options": options_json,
        }
        return cls(
            kind=run_kind,
            run_id=new_run_id(),
            run_hash=content_hash(canonical_json(identity)),
            period=period,
            engine_version=engine_version,
            options_json=options_json,
            documents=staged_documents,
            tables=staged_tables,
            actor=actor or default_actor(),
            started_at=started_at or utc_now(),
        )


@dataclass(frozen=True)
class RunOutput:
    """What a command produced for a run: the exact text it prints, and the rows to query.

    ``payouts`` (score runs): ``employee_id``, ``department``, ``payout`` (rounded currency) or
    ``payout_units`` (integers of ``10**-payout_decimals``), ``factor``. Without it, findings or
    allocations, the store reads them from the result's ``employees``, ``findings`` and
    ``allocations`` lists.
    """

    result_json: str | bytes  # UTF-8 bytes spare a large result two conversions
    payouts: pd.DataFrame | None = None
    payout_decimals: int = 2
    findings: Sequence[Mapping[str, Any]] | None = None
    allocations: Sequence[Mapping[str, Any]] | None = None
    ledger: pd.DataFrame | None = None  # score runs: ledger entries (scoring.ledger)


@dataclass(frozen=True)
class RunSummary:
    """A stored run without its inputs' content or its result text (what lists show)."""

    id: str
    kind: RunKind
    status: RunStatus
    period: str | None
    run_hash: str
    engine_version: str
    options: dict[str, Any]
    actor: str
    started_at: datetime
    finished_at: datetime
    finalised_at: datetime | None
    finalised_by: str | None
    approved_at: datetime | None
    approved_by: str | None
    result_hash: str
    result_size: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind.value,
            "status": self.status.value,
            "period": self.period,
            "run_hash": self.run_hash,
            "engine_version": self.engine_version,
            "options": self.options,
            "actor": self.actor,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "finalised_at": self.finalised_at.isoformat() if self.finalised_at else None,
            "finalised_by": self.finalised_by,
            "approved_at": self.approved_at.isoformat() if self.approved_at else None,
            "approved_by": self.approved_by,
            "result_hash": self.result_hash,
            "result_size": self.result_size,
        }


@dataclass(frozen=True)
class StoredRun(RunSummary):
    """A stored run with its inputs' hashes (by role) and the exact result text it printed.

    ``reused`` is true when storing returned an existing run (same inputs, or the period's
    final run) instead of adding one: print ``result_json`` (or its UTF-8, ``result_bytes``)
    either way.
    """

    documents: dict[str, str] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)
    result_bytes: bytes = b""
    payout_decimals: int | None = None
    reused: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            **super().to_dict(),
            "inputs": {"documents": self.documents, "tables": self.tables},
        }

    @functools.cached_property
    def result_json(self) -> str:
        """The exact result text the run printed."""
        return self.result_bytes.decode("utf-8")


@dataclass(frozen=True)
class StoredDocument:
    hash: str
    kind: str
    document_id: str | None
    text: str

    @property
    def content(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.text)
        return loaded


@dataclass(frozen=True)
class Release:
    """A plan or policy version deployed as ``name@version``."""

    kind: str
    name: str
    version: str
    hash: str  # the stored document's content hash
    effective_from: date | None
    effective_to: date | None
    created_at: datetime
    created_by: str

    @property
    def reference(self) -> str:
        return f"{self.name}@{self.version}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "version": self.version,
            "reference": self.reference,
            "hash": self.hash,
            "effective_from": None
            if self.effective_from is None
            else self.effective_from.isoformat(),
            "effective_to": None if self.effective_to is None else self.effective_to.isoformat(),
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
        }


@dataclass(frozen=True)
class RunInputs:
    """Everything a run read, from the database alone: enough to run it again."""

    run: StoredRun
    documents: dict[str, StoredDocument]
    tables: dict[str, StoredTable]


@dataclass(frozen=True)
class StoredTable:
    hash: str
    columns: tuple[str, ...]
    row_count: int
    data: bytes

    def frame(self) -> pd.DataFrame:
        """The table as text cells (type it with the table loader, like a user's file)."""
        return table_from_bytes(self.data)


class TokenIdentity(NamedTuple):
    """Who a valid token belongs to."""

    name: str
    role: str


@dataclass(frozen=True)
class TokenInfo:
    name: str
    role: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    revoked_by: str | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "revoked_by": self.revoked_by,
            "active": self.active,
        }


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str
    subject: str | None
    details: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "subject": self.subject,
            "details": self.details,
        }
