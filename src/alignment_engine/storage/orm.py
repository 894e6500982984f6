"""The tables, as typed SQLAlchemy ORM classes. Migrations (``migrations/versions``) create them.

Documents and input tables are content-addressed (their sha256 is the key), so a plan used by a
thousand runs is stored once. A run points at its inputs by role (``plan``, ``employees``, ...),
keeps the exact result text it printed (compressed: storage/codec.py) and, for queries, its payout rows,
findings and allocations. Money is integer units (``10**-payout_decimals`` of the currency).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "AllocationRow",
    "AuditRow",
    "Base",
    "DocumentRow",
    "FindingRow",
    "InputTableRow",
    "JobRow",
    "LedgerEntryRow",
    "PayoutRow",
    "ReleaseRow",
    "RunDocumentRow",
    "RunRow",
    "RunTableRow",
    "SettingRow",
    "TokenRow",
]

HASH = String(64)
RUN_ID = String(32)
NAME = String(200)

# Stable constraint names, so migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class DocumentRow(Base):
    """A plan, policy, rule pack or scenario, as canonical JSON."""

    __tablename__ = "documents"

    hash: Mapped[str] = mapped_column(HASH, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    document_id: Mapped[str | None] = mapped_column(NAME)
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class InputTableRow(Base):
    """An input table (actuals, employees, history) as canonical CSV, compressed (storage/codec.py)."""

    __tablename__ = "input_tables"

    hash: Mapped[str] = mapped_column(HASH, primary_key=True)
    columns: Mapped[str] = mapped_column(Text)
    row_count: Mapped[int] = mapped_column(BigInteger)
    size: Mapped[int] = mapped_column(BigInteger)
    encoding: Mapped[str] = mapped_column(String(16))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RunRow(Base):
    """One execution: what went in (by hash), who asked, and exactly what came out."""

    __tablename__ = "runs"
    __table_args__ = (
        # At most one final run per kind and period; the database enforces it under races.
        Index(
            "uq_runs_final_period",
            "kind",
            "period",
            unique=True,
            sqlite_where=text("status = 'final'"),
            postgresql_where=text("status = 'final'"),
        ),
        Index("ix_runs_kind_period", "kind", "period"),
    )

    id: Mapped[str] = mapped_column(RUN_ID, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    period: Mapped[str | None] = mapped_column(String(32))
    run_hash: Mapped[str] = mapped_column(HASH, index=True)
    engine_version: Mapped[str] = mapped_column(String(32))
    options: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(NAME)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    finalised_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finalised_by: Mapped[str | None] = mapped_column(NAME)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    approved_by: Mapped[str | None] = mapped_column(NAME)
    payout_decimals: Mapped[int | None] = mapped_column(Integer)
    result_hash: Mapped[str] = mapped_column(HASH)
    result_size: Mapped[int] = mapped_column(BigInteger)
    result: Mapped[bytes] = mapped_column(LargeBinary)


class RunDocumentRow(Base):
    __tablename__ = "run_documents"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(64), primary_key=True)
    document_hash: Mapped[str] = mapped_column(ForeignKey("documents.hash"), index=True)


class RunTableRow(Base):
    __tablename__ = "run_tables"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(64), primary_key=True)
    table_hash: Mapped[str] = mapped_column(ForeignKey("input_tables.hash"), index=True)


class PayoutRow(Base):
    """One employee's payout in a score run (queryable; the result text has the full detail).

    No foreign key to ``runs``: PostgreSQL checks one row at a time, which doubled the time to
    store a million payouts. The store writes a run and its payouts in one transaction instead.
    """

    __tablename__ = "payouts"
    # SQLite: the primary key is the table (no separate rowid b-tree), 30% faster to fill.
    __table_args__ = ({"sqlite_with_rowid": False},)

    run_id: Mapped[str] = mapped_column(RUN_ID, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    employee_id: Mapped[str] = mapped_column(NAME)
    department: Mapped[str] = mapped_column(NAME)
    payout_units: Mapped[int] = mapped_column(BigInteger)
    factor: Mapped[float | None] = mapped_column(Double)


class ReleaseRow(Base):
    """A plan or policy version deployed under a name and version label (immutable once
    pushed), effective from/to the dates given."""

    __tablename__ = "releases"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(NAME, primary_key=True)
    version: Mapped[str] = mapped_column(NAME, primary_key=True)
    document_hash: Mapped[str] = mapped_column(ForeignKey("documents.hash"))
    effective_from: Mapped[date | None] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(NAME)


class JobRow(Base):
    """Background work (``Store.submit_job``): its inputs by content hash, who holds it and
    when it last said so (a claim whose heartbeat stops is taken over), and its outcome."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), index=True)
    actor: Mapped[str] = mapped_column(NAME)
    period: Mapped[str | None] = mapped_column(String(32))
    inputs: Mapped[str] = mapped_column(Text)
    options: Mapped[str] = mapped_column(Text)
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    claimed_by: Mapped[str | None] = mapped_column(NAME)
    attempts: Mapped[int] = mapped_column(Integer)
    progress: Mapped[str] = mapped_column(Text)
    run_id: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)


class LedgerEntryRow(Base):
    """One change a score run made to a lot of pay owed across periods (``scoring.ledger``):
    ``units`` signed, ``+`` opens a lot, ``-`` settles it. A lot's balance is the sum over the
    runs that were final. Like payouts, no foreign key: written in the run's transaction."""

    __tablename__ = "ledger_entries"
    __table_args__ = ({"sqlite_with_rowid": False},)

    run_id: Mapped[str] = mapped_column(RUN_ID, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    employee_id: Mapped[str] = mapped_column(NAME)
    lot: Mapped[str] = mapped_column(String(16))
    origin: Mapped[str] = mapped_column(String(32))
    due: Mapped[str] = mapped_column(String(32))
    entry: Mapped[str] = mapped_column(String(16))
    units: Mapped[int] = mapped_column(BigInteger)


class FindingRow(Base):
    """One finding of a check run, by the columns a query filters on; the finding itself, with
    every id it names, is in the run's result document (stored once)."""

    __tablename__ = "findings"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule: Mapped[str] = mapped_column(NAME)
    kind: Mapped[str | None] = mapped_column(String(32))
    severity: Mapped[str | None] = mapped_column(String(16))
    message: Mapped[str | None] = mapped_column(Text)


class AllocationRow(Base):
    """One suggested (or scenario) allocation of a resource to a department."""

    __tablename__ = "allocations"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource: Mapped[str] = mapped_column(NAME)
    department: Mapped[str] = mapped_column(NAME)
    current: Mapped[float | None] = mapped_column(Double)
    proposed: Mapped[float | None] = mapped_column(Double)
    change: Mapped[float | None] = mapped_column(Double)
    marginal_value: Mapped[float | None] = mapped_column(Double)


class AuditRow(Base):
    """Who did what, when: runs created and finalised, tokens created and revoked."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(NAME)
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(NAME)
    details: Mapped[str] = mapped_column(Text)


class TokenRow(Base):
    """A service credential. Only the sha256 of the token is kept; the token is shown once."""

    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(HASH, unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(NAME)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[str | None] = mapped_column(NAME)


class SettingRow(Base):
    """One setting of this database (``require_approval``), with who changed it last."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(NAME)
