"""The repository: runs, their inputs and results, the audit log and service tokens.

``Store`` is the only object the rest of alignment-engine talks to; SQLAlchemy stays inside. Every
method translates database errors into ours (StorageError, NotFoundError, ConflictError), and
every write is one transaction: a failure leaves no partial rows.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import Connection, Engine, Table, func, insert, select, update
from sqlalchemy.orm import Session

from alignment_engine.errors import AlignmentError, ConflictError, InputError, NotFoundError
from alignment_engine.model import did_you_mean
from alignment_engine.storage.bulk import (
    insert_frame,
    insert_records,
    insert_rows,
    payout_rows,
    read_payouts,
)
from alignment_engine.storage.canonical import JsonDocument, canonical_json, content_hash
from alignment_engine.storage.codec import TABLE_ENCODING, compress, decompress
from alignment_engine.storage.connection import engine_for_url, write_transaction
from alignment_engine.storage.diff import RunDiff, findings_diff, json_diff, payouts_diff
from alignment_engine.storage.migrate import (
    SchemaState,
    check_schema,
    schema_state,
    upgrade_schema,
)
from alignment_engine.storage.orm import (
    AllocationRow,
    AuditRow,
    Base,
    DocumentRow,
    FindingRow,
    InputTableRow,
    JobRow,
    LedgerEntryRow,
    PayoutRow,
    ReleaseRow,
    RunDocumentRow,
    RunRow,
    RunTableRow,
    SettingRow,
    TokenRow,
)
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
    StagedDocument,
    StagedTable,
    StoredDocument,
    StoredRun,
    StoredTable,
    TokenIdentity,
    TokenInfo,
    default_actor,
    new_run_id,
    parse_kind,
    stage_document,
    stage_table,
    utc_now,
)
from alignment_engine.storage.translate import translate_errors
from alignment_engine.storage.url import display_url, is_sqlite, resolve_database_url

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["PendingAudit", "PendingRun", "Store"]


DEFAULT_SETTINGS: dict[str, str] = {"require_approval": "false"}
"""Every setting a database has, with its value until someone changes it."""
_BULK_FINDINGS = 1_000  # above this many, findings go through the bulk path (executemany/COPY)
_MIN_ID_PREFIX = 4
_TOKEN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
_TOKEN_PREFIX = "ae_"


def _table(row_class: type[Base]) -> Table:
    return Base.metadata.tables[row_class.__tablename__]


def _utc(value: datetime) -> datetime:
    """Timestamps come back naive from SQLite and in the session zone from PostgreSQL."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _optional_utc(value: datetime | None) -> datetime | None:
    return None if value is None else _utc(value)


def _summary_fields(row: RunRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": RunKind(row.kind),
        "status": RunStatus(row.status),
        "period": row.period,
        "run_hash": row.run_hash,
        "engine_version": row.engine_version,
        "options": json.loads(row.options),
        "actor": row.actor,
        "started_at": _utc(row.started_at),
        "finished_at": _utc(row.finished_at),
        "finalised_at": _optional_utc(row.finalised_at),
        "finalised_by": row.finalised_by,
        "approved_at": _optional_utc(row.approved_at),
        "approved_by": row.approved_by,
        "result_hash": row.result_hash,
        "result_size": row.result_size,
    }


def _status(status: RunStatus | str) -> RunStatus:
    try:
        return RunStatus(status)
    except ValueError:
        choices = [s.value for s in RunStatus]
        raise InputError(
            f"unknown run status {status!r}: one of {', '.join(choices)}",
            suggestion=did_you_mean(str(status), choices),
        ) from None


def _json_list(result: Any, key: str) -> list[dict[str, Any]] | None:
    value = result.get(key) if isinstance(result, dict) else None
    if isinstance(value, list) and all(isinstance(item, dict) for item in value):
        return value
    return None


_TOGETHER_BYTES = 8 * 1024 * 1024


def _hashed_and_compressed(data: bytes) -> tuple[str, bytes]:
    """A result's hash and its compressed bytes; a large one's both at once (hashlib and
    Zstandard let go of the GIL): 0.5 s instead of 0.75 for a 360 MB check result."""
    if len(data) < _TOGETHER_BYTES:
        return content_hash(data), compress(data)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="alignment-engine-hash") as pool:
        hashed = pool.submit(content_hash, data)
        compressed = compress(data)
        return hashed.result(), compressed


def _parse_result(result_json: str | bytes) -> Any:
    try:
        return json.loads(result_json)
    except ValueError as exc:  # not JSON, or bytes that are not UTF-8
        raise InputError(f"the run's result is not JSON: {exc}") from exc


def _utf8(result_json: str | bytes) -> bytes:
    """The result's bytes, refused unless UTF-8 (what every reader decodes them as)."""
    if isinstance(result_json, str):
        return result_json.encode("utf-8")
    # ASCII is UTF-8, and testing it makes no copy: most results are, even 360 MB ones.
    if not result_json.isascii():
        try:
            result_json.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"the run's result is not UTF-8 text: {exc}") from exc
    return result_json


def _finding_records(run_id: str, findings: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    records = []
    for position, finding in enumerate(findings, start=1):
        records.append(
            {
                "run_id": run_id,
                "position": position,
                "rule": str(finding.get("rule", "")),
                "kind": finding.get("kind"),
                "severity": finding.get("severity"),
                "message": finding.get("message"),
            }
        )
    return records


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _allocation_records(
    run_id: str, allocations: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    return [
        {
            "run_id": run_id,
            "position": position,
            "resource": str(item.get("resource", "")),
            "department": str(item.get("department", "")),
            "current": _number(item.get("current")),
            "proposed": _number(item.get("proposed")),
            "change": _number(item.get("change")),
            "marginal_value": _number(item.get("marginal_value")),
        }
        for position, item in enumerate(allocations, start=1)
    ]


RELEASE_KINDS = ("plan", "policy")
_RELEASE_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


def _check_release_label(value: str, key: str) -> None:
    if not _RELEASE_LABEL.match(value):
        raise InputError(
            f"a release {key} is letters, digits, '.', '_' and '-' (no '@' or spaces), "
            f"not {value!r}",
            key=key,
            suggestion="e.g. acme-plan and 2026.2",
        )


def _job(row: JobRow) -> Job:
    return Job(
        id=row.id,
        kind=parse_kind(row.kind),
        state=JobState(row.state),
        actor=row.actor,
        period=row.period,
        inputs=json.loads(row.inputs),
        options=json.loads(row.options),
        submitted_at=_utc(row.submitted_at),
        started_at=_optional_utc(row.started_at),
        finished_at=_optional_utc(row.finished_at),
        heartbeat_at=_optional_utc(row.heartbeat_at),
        claimed_by=row.claimed_by,
        attempts=row.attempts,
        progress=json.loads(row.progress),
        run_id=row.run_id,
        error=None if row.error is None else json.loads(row.error),
    )


def _release(row: ReleaseRow) -> Release:
    return Release(
        kind=row.kind,
        name=row.name,
        version=row.version,
        hash=row.document_hash,
        effective_from=row.effective_from,
        effective_to=row.effective_to,
        created_at=_utc(row.created_at),
        created_by=row.created_by,
    )


def _ledger_rows(run_id: str, entries: pd.DataFrame) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    from alignment_engine.scoring.ledger import LEDGER_COLUMNS

    frame = entries[list(LEDGER_COLUMNS)].reset_index(drop=True)
    frame.insert(0, "position", np.arange(1, len(frame) + 1, dtype=np.int64))
    frame.insert(0, "run_id", pd.Series(np.full(len(frame), run_id, dtype=object), dtype=object))
    for column in ("employee_id", "lot", "origin", "due", "entry"):
        frame[column] = pd.Series(frame[column].astype(str).to_numpy(dtype=object), dtype=object)
    frame["units"] = frame["units"].astype("int64")
    return frame


def _payouts_from_result(result: Any) -> pd.DataFrame | None:
    import pandas as pd

    employees = _json_list(result, "employees")
    if employees is None:
        return None
    return pd.DataFrame(
        {
            "employee_id": [e.get("employee_id") for e in employees],
            "department": [e.get("department") for e in employees],
            "payout": [e.get("payout") for e in employees],
            "factor": [e.get("factor") for e in employees],
        }
    )


def _insert_ignoring_duplicates(
    connection: Connection, table: Table, rows: list[dict[str, Any]]
) -> None:
    """Content-addressed rows: another process may have stored the same hash a moment ago."""
    if not rows:
        return
    # Imported here: the PostgreSQL dialect costs a SQLite command 25 ms of start-up.
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql as dialect
    else:
        from sqlalchemy.dialects import sqlite as dialect  # type: ignore[no-redef]
    statement = dialect.insert(table).on_conflict_do_nothing(index_elements=["hash"])
    connection.execute(statement, rows)


def _concatenated(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    if len(frames) == 1:
        return frames[0]
    import pandas as pd  # only where tables are written: a check imports no pandas

    return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True)
class PendingRun:
    """A run ready to store: its rows built and its result compressed (see
    :meth:`Store.prepare_run`), so the write transaction holds its locks only for the inserts."""

    record: RunRecord
    status: RunStatus
    force: bool
    result_bytes: bytes
    result_hash: str
    result_size: int
    compressed_result: bytes
    payout_frame: pd.DataFrame | None
    payout_decimals: int | None
    ledger_frame: pd.DataFrame | None
    finding_rows: list[dict[str, Any]]
    allocation_rows: list[dict[str, Any]]
    new_tables: list[dict[str, Any]]
    finished_at: datetime

    @property
    def locks(self) -> tuple[str, ...]:
        record = self.record
        return (f"hash:{record.run_hash}", f"period:{record.kind.value}:{record.period}")

    def run_row(self) -> dict[str, Any]:
        record = self.record
        return {
            "id": record.run_id,
            "kind": record.kind.value,
            "status": self.status.value,
            "period": record.period,
            "run_hash": record.run_hash,
            "engine_version": record.engine_version,
            "options": record.options_json,
            "actor": record.actor,
            "started_at": record.started_at,
            "finished_at": self.finished_at,
            "payout_decimals": self.payout_decimals,
            "result_hash": self.result_hash,
            "result_size": self.result_size,
            "result": self.compressed_result,
        }

    def stored(self) -> StoredRun:
        """The run as stored (once its transaction has committed)."""
        record = self.record
        return StoredRun(
            id=record.run_id,
            kind=record.kind,
            status=self.status,
            period=record.period,
            run_hash=record.run_hash,
            engine_version=record.engine_version,
            options=json.loads(record.options_json),
            actor=record.actor,
            started_at=_utc(record.started_at),
            finished_at=_utc(self.finished_at),
            finalised_at=None,
            finalised_by=None,
            approved_at=None,
            approved_by=None,
            result_hash=self.result_hash,
            result_size=self.result_size,
            documents={d.role: d.hash for d in record.documents},
            tables={t.role: t.hash for t in record.tables},
            result_bytes=self.result_bytes,
            payout_decimals=self.payout_decimals,
        )


@dataclass(frozen=True)
class PendingAudit:
    """An audit entry to write (:meth:`Store.record_audits`)."""

    actor: str
    action: str
    subject: str | None
    details: Mapping[str, Any]


class _KnownContents:
    """Hashes of documents and tables this store has seen committed. Content-addressed rows are
    never changed or deleted, so a run naming them again needs no query to find them present."""

    LIMIT = 100_000

    def __init__(self) -> None:
        self._hashes: set[str] = set()

    def has(self, hash_: str) -> bool:
        return hash_ in self._hashes

    def remember(self, hashes: Sequence[str]) -> None:
        if len(self._hashes) + len(hashes) > self.LIMIT:  # bounded: forget rather than grow
            self._hashes = set()
        self._hashes.update(hashes)


class Store:
    """A database of runs. Open with :meth:`open`; use as a context manager or call :meth:`close`.

    >>> with Store.open("sqlite:///runs.db") as store:          # doctest: +SKIP
    ...     record = RunRecord.create("score", period="2026-Q3", documents={...}, tables={...})
    ...     stored = store.record_run(record, result_json=text, payouts=frame)
    ...     print(stored.result_json)
    """

    def __init__(self, engine: Engine, url: str) -> None:
        self._engine = engine
        self.url = url
        self.where = display_url(url)
        self._known_contents = _KnownContents()
        # name@version -> release: a pushed version never changes and is never deleted, so a
        # service naming it on every call needs no query after the first (bounded like above).
        self._pinned_releases: dict[tuple[str, str, str], Release] = {}

    # -- opening and schema ---------------------------------------------------------------

    @classmethod
    def open(cls, url: str | None = None, *, check_schema: bool = True) -> Store:
        """Open ``url`` (else ``ALIGNMENT_DB_URL``, else ``./alignment-engine.db``).

        With ``check_schema`` (the default) a SQLite database that is empty or older than this
        engine is upgraded on the spot; a PostgreSQL one raises StorageError asking to run
        ``alignment-engine db upgrade``. ``db upgrade`` itself opens with ``check_schema=False``.
        """
        resolved = resolve_database_url(url)
        with translate_errors(display_url(resolved)):
            store = cls(engine_for_url(resolved), resolved)
            try:
                if check_schema:
                    store._ensure_schema()
            except BaseException:
                store.close()
                raise
        return store

    def _ensure_schema(self) -> None:
        state = schema_state(self._engine)
        if state.up_to_date:
            return
        if self.upgrades_itself(state):
            self.upgrade()
            return
        check_schema(state, self.where)

    def upgrades_itself(self, state: SchemaState) -> bool:
        """SQLite files (a single user's) are brought up to date when first opened for work;
        a shared PostgreSQL waits for an explicit ``db upgrade``."""
        return is_sqlite(self.url) and state.known

    def schema_state(self) -> SchemaState:
        with self._errors():
            return schema_state(self._engine)

    def upgrade(self, actor: str | None = None) -> tuple[str | None, str]:
        """Bring the schema to this engine's newest revision; returns (before, after)."""
        with self._errors():
            before, after = upgrade_schema(self._engine)
            if before != after:
                with write_transaction(self._engine) as connection, Session(bind=connection) as s:
                    self._audit(s, actor, "db.upgraded", None, {"from": before, "to": after})
                    s.flush()
            return before, after

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._engine.dialect.name

    def _errors(self) -> AbstractContextManager[None]:
        return translate_errors(self.where)

    @contextmanager
    def _reading(self) -> Iterator[Session]:
        with self._errors(), Session(self._engine) as session:
            yield session

    @contextmanager
    def _writing(self, *locks: str) -> Iterator[tuple[Connection, Session]]:
        with (
            self._errors(),
            write_transaction(self._engine, *locks) as connection,
            Session(bind=connection) as session,
        ):
            yield connection, session
            session.flush()

    # -- runs -----------------------------------------------------------------------------

    def existing_run(self, record: RunRecord, *, force: bool = False) -> StoredRun | None:
        """The run :meth:`record_run` would return instead of storing ``record``, if any.

        Call it before computing a result to skip the work: the final run of the record's
        period if the inputs are identical, else (unless ``force``) the newest run with the same
        run hash. Raises ConflictError when the period is final with different inputs.
        """
        with self._reading() as session:
            return self._reusable(session, record, force=force)

    def record_or_reuse(
        self,
        record: RunRecord,
        produce: Callable[[str], RunOutput],
        *,
        force: bool = False,
    ) -> StoredRun:
        """The whole recording protocol for a command, in one call.

        Returns the run that makes computing unnecessary (the period's final run with identical
        inputs, or unless ``force`` the newest run with the same run hash) without calling
        ``produce``; otherwise calls ``produce(record.run_id)`` and stores what it returns.
        Print the returned run's ``result_json`` either way.
        """
        existing = self.existing_run(record, force=force)
        if existing is not None:
            return existing
        output = produce(record.run_id)
        return self.record_run(
            record,
            result_json=output.result_json,
            payouts=output.payouts,
            payout_decimals=output.payout_decimals,
            ledger=output.ledger,
            findings=output.findings,
            allocations=output.allocations,
            force=force,
        )

    def record_run(
        self,
        record: RunRecord,
        *,
        result_json: str | bytes,
        payouts: pd.DataFrame | None = None,
        payout_decimals: int = 2,
        ledger: pd.DataFrame | None = None,
        findings: Sequence[Mapping[str, Any]] | None = None,
        allocations: Sequence[Mapping[str, Any]] | None = None,
        force: bool = False,
        status: RunStatus | str = RunStatus.COMPLETED,
        finished_at: datetime | None = None,
    ) -> StoredRun:
        """Store a run with its inputs and result in one transaction, or return the run that
        makes storing it unnecessary (``reused`` is then true):

        - the period already has a final run of this kind: that run if the inputs are
          identical (same run hash), else ConflictError; ``force`` does not override finality;
        - a run with the same run hash exists (and not ``force``): the newest such run.

        ``result_json`` is the exact text the command printed; ``runs show`` prints it back
        byte for byte, so always print the returned run's ``result_json``. Payout rows come from
        ``payouts`` (``employee_id``, ``department``, ``payout`` or ``payout_units``, ``factor``;
        the fast path for big runs) or else from the result's ``employees``; findings and
        allocations likewise default to the result's ``findings`` and ``allocations`` lists.
        ``ledger``: a score run's ledger entries (``scoring.ledger.LEDGER_COLUMNS``); they
        count towards the open lots once the run is final.
        """
        pending = self.prepare_run(
            record,
            result_json=result_json,
            payouts=payouts,
            payout_decimals=payout_decimals,
            ledger=ledger,
            findings=findings,
            allocations=allocations,
            force=force,
            status=status,
            finished_at=finished_at,
        )
        with self._writing(*pending.locks) as (connection, session):
            stored = self._admit(session, pending)
            if stored is None:
                self._insert_runs(connection, [pending])
        if stored is not None:
            return stored
        self._remember(pending)
        return pending.stored()

    def prepare_run(
        self,
        record: RunRecord,
        *,
        result_json: str | bytes,
        payouts: pd.DataFrame | None = None,
        payout_decimals: int = 2,
        ledger: pd.DataFrame | None = None,
        findings: Sequence[Mapping[str, Any]] | None = None,
        allocations: Sequence[Mapping[str, Any]] | None = None,
        force: bool = False,
        status: RunStatus | str = RunStatus.COMPLETED,
        finished_at: datetime | None = None,
    ) -> PendingRun:
        """A run's rows, built and compressed before any lock is taken, for
        :meth:`record_runs` (the arguments are :meth:`record_run`'s)."""
        run_status = _status(status)
        if run_status is RunStatus.FINAL:
            raise InputError("a run becomes final through finalise(), not when it is stored")
        result_bytes = _utf8(result_json)
        parsed: Any = None
        needs_result = (
            (record.kind is RunKind.SCORE and payouts is None)
            or (record.kind is RunKind.CHECK and findings is None)
            or (allocations is None and record.kind in (RunKind.OPTIMISE, RunKind.SCENARIO))
        )
        if needs_result and run_status is RunStatus.COMPLETED:
            parsed = _parse_result(result_bytes)
        if payouts is None and record.kind is RunKind.SCORE:
            payouts = _payouts_from_result(parsed)
        if findings is None and record.kind is RunKind.CHECK:
            findings = _json_list(parsed, "findings")
        if allocations is None and record.kind in (RunKind.OPTIMISE, RunKind.SCENARIO):
            allocations = _json_list(parsed, "allocations")
        payout_frame = (
            payout_rows(record.run_id, payouts, payout_decimals) if payouts is not None else None
        )
        result_hash, compressed_result = _hashed_and_compressed(result_bytes)
        return PendingRun(
            record=record,
            status=run_status,
            force=force,
            result_bytes=result_bytes,
            result_hash=result_hash,
            result_size=len(result_bytes),
            compressed_result=compressed_result,
            payout_frame=payout_frame,
            payout_decimals=payout_decimals if payout_frame is not None else None,
            ledger_frame=(
                _ledger_rows(record.run_id, ledger) if ledger is not None and len(ledger) else None
            ),
            finding_rows=_finding_records(record.run_id, findings or []),
            allocation_rows=_allocation_records(record.run_id, allocations or []),
            new_tables=self._compressed_new_tables(record.tables),
            finished_at=finished_at or utc_now(),
        )

    def record_runs(
        self, batch: Sequence[PendingRun], audits: Sequence[PendingAudit] = ()
    ) -> list[StoredRun | AlignmentError]:
        """Store several prepared runs in one transaction (group commit): per run, what
        :meth:`record_run` would return, or the error it would raise (a run refused, say for a
        final period, does not stop the others). Nothing is stored unless the whole batch
        commits; when the transaction itself fails, each run is stored on its own instead, so
        one run's failure is only that run's. ``audits``: entries answered without a run (an
        estimate) committed in the same transaction; if it fails they are written on their
        own, and an error there is raised."""
        if not batch and not audits:
            return []
        outcomes: list[StoredRun | AlignmentError | None] = [None] * len(batch)
        locks = sorted({lock for pending in batch for lock in pending.locks})
        try:
            with self._writing(*locks) as (connection, session):
                admitted: list[PendingRun] = []
                for index, pending in enumerate(batch):
                    try:
                        outcomes[index] = self._admit(session, pending)
                    except AlignmentError as error:
                        outcomes[index] = error
                    if outcomes[index] is None:
                        if any(p.record.run_id == pending.record.run_id for p in admitted):
                            # The same record twice in one batch: stored once, both answered.
                            continue
                        admitted.append(pending)
                self._insert_runs(connection, admitted)
                self._insert_audits(connection, audits)
        except AlignmentError:
            if len(batch) + len(audits) == 1:
                raise
            alone = [self._record_alone(pending) for pending in batch]
            self.record_audits(audits)
            return alone
        results: list[StoredRun | AlignmentError] = []
        for outcome, pending in zip(outcomes, batch, strict=True):
            if outcome is None:
                self._remember(pending)
                results.append(pending.stored())
            else:
                results.append(outcome)
        return results

    def _record_alone(self, pending: PendingRun) -> StoredRun | AlignmentError:
        try:
            return self.record_runs([pending])[0]
        except AlignmentError as error:
            return error

    def _admit(self, session: Session, pending: PendingRun) -> StoredRun | None:
        """The run that makes storing ``pending`` unnecessary, or None to store it."""
        record = pending.record
        already = session.get(RunRow, record.run_id)
        if already is not None:  # the same record stored twice (a retry): it is stored once
            return self._stored(session, already, reused=True)
        if pending.status is RunStatus.COMPLETED:
            return self._reusable(session, record, force=pending.force)
        return None

    def _remember(self, pending: PendingRun) -> None:
        record = pending.record
        self._known_contents.remember(
            [d.hash for d in record.documents] + [t.hash for t in record.tables]
        )

    def _insert_runs(self, connection: Connection, batch: Sequence[PendingRun]) -> None:
        """Every row of the runs in ``batch``, table by table (one statement per table, not
        per run: a batch of runs costs about what one does)."""
        if not batch:
            return
        self._store_documents(connection, [d for p in batch for d in p.record.documents])
        self._store_tables(
            connection, list({row["hash"]: row for p in batch for row in p.new_tables}.values())
        )
        # Core inserts, not ORM objects: a run is written on every service call, and the
        # unit of work costs more than the rows themselves.
        connection.execute(insert(_table(RunRow)), [p.run_row() for p in batch])
        insert_records(
            connection,
            _table(RunDocumentRow),
            [
                {"run_id": p.record.run_id, "role": d.role, "document_hash": d.hash}
                for p in batch
                for d in p.record.documents
            ],
        )
        insert_records(
            connection,
            _table(RunTableRow),
            [
                {"run_id": p.record.run_id, "role": t.role, "table_hash": t.hash}
                for p in batch
                for t in p.record.tables
            ],
        )
        for frames, table in (
            ([p.payout_frame for p in batch], PayoutRow),
            ([p.ledger_frame for p in batch], LedgerEntryRow),
        ):
            present = [frame for frame in frames if frame is not None and len(frame)]
            if present:
                insert_frame(connection, _table(table), _concatenated(present))
        finding_rows = [row for p in batch for row in p.finding_rows]
        if len(finding_rows) > _BULK_FINDINGS:
            columns = list(finding_rows[0])
            insert_rows(
                connection,
                _table(FindingRow),
                columns,
                (tuple(row[c] for c in columns) for row in finding_rows),
            )
        else:
            insert_records(connection, _table(FindingRow), finding_rows)
        insert_records(
            connection, _table(AllocationRow), [row for p in batch for row in p.allocation_rows]
        )
        self._insert_audits(
            connection,
            [
                PendingAudit(
                    p.record.actor,
                    "run.created",
                    p.record.run_id,
                    {
                        "kind": p.record.kind.value,
                        "period": p.record.period,
                        "status": p.status.value,
                        "run_hash": p.record.run_hash,
                        "forced": p.force,
                    },
                )
                for p in batch
            ],
        )

    def _reusable(self, session: Session, record: RunRecord, *, force: bool) -> StoredRun | None:
        row = self._reusable_row(session, record, force=force)
        return None if row is None else self._stored(session, row, reused=True)

    def has_reusable(self, record: RunRecord) -> bool:
        """Whether :meth:`existing_run` would return a run (without reading its result)."""
        with self._reading() as session:
            return self._reusable_row(session, record, force=False) is not None

    def _reusable_row(self, session: Session, record: RunRecord, *, force: bool) -> RunRow | None:
        if record.period is not None:
            final = session.scalars(
                select(RunRow).where(
                    RunRow.kind == record.kind.value,
                    RunRow.period == record.period,
                    RunRow.status == RunStatus.FINAL.value,
                )
            ).first()
            if final is not None:
                if final.run_hash == record.run_hash:
                    return final
                restates = json.loads(record.options_json).get("restates")
                if restates != final.id:
                    fix = (
                        f"; to correct it, re-score with --restates {final.id} (a new run with "
                        "per-employee adjustments; the final run stays as it is)"
                        if record.kind is RunKind.SCORE
                        else ""
                    )
                    raise ConflictError(
                        f"{record.kind.value} run {final.id} is final for period "
                        f"{record.period}; a run with different inputs cannot replace it{fix}",
                        details=[{"final_run": final.id, "period": record.period}],
                    )
        if force:
            return None
        return session.scalars(
            select(RunRow)
            .where(
                RunRow.run_hash == record.run_hash,
                RunRow.status.in_(
                    [RunStatus.COMPLETED.value, RunStatus.APPROVED.value, RunStatus.FINAL.value]
                ),
            )
            .order_by(RunRow.finished_at.desc(), RunRow.id)
            .limit(1)
        ).first()

    def _compressed_new_tables(self, tables: Sequence[StagedTable]) -> list[dict[str, Any]]:
        """Rows for the tables not stored yet, compressed before any lock is taken."""
        tables = [t for t in tables if not self._known_contents.has(t.hash)]
        if not tables:
            return []
        with self._reading() as session:
            present = set(
                session.scalars(
                    select(InputTableRow.hash).where(
                        InputTableRow.hash.in_([t.hash for t in tables])
                    )
                )
            )
        rows: dict[str, dict[str, Any]] = {}
        for table in tables:
            if table.hash in present or table.hash in rows:
                continue
            rows[table.hash] = {
                "hash": table.hash,
                "columns": canonical_json(list(table.columns)),
                "row_count": table.row_count,
                "size": len(table.data),
                "encoding": TABLE_ENCODING,
                "content": compress(table.data),
                "created_at": utc_now(),
            }
        return list(rows.values())

    def _store_tables(self, connection: Connection, rows: list[dict[str, Any]]) -> None:
        _insert_ignoring_duplicates(connection, _table(InputTableRow), rows)

    def _store_documents(self, connection: Connection, documents: Sequence[StagedDocument]) -> None:
        unique = {d.hash: d for d in documents if not self._known_contents.has(d.hash)}
        if not unique:
            return
        present = set(
            connection.scalars(select(DocumentRow.hash).where(DocumentRow.hash.in_(list(unique))))
        )
        now = utc_now()
        rows = [
            {
                "hash": d.hash,
                "kind": d.kind,
                "document_id": d.document_id,
                "content": d.text,
                "created_at": now,
            }
            for h, d in unique.items()
            if h not in present
        ]
        _insert_ignoring_duplicates(connection, _table(DocumentRow), rows)

    def _find_run(
        self,
        session: Session,
        run_id: str,
        kinds: Collection[str] | None = None,
        actor: str | None = None,
    ) -> RunRow:
        """The run with this id, or the one run whose id starts with it; with ``kinds`` or
        ``actor``, only among those runs (others are not found, and never make a prefix
        ambiguous, so a caller learns nothing about runs it may not read)."""

        def visible(row: RunRow) -> bool:
            return (kinds is None or row.kind in kinds) and (actor is None or row.actor == actor)

        row = session.get(RunRow, run_id)
        if row is not None and visible(row):
            return row
        if row is None and len(run_id) >= _MIN_ID_PREFIX and re.fullmatch(r"[0-9a-f]+", run_id):
            query = select(RunRow).where(RunRow.id.startswith(run_id))
            if kinds is not None:
                query = query.where(RunRow.kind.in_(sorted(kinds)))
            if actor is not None:
                query = query.where(RunRow.actor == actor)
            matches = session.scalars(query.limit(2)).all()
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                raise NotFoundError(
                    f"run id prefix {run_id!r} matches several runs; give more of the id"
                )
        raise NotFoundError(f"no run {run_id!r} in {self.where}")

    def _stored(self, session: Session, row: RunRow, *, reused: bool = False) -> StoredRun:
        documents = session.execute(
            select(RunDocumentRow.role, RunDocumentRow.document_hash).where(
                RunDocumentRow.run_id == row.id
            )
        ).all()
        tables = session.execute(
            select(RunTableRow.role, RunTableRow.table_hash).where(RunTableRow.run_id == row.id)
        ).all()
        return StoredRun(
            **_summary_fields(row),
            documents=dict(sorted(documents)),
            tables=dict(sorted(tables)),
            result_bytes=decompress(row.result),
            payout_decimals=row.payout_decimals,
            reused=reused,
        )

    def get_run(
        self, run_id: str, *, kinds: Collection[str] | None = None, actor: str | None = None
    ) -> StoredRun:
        """A run by id (or by a unique prefix of at least 4 hex digits), optionally only among
        the runs of ``kinds`` or recorded by ``actor``."""
        with self._reading() as session:
            return self._stored(session, self._find_run(session, run_id, kinds, actor))

    def previous_scorecard(
        self, plan_id: str, department: str | None, period: str, *, actor: str | None = None
    ) -> dict[str, Any] | None:
        """The trend input of a scorecard of ``period``: the newest stored scorecard run of the
        same plan id and ``--department`` for the preceding period of the same length, as
        ``{"run_id", "period", "scores"}`` (each item's score by ``item_key``), or None. With
        ``actor``, only among the runs that actor recorded."""
        history = self.scorecard_history(plan_id, department, period, periods=1, actor=actor)
        return history[-1] if history else None

    def scorecard_history(
        self,
        plan_id: str,
        department: str | None,
        period: str,
        *,
        periods: int = 8,
        actor: str | None = None,
    ) -> list[dict[str, Any]]:
        """The stored scorecards of the ``periods`` periods before ``period`` (same plan id,
        same ``--department``, same period length; the newest run of each; with ``actor``,
        only that actor's), oldest first, each as ``{"run_id", "period", "scores"}``; a period
        without one ends the history."""
        from alignment_engine.scoring.periods import Period, parse_period
        from alignment_engine.scoring.scorecard import preceding_period, scores_of

        try:
            current: Period = parse_period(period)
        except ValueError:
            return []  # the scorecard itself reports the bad period
        wanted = {"plan": plan_id, "department": department}
        found: list[dict[str, Any]] = []
        with self._reading() as session:
            for _ in range(periods):
                current = preceding_period(current)
                row = next(
                    (
                        r
                        for r in session.scalars(
                            select(RunRow)
                            .where(
                                RunRow.kind == RunKind.SCORECARD.value,
                                RunRow.period == current.label,
                                RunRow.status.in_(
                                    [
                                        RunStatus.COMPLETED.value,
                                        RunStatus.APPROVED.value,
                                        RunStatus.FINAL.value,
                                    ]
                                ),
                            )
                            .order_by(RunRow.finished_at.desc(), RunRow.id.desc())
                        )
                        if json.loads(r.options) == wanted and actor in (None, r.actor)
                    ),
                    None,
                )
                if row is None:
                    break
                result = orjson.loads(decompress(row.result))
                found.append(
                    {"run_id": row.id, "period": current.label, "scores": scores_of(result)}
                )
        return found[::-1]

    def list_runs(
        self,
        *,
        kind: RunKind | str | None = None,
        period: str | None = None,
        status: RunStatus | str | None = None,
        limit: int | None = None,
    ) -> list[RunSummary]:
        """Runs, newest first, optionally filtered."""
        query = select(RunRow).order_by(RunRow.finished_at.desc(), RunRow.id)
        if kind is not None:
            query = query.where(RunRow.kind == parse_kind(kind).value)
        if period is not None:
            query = query.where(RunRow.period == period)
        if status is not None:
            query = query.where(RunRow.status == _status(status).value)
        if limit is not None:
            query = query.limit(limit)
        with self._reading() as session:
            return [RunSummary(**_summary_fields(row)) for row in session.scalars(query)]

    def final_run(self, kind: RunKind | str, period: str) -> StoredRun | None:
        """The period's final run of ``kind``, if it has one."""
        with self._reading() as session:
            row = session.scalars(
                select(RunRow).where(
                    RunRow.kind == parse_kind(kind).value,
                    RunRow.period == period,
                    RunRow.status == RunStatus.FINAL.value,
                )
            ).first()
            return None if row is None else self._stored(session, row)

    def restatement_base(
        self, run_id: str, period: str, *, actor: str | None = None
    ) -> tuple[str, pd.DataFrame]:
        """What a score of ``period`` restating ``run_id`` needs: that run's full id and its
        payouts (``employee_id``, ``payout_units``). Raises InputError unless ``run_id`` is the
        period's final score run (NotFoundError when there is no such run, or, with ``actor``,
        none that actor recorded)."""
        from alignment_engine.scoring.periods import period_label

        run = self.get_run(run_id, kinds=[RunKind.SCORE.value], actor=actor)
        final = None if run.period is None else self.final_run(RunKind.SCORE, run.period)
        if (
            run.kind is not RunKind.SCORE
            or run.period is None
            or period_label(run.period) != period_label(period)
            or final is None
            or final.id != run.id
        ):
            now = self.final_run(RunKind.SCORE, period)
            hint = (
                None  # who reads only their own runs learns no other run's id
                if actor is not None
                else f"the final score run of {period} is {now.id}"
                if now is not None
                else f"{period} has no final score run: score it and finalise that run"
            )
            raise InputError(
                f"run {run.id} is a {run.kind.value} run of {run.period or 'no period'} "
                f"({run.status.value}); a restatement restates the final score run of the period "
                "it scores",
                key="restates",
                suggestion=hint,
            )
        return run.id, self.payouts(run.id)[["employee_id", "payout_units"]]

    # -- stored releases ---------------------------------------------------------------------

    def push_release(
        self,
        kind: str,
        name: str,
        version: str,
        document: JsonDocument,
        *,
        effective_from: date | None = None,
        effective_to: date | None = None,
        actor: str | None = None,
    ) -> Release:
        """Deploy a plan or policy version as ``name@version`` (content-addressed: the document
        is stored once). Pushing the same content again under the same name and version changes
        nothing; other content under a pushed version is refused (versions never change)."""
        if kind not in RELEASE_KINDS:
            raise InputError(f"a release is a plan or a policy, not {kind!r}", key="kind")
        _check_release_label(name, "name")
        _check_release_label(version, "version")
        if effective_from and effective_to and effective_to < effective_from:
            raise InputError(
                f"effective_to {effective_to} is before effective_from {effective_from}",
                key="effective_to",
            )
        staged = stage_document(kind, document)
        if staged.kind != kind:
            raise InputError(f"the document is a {staged.kind}, not a {kind}", key="kind")
        who = actor or default_actor()
        with self._writing(f"release:{kind}:{name}") as (connection, session):
            existing = session.get(ReleaseRow, (kind, name, version))
            if existing is not None:
                if existing.document_hash != staged.hash:
                    raise ConflictError(
                        f"{kind} {name}@{version} is already pushed with other content "
                        f"({existing.document_hash[:12]}...): versions never change; push a "
                        "new version",
                        details=[{"name": name, "version": version}],
                    )
                return _release(existing)
            self._store_documents(connection, [staged])
            row = ReleaseRow(
                kind=kind,
                name=name,
                version=version,
                document_hash=staged.hash,
                effective_from=effective_from,
                effective_to=effective_to,
                created_at=utc_now(),
                created_by=who,
            )
            session.add(row)
            self._audit(
                session,
                who,
                "release.pushed",
                f"{kind}:{name}@{version}",
                {"hash": staged.hash, "effective_from": str(effective_from or ""),
                 "effective_to": str(effective_to or "")},
            )  # fmt: skip
            session.flush()
            return _release(row)

    def releases(self, kind: str | None = None) -> list[Release]:
        """Every release (of ``kind``), by kind, name, then when pushed."""
        query = select(ReleaseRow).order_by(
            ReleaseRow.kind, ReleaseRow.name, ReleaseRow.created_at, ReleaseRow.version
        )
        if kind is not None:
            query = query.where(ReleaseRow.kind == kind)
        with self._reading() as session:
            return [_release(row) for row in session.scalars(query)]

    def _pinned_release(self, kind: str, name: str, version: str) -> Release | None:
        key = (kind, name, version)
        found = self._pinned_releases.get(key)
        if found is None:
            with self._reading() as session:
                row = session.get(ReleaseRow, key)
                found = None if row is None else _release(row)
            if found is not None:
                if len(self._pinned_releases) >= _KnownContents.LIMIT:
                    self._pinned_releases.clear()
                self._pinned_releases[key] = found
        return found

    def resolve_release(self, kind: str, reference: str, period: str | None = None) -> Release:
        """The release ``reference`` names: ``name@version``; or ``name`` alone, the version
        effective in ``period`` (effective_from <= its start, its end <= effective_to), else,
        without a period, the newest pushed. Raises NotFoundError naming what exists."""
        name, _, version = reference.partition("@")
        if version:
            pinned = self._pinned_release(kind, name, version)
            if pinned is not None:
                return pinned
        chosen = [r for r in self.releases(kind) if r.name == name]
        if not chosen:
            known = sorted({r.name for r in self.releases(kind)})
            raise NotFoundError(
                f"no {kind} release named {name!r}"
                + (f" (known: {', '.join(known[:10])})" if known else ""),
                details=[{"reference": reference}],
            )
        if version:
            for release in chosen:
                if release.version == version:
                    return release
            raise NotFoundError(
                f"{kind} {name!r} has no version {version!r} (versions: "
                f"{', '.join(r.version for r in chosen)})",
                details=[{"reference": reference}],
            )
        if period is None:
            return chosen[-1]
        from alignment_engine.scoring.periods import parse_period

        try:
            span = parse_period(period)
        except ValueError as error:
            raise InputError(str(error), key="period") from None
        effective = [
            r
            for r in chosen
            if (r.effective_from is None or r.effective_from <= span.start)
            and (r.effective_to is None or span.end <= r.effective_to)
        ]
        if not effective:
            raise NotFoundError(
                f"no version of {kind} {name!r} is effective throughout {span.label}",
                details=[{"reference": reference, "period": span.label}],
            )
        if len(effective) > 1 and len({(r.effective_from, r.effective_to) for r in effective}) > 1:
            # The narrowest window wins (a mid-year change within a yearly default).
            effective.sort(
                key=lambda r: (
                    r.effective_from or date.min,
                    -(r.effective_to or date.max).toordinal(),
                )
            )
        return effective[-1]

    # -- pay across periods (scoring.ledger) ---------------------------------------------

    # -- jobs -----------------------------------------------------------------------------

    def submit_job(
        self,
        kind: RunKind | str,
        *,
        period: str | None,
        documents: Mapping[str, JsonDocument],
        tables: Mapping[str, pd.DataFrame],
        options: Mapping[str, Any] | None = None,
        actor: str | None = None,
    ) -> Job:
        """Queue work to run in the background. Its inputs are stored now, by content (as a
        run's are), so the job needs nothing but the database to run, in any process."""
        staged_documents = [stage_document(role, d) for role, d in documents.items()]
        staged_tables = [stage_table(role, frame) for role, frame in tables.items()]
        new_tables = self._compressed_new_tables(staged_tables)
        who = actor or default_actor()
        row = JobRow(
            id=new_run_id(),
            kind=parse_kind(str(kind)).value,
            state=JobState.QUEUED.value,
            actor=who,
            period=period,
            inputs=canonical_json(
                {
                    "documents": {d.role: d.hash for d in staged_documents},
                    "tables": {t.role: t.hash for t in staged_tables},
                }
            ),
            options=canonical_json(dict(options or {})),
            submitted_at=utc_now(),
            attempts=0,
            progress=canonical_json({"stage": "queued"}),
        )
        with self._writing() as (connection, session):
            self._store_documents(connection, staged_documents)
            self._store_tables(connection, new_tables)
            session.add(row)
            self._audit(session, who, "job.submitted", row.id, {"kind": row.kind})
            session.flush()
            job = _job(row)
        self._known_contents.remember(
            [d.hash for d in staged_documents] + [t.hash for t in staged_tables]
        )
        return job

    def get_job(self, job_id: str) -> Job:
        with self._reading() as session:
            row = session.get(JobRow, job_id)
            if row is None:
                raise NotFoundError(f"no job {job_id!r}")
            return _job(row)

    def claim_job(self, worker: str, *, stale_after: float, max_attempts: int = 3) -> Job | None:
        """The oldest job waiting, now held by ``worker``: a queued one, or one whose holder
        has not beaten its heart for ``stale_after`` seconds (it died: the job runs again,
        unless it already took ``max_attempts``, when it fails). None when nothing waits."""
        now = utc_now()
        cutoff = now - timedelta(seconds=stale_after)
        with self._writing("jobs:claim") as (_connection, session):
            candidates = session.scalars(
                select(JobRow)
                .where(
                    (JobRow.state == JobState.QUEUED.value)
                    | ((JobRow.state == JobState.RUNNING.value) & (JobRow.heartbeat_at < cutoff))
                )
                .order_by(JobRow.submitted_at, JobRow.id)
                .limit(max_attempts + 1)
            ).all()
            for row in candidates:
                if row.state == JobState.RUNNING.value and row.attempts >= max_attempts:
                    row.state = JobState.FAILED.value
                    row.finished_at = now
                    row.error = canonical_json(
                        {
                            "status": 500,
                            "code": "job_abandoned",
                            "message": f"the job's worker stopped {row.attempts} times "
                            f"(last: {row.claimed_by}); it is not tried again",
                        }
                    )
                    self._audit(session, worker, "job.failed", row.id, {"attempts": row.attempts})
                    continue
                if row.state == JobState.RUNNING.value:
                    self._audit(
                        session, worker, "job.taken_over", row.id, {"from": row.claimed_by or ""}
                    )
                row.state = JobState.RUNNING.value
                row.claimed_by = worker
                row.started_at = now
                row.heartbeat_at = now
                row.attempts += 1
                row.progress = canonical_json({"stage": "started"})
                session.flush()
                return _job(row)
            return None

    def job_heartbeat(self, job_id: str, worker: str, progress: Mapping[str, Any]) -> bool:
        """Say ``worker`` still holds the job, with its progress; False if it no longer does
        (taken over after a stall): the worker should then stop and store nothing."""
        with self._writing() as (connection, _session):
            changed = connection.execute(
                update(_table(JobRow))
                .where(
                    JobRow.id == job_id,
                    JobRow.claimed_by == worker,
                    JobRow.state == JobState.RUNNING.value,
                )
                .values(heartbeat_at=utc_now(), progress=canonical_json(dict(progress)))
            )
            return bool(changed.rowcount)

    def finish_job(
        self,
        job_id: str,
        worker: str,
        *,
        run_id: str | None = None,
        error: Mapping[str, Any] | None = None,
    ) -> bool:
        """Record the job's outcome (its run, or the error body); False if ``worker`` no
        longer holds it."""
        state = JobState.FAILED if error is not None else JobState.COMPLETED
        with self._writing() as (connection, session):
            changed = connection.execute(
                update(_table(JobRow))
                .where(
                    JobRow.id == job_id,
                    JobRow.claimed_by == worker,
                    JobRow.state == JobState.RUNNING.value,
                )
                .values(
                    state=state.value,
                    finished_at=utc_now(),
                    run_id=run_id,
                    error=None if error is None else canonical_json(dict(error)),
                    progress=canonical_json({"stage": state.value}),
                )
            )
            if changed.rowcount:
                self._audit(session, worker, f"job.{state.value}", job_id, {"run_id": run_id or ""})
            return bool(changed.rowcount)

    def job_inputs(self, job: Job) -> tuple[dict[str, StoredDocument], dict[str, StoredTable]]:
        """The job's documents and tables, as stored when it was submitted."""
        documents = {role: self.document(h) for role, h in job.inputs["documents"].items()}
        tables = {role: self.table(h) for role, h in job.inputs["tables"].items()}
        return documents, tables

    def open_lots(self, period: str) -> pd.DataFrame:
        """The open deferral, advance and recovery lots a score run of ``period`` (``2026-Q3``,
        any spelling ``parse_period`` reads) settles
        (``employee_id, lot, origin, due, units``; ``scoring.ledger.lots_for``): balances over
        the ledger entries of every run that was final (final or superseded), in a stable
        order so that the same ledger gives the same run hash."""
        import pandas as pd

        from alignment_engine.scoring.ledger import LOT_COLUMNS, lots_for
        from alignment_engine.scoring.periods import parse_period

        balance = func.sum(LedgerEntryRow.units)
        query = (
            select(
                LedgerEntryRow.employee_id,
                LedgerEntryRow.lot,
                LedgerEntryRow.origin,
                LedgerEntryRow.due,
                balance,
            )
            .join(RunRow, RunRow.id == LedgerEntryRow.run_id)
            .where(RunRow.status.in_([RunStatus.FINAL.value, RunStatus.SUPERSEDED.value]))
            .group_by(
                LedgerEntryRow.employee_id,
                LedgerEntryRow.lot,
                LedgerEntryRow.origin,
                LedgerEntryRow.due,
            )
            .having(balance != 0)
        )
        with self._reading() as session:
            rows = session.execute(query).all()
        frame = (
            pd.DataFrame([tuple(r) for r in rows], columns=list(LOT_COLUMNS))
            if rows
            else pd.DataFrame({c: [] for c in LOT_COLUMNS})
        )
        frame["units"] = frame["units"].astype("int64")
        try:
            target = parse_period(period)
        except ValueError as error:
            raise InputError(str(error), key="period") from None
        return lots_for(frame, target)

    # -- settings and approvals (maker-checker) --------------------------------------------

    def settings(self) -> dict[str, str]:
        """This database's settings (``require_approval``: ``true`` or ``false``)."""
        with self._reading() as session:
            found = {row.key: row.value for row in session.scalars(select(SettingRow))}
        return {**DEFAULT_SETTINGS, **found}

    def requires_approval(self) -> bool:
        return self.settings()["require_approval"] == "true"

    def set_setting(self, key: str, value: str, actor: str | None = None) -> dict[str, str]:
        """Change one setting (audited); returns every setting."""
        if key not in DEFAULT_SETTINGS:
            raise InputError(
                f"unknown setting {key!r}",
                suggestion=did_you_mean(key, DEFAULT_SETTINGS) or ", ".join(DEFAULT_SETTINGS),
            )
        if key == "require_approval" and value not in ("true", "false"):
            raise InputError(f"require_approval is true or false, not {value!r}")
        who = actor or default_actor()
        with self._writing("settings") as (_, session):
            row = session.get(SettingRow, key)
            before = DEFAULT_SETTINGS[key] if row is None else row.value
            if row is None:
                session.add(SettingRow(key=key, value=value, updated_at=utc_now(), updated_by=who))
            else:
                row.value, row.updated_at, row.updated_by = value, utc_now(), who
            self._audit(session, who, "setting.changed", key, {"from": before, "to": value})
        return self.settings()

    def approve(self, run_id: str, approver: str | None = None) -> StoredRun:
        """Approve a completed run of a period for finalising (maker-checker): by someone other
        than the run's actor, recorded with the time and audited. Approving an approved run
        again changes nothing."""
        current = self.get_run(run_id)
        who = approver or default_actor()
        if current.status is RunStatus.APPROVED:
            return current
        if current.status is not RunStatus.COMPLETED:
            raise ConflictError(
                f"run {current.id} is {current.status.value}; only a completed run is approved"
            )
        if current.period is None:
            raise ConflictError(f"run {current.id} has no period; only a period's run is approved")
        if who == current.actor:
            raise ConflictError(
                f"run {current.id} was recorded by {who}; its approval must come from someone "
                "else (maker-checker)",
                details=[{"actor": current.actor}],
            )
        with self._writing(f"run:{current.id}") as (_, session):
            row = session.get(RunRow, current.id)
            if row is None or row.status != RunStatus.COMPLETED.value:  # pragma: no cover - race
                raise ConflictError(f"run {current.id} changed while it was being approved")
            row.status, row.approved_at, row.approved_by = (
                RunStatus.APPROVED.value,
                utc_now(),
                who,
            )
            self._audit(
                session,
                who,
                "run.approved",
                current.id,
                {"kind": current.kind.value, "period": current.period, "actor": current.actor},
            )
        return self.get_run(current.id)

    def finalise(self, run_id: str, actor: str | None = None) -> StoredRun:
        """Mark a completed (or approved) run final for its kind and period; where the database
        requires approval (``require_approval``), only an approved one. Nothing replaces a final
        run but a restatement of it: finalising one marks the run it restates ``superseded``
        (its record otherwise unchanged) in the same transaction. Finalising the final run
        again changes nothing."""
        current = self.get_run(run_id)
        if current.status is RunStatus.FINAL:
            return current
        if current.status is RunStatus.COMPLETED and self.requires_approval():
            raise ConflictError(
                f"run {current.id} needs an approval before it is final (this database requires "
                "one): someone other than its maker runs `alignment-engine runs approve "
                f"{current.id} --by NAME`",
                details=[{"status": current.status.value}],
            )
        if current.status not in (RunStatus.COMPLETED, RunStatus.APPROVED):
            raise ConflictError(f"run {current.id} is {current.status.value}; it cannot be final")
        if current.period is None:
            raise ConflictError(f"run {current.id} has no period; only a period's run can be final")
        self._check_ledger_unchanged(current)
        who = actor or default_actor()
        with self._writing(f"period:{current.kind.value}:{current.period}") as (_, session):
            final = session.scalars(
                select(RunRow.id).where(
                    RunRow.kind == current.kind.value,
                    RunRow.period == current.period,
                    RunRow.status == RunStatus.FINAL.value,
                )
            ).first()
            restates = current.options.get("restates")
            if final is not None and final == restates:
                session.execute(
                    update(RunRow)
                    .where(RunRow.id == final)
                    .values(status=RunStatus.SUPERSEDED.value)
                )
                self._audit(
                    session,
                    who,
                    "run.superseded",
                    final,
                    {"kind": current.kind.value, "period": current.period, "by": current.id},
                )
            elif final is not None:
                raise ConflictError(
                    f"period {current.period} already has a final {current.kind.value} run: "
                    f"{final}"
                    + (
                        f"; run {current.id} restates {restates}, which is no longer final"
                        if restates
                        else ""
                    ),
                    details=[{"final_run": final}],
                )
            elif restates:
                raise ConflictError(
                    f"run {current.id} restates {restates}, which is no longer the final run of "
                    f"period {current.period}",
                    details=[{"restates": restates}],
                )
            session.execute(
                update(RunRow)
                .where(RunRow.id == current.id)
                .values(status=RunStatus.FINAL.value, finalised_at=utc_now(), finalised_by=who)
            )
            self._audit(
                session,
                who,
                "run.finalised",
                current.id,
                {"kind": current.kind.value, "period": current.period},
            )
        return self.get_run(current.id)

    def _check_ledger_unchanged(self, run: StoredRun) -> None:
        """A score run settles the lots open when it was made: if another run became final
        since and changed them, finalising this one would pay a release or a recovery twice
        (or miss one), so it must be scored again."""
        if run.kind is not RunKind.SCORE or run.period is None or run.options.get("restates"):
            return
        from alignment_engine.storage.records import stage_table

        lots = self.open_lots(run.period)
        now = stage_table("ledger", lots).hash if len(lots) else None
        if now != run.tables.get("ledger"):
            raise ConflictError(
                f"run {run.id} settled the deferrals and recoveries open when it was made, and "
                "they have changed since (another run became final): score the period again "
                "and finalise that run",
                details=[{"run": run.id, "period": run.period}],
            )

    def payouts(self, run_id: str) -> pd.DataFrame:
        """A score run's payout rows, in output order: ``employee_id``, ``department``,
        ``payout_units`` (integers), ``payout`` (currency) and ``factor``."""
        with self._reading() as session:
            row = self._find_run(session, run_id)
            decimals = row.payout_decimals or 0
            frame = read_payouts(session.connection(), row.id)
        frame.insert(3, "payout", frame["payout_units"].to_numpy() / float(10**decimals))
        frame.attrs["decimals"] = decimals
        return frame

    def payout_of(self, run_id: str, employee_id: str) -> tuple[int, int] | None:
        """One employee's payout row in a score run: (its position from 0, its payout in
        units), or None. One query, not the million rows of a large run."""
        with self._reading() as session:
            row = self._find_run(session, run_id)
            found = session.execute(
                select(PayoutRow.position, PayoutRow.payout_units)
                .where(PayoutRow.run_id == row.id, PayoutRow.employee_id == employee_id)
                .order_by(PayoutRow.position)
                .limit(1)
            ).first()
        return None if found is None else (int(found[0]) - 1, int(found[1]))

    def findings(self, run_id: str) -> list[dict[str, Any]]:
        """A check run's findings, as the result listed them (from the stored result: the
        findings table holds only the columns queries filter on)."""
        run = self.get_run(run_id)
        findings = _json_list(orjson.loads(run.result_bytes), "findings")
        return [] if findings is None else findings

    def allocations(self, run_id: str) -> list[dict[str, Any]]:
        with self._reading() as session:
            row = self._find_run(session, run_id)
            rows = session.scalars(
                select(AllocationRow)
                .where(AllocationRow.run_id == row.id)
                .order_by(AllocationRow.position)
            ).all()
            return [
                {
                    "resource": r.resource,
                    "department": r.department,
                    "current": r.current,
                    "proposed": r.proposed,
                    "change": r.change,
                    "marginal_value": r.marginal_value,
                }
                for r in rows
            ]

    def diff(self, a: str, b: str) -> RunDiff:
        """What changed from run ``a`` to run ``b``: payouts per employee and totals for score
        runs, findings added and removed for check runs, and changed JSON leaves otherwise
        (for score runs, every part of the result but the employees list)."""
        run_a = self.get_run(a)
        run_b = self.get_run(b)
        kind = run_a.kind.value if run_a.kind is run_b.kind else "mixed"
        if run_a.kind is RunKind.CHECK and run_b.kind is RunKind.CHECK:
            return RunDiff(
                a=run_a.id,
                b=run_b.id,
                kind=kind,
                findings=findings_diff(self.findings(run_a.id), self.findings(run_b.id)),
            )
        result_a = _parse_result(run_a.result_bytes)
        result_b = _parse_result(run_b.result_bytes)
        if run_a.kind is RunKind.SCORE and run_b.kind is RunKind.SCORE:
            payouts_a = self.payouts(run_a.id)
            payouts_b = self.payouts(run_b.id)
            if isinstance(result_a, dict) and isinstance(result_b, dict):
                result_a = {k: v for k, v in result_a.items() if k != "employees"}
                result_b = {k: v for k, v in result_b.items() if k != "employees"}
            return RunDiff(
                a=run_a.id,
                b=run_b.id,
                kind=kind,
                payouts=payouts_diff(
                    payouts_a, payouts_b, payouts_a.attrs["decimals"], payouts_b.attrs["decimals"]
                ),
                changes=json_diff(result_a, result_b),
            )
        return RunDiff(a=run_a.id, b=run_b.id, kind=kind, changes=json_diff(result_a, result_b))

    # -- inputs ---------------------------------------------------------------------------

    def document(self, document_hash: str) -> StoredDocument:
        with self._reading() as session:
            row = session.get(DocumentRow, document_hash)
            if row is None:
                raise NotFoundError(f"no document {document_hash!r} in {self.where}")
            return StoredDocument(
                hash=row.hash, kind=row.kind, document_id=row.document_id, text=row.content
            )

    def table(self, table_hash: str) -> StoredTable:
        """An input table: its canonical CSV bytes (``.frame()`` reads them as text cells)."""
        with self._reading() as session:
            row = session.get(InputTableRow, table_hash)
            if row is None:
                raise NotFoundError(f"no input table {table_hash!r} in {self.where}")
            return StoredTable(
                hash=row.hash,
                columns=tuple(json.loads(row.columns)),
                row_count=row.row_count,
                data=decompress(row.content),
            )

    def run_inputs(self, run_id: str) -> RunInputs:
        """Everything the run read, to show it or run it again."""
        run = self.get_run(run_id)
        return RunInputs(
            run=run,
            documents={role: self.document(h) for role, h in run.documents.items()},
            tables={role: self.table(h) for role, h in run.tables.items()},
        )

    # -- audit ----------------------------------------------------------------------------

    def record_audit(
        self, actor: str, action: str, subject: str | None, details: Mapping[str, Any]
    ) -> None:
        """One audit entry of its own (what is answered without being a run: an estimate)."""
        self.record_audits([PendingAudit(actor, action, subject, details)])

    def record_audits(self, entries: Sequence[PendingAudit]) -> None:
        """Audit entries in one transaction of their own."""
        with self._writing() as (connection, _):
            self._insert_audits(connection, entries)

    def _insert_audits(self, connection: Connection, entries: Sequence[PendingAudit]) -> None:
        if entries:
            connection.execute(
                insert(_table(AuditRow)),
                [self._audit_values(e.actor, e.action, e.subject, e.details) for e in entries],
            )

    def _audit(
        self,
        session: Session,
        actor: str | None,
        action: str,
        subject: str | None,
        details: Mapping[str, Any],
    ) -> None:
        session.add(AuditRow(**self._audit_values(actor, action, subject, details)))

    @staticmethod
    def _audit_values(
        actor: str | None, action: str, subject: str | None, details: Mapping[str, Any]
    ) -> dict[str, Any]:
        return {
            "at": utc_now(),
            "actor": actor or default_actor(),
            "action": action,
            "subject": subject,
            "details": canonical_json(dict(details)),
        }

    def audit_log(self, *, limit: int | None = 100, action: str | None = None) -> list[AuditEntry]:
        """Audit entries, newest first."""
        query = select(AuditRow).order_by(AuditRow.id.desc())
        if action is not None:
            query = query.where(AuditRow.action == action)
        if limit is not None:
            query = query.limit(limit)
        with self._reading() as session:
            return [
                AuditEntry(
                    at=_utc(row.at),
                    actor=row.actor,
                    action=row.action,
                    subject=row.subject,
                    details=json.loads(row.details),
                )
                for row in session.scalars(query)
            ]

    # -- tokens ---------------------------------------------------------------------------

    def create_token(self, name: str, role: str, actor: str | None = None) -> str:
        """A new service token for ``name`` with ``role``. Returns the token, which is not
        stored (only its sha256 is) and cannot be shown again."""
        if not _TOKEN_NAME.fullmatch(name):
            raise InputError(
                f"token name {name!r} must be 1 to 100 letters, digits or . _ @ -, "
                "starting with a letter or digit"
            )
        if role not in ROLES:
            raise InputError(
                f"unknown role {role!r}: one of {', '.join(ROLES)}",
                suggestion=did_you_mean(role, ROLES),
            )
        token = _TOKEN_PREFIX + secrets.token_urlsafe(32)
        who = actor or default_actor()
        with self._writing() as (_, session):
            taken = session.scalar(select(func.count()).where(TokenRow.name == name))
            if taken:
                raise ConflictError(
                    f"a token named {name!r} exists (revoked tokens keep their name); "
                    "choose another name"
                )
            session.add(
                TokenRow(
                    name=name,
                    role=role,
                    token_hash=content_hash(token),
                    created_at=utc_now(),
                    created_by=who,
                )
            )
            self._audit(session, who, "token.created", name, {"role": role})
        return token

    def verify_token(self, token: str) -> TokenIdentity | None:
        """Who an active token belongs to, or None for an unknown or revoked token."""
        if not token.startswith(_TOKEN_PREFIX):
            return None
        with self._reading() as session:
            row = session.scalars(
                select(TokenRow).where(
                    TokenRow.token_hash == content_hash(token), TokenRow.revoked_at.is_(None)
                )
            ).first()
            return None if row is None else TokenIdentity(row.name, row.role)

    def list_tokens(self) -> list[TokenInfo]:
        with self._reading() as session:
            return [
                self._token_info(row)
                for row in session.scalars(select(TokenRow).order_by(TokenRow.name))
            ]

    def revoke_token(self, name: str, actor: str | None = None) -> TokenInfo:
        """Revoke a token by name; revoking a revoked token changes nothing."""
        who = actor or default_actor()
        with self._writing() as (_, session):
            row = session.scalars(select(TokenRow).where(TokenRow.name == name)).first()
            if row is None:
                raise NotFoundError(f"no token named {name!r}")
            if row.revoked_at is None:
                row.revoked_at = utc_now()
                row.revoked_by = who
                self._audit(session, who, "token.revoked", name, {"role": row.role})
            session.flush()
            return self._token_info(row)

    @staticmethod
    def _token_info(row: TokenRow) -> TokenInfo:
        return TokenInfo(
            name=row.name,
            role=row.role,
            created_at=_utc(row.created_at),
            created_by=row.created_by,
            revoked_at=_optional_utc(row.revoked_at),
            revoked_by=row.revoked_by,
        )
