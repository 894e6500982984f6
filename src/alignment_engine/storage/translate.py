"""The one place SQLAlchemy, driver and Alembic errors become ours.

IntegrityError (a row clashes with stored data) -> ConflictError; NoResultFound -> NotFoundError;
every other database failure -> StorageError naming the database (password hidden) and the
driver's first line of explanation. Our own errors pass through untouched.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import exc as sa_exc

from alignment_engine.errors import AlignmentError, ConflictError, NotFoundError, StorageError

__all__ = ["translate_errors"]


def _reason(exc: BaseException) -> str:
    cause = getattr(exc, "orig", None) or exc
    text = str(cause).strip() or type(cause).__name__
    return text.splitlines()[0]


def _errors(*classes: type[BaseException], driver: str) -> tuple[type[BaseException], ...]:
    """``classes`` and psycopg's error class ``driver`` once psycopg is loaded: importing it
    costs every SQLite command 50 ms of start-up, and a driver never imported raised nothing."""
    psycopg = sys.modules.get("psycopg")
    error = getattr(psycopg, driver, None) if psycopg is not None else None
    if isinstance(error, type) and issubclass(error, BaseException):
        return (*classes, error)
    return classes


@contextmanager
def translate_errors(where: str) -> Iterator[None]:
    """Translate foreign errors raised inside the block; ``where`` names the database."""
    try:
        yield
    except AlignmentError:
        raise
    except sa_exc.NoResultFound as exc:
        raise NotFoundError(f"not found in {where}: {_reason(exc)}") from exc
    except _errors(sa_exc.IntegrityError, sqlite3.IntegrityError, driver="IntegrityError") as exc:
        raise ConflictError(
            f"the change clashes with data stored in {where}: {_reason(exc)}"
        ) from exc
    except _errors(sa_exc.SQLAlchemyError, sqlite3.Error, driver="Error") as exc:
        raise StorageError(f"database {where} failed: {_reason(exc)}") from exc
    except Exception as exc:
        # Alembic's CommandError and friends, without importing Alembic on every open.
        if type(exc).__module__.startswith("alembic"):
            raise StorageError(f"migrating {where} failed: {_reason(exc)}") from exc
        raise
