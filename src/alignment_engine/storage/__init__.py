"""Storage and audit: runs with their inputs and exact results, the audit log, service tokens.

SQLAlchemy 2 and Alembic stay inside this package; callers use :class:`Store` and the records.
SQLite by default (``./alignment-engine.db``, WAL mode), PostgreSQL by URL (psycopg 3).
"""

from alignment_engine.storage.canonical import (
    canonical_json,
    canonical_table_bytes,
    content_hash,
    table_from_bytes,
)
from alignment_engine.storage.diff import RunDiff
from alignment_engine.storage.group_commit import GroupCommit
from alignment_engine.storage.migrate import SchemaState, head_revision
from alignment_engine.storage.records import (
    ROLES,
    AuditEntry,
    Job,
    JobState,
    Release,
    RunInputs,
    RunKind,
    RunOutput,
    RunRecord,
    RunStatus,
    RunSummary,
    StoredDocument,
    StoredRun,
    StoredTable,
    TokenIdentity,
    TokenInfo,
    default_actor,
)
from alignment_engine.storage.store import PendingRun, Store
from alignment_engine.storage.url import (
    DEFAULT_SQLITE_FILE,
    ENVIRONMENT_VARIABLE,
    display_url,
    resolve_database_url,
)

__all__ = [
    "DEFAULT_SQLITE_FILE",
    "ENVIRONMENT_VARIABLE",
    "ROLES",
    "AuditEntry",
    "GroupCommit",
    "Job",
    "JobState",
    "PendingRun",
    "Release",
    "RunDiff",
    "RunInputs",
    "RunKind",
    "RunOutput",
    "RunRecord",
    "RunStatus",
    "RunSummary",
    "SchemaState",
    "Store",
    "StoredDocument",
    "StoredRun",
    "StoredTable",
    "TokenIdentity",
    "TokenInfo",
    "canonical_json",
    "canonical_table_bytes",
    "content_hash",
    "default_actor",
    "display_url",
    "head_revision",
    "resolve_database_url",
    "table_from_bytes",
]
