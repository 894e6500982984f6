"""Foreign errors are translated once, at the storage boundary, and the mapping is complete."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from sqlalchemy import exc as sa_exc

from alignment_engine.errors import (
    AlignmentError,
    ConflictError,
    InputError,
    NotFoundError,
    StorageError,
)
from alignment_engine.storage.translate import translate_errors


def _dbapi(cls: type[sa_exc.DBAPIError]) -> sa_exc.DBAPIError:
    return cls("SELECT 1", {}, Exception("driver says no"))


CASES: list[tuple[BaseException, type[AlignmentError]]] = [
    (sa_exc.NoResultFound("nothing"), NotFoundError),
    (_dbapi(sa_exc.IntegrityError), ConflictError),
    (_dbapi(sa_exc.OperationalError), StorageError),
    (_dbapi(sa_exc.ProgrammingError), StorageError),
    (_dbapi(sa_exc.DataError), StorageError),
    (_dbapi(sa_exc.InterfaceError), StorageError),
    (_dbapi(sa_exc.InternalError), StorageError),
    (_dbapi(sa_exc.NotSupportedError), StorageError),
    (_dbapi(sa_exc.DatabaseError), StorageError),
    (sa_exc.ArgumentError("bad url"), StorageError),
    (sa_exc.NoSuchModuleError("mysql"), StorageError),
    (sa_exc.MultipleResultsFound("two"), StorageError),
    (sa_exc.TimeoutError("pool"), StorageError),
    (psycopg.errors.UniqueViolation("dup"), ConflictError),
    (psycopg.OperationalError("gone"), StorageError),
    (sqlite3.IntegrityError("dup"), ConflictError),
    (sqlite3.OperationalError("locked"), StorageError),
]


@pytest.mark.parametrize(("error", "expected"), CASES, ids=lambda v: type(v).__name__)
def test_translation(error: BaseException, expected: type[AlignmentError]) -> None:
    with pytest.raises(expected) as caught, translate_errors("db"):
        raise error
    assert caught.value.__cause__ is error
    assert "db" in caught.value.message


def test_alembic_errors_are_storage_errors() -> None:
    from alembic.util import CommandError

    with (
        pytest.raises(StorageError, match="migrating db failed: no such revision"),
        translate_errors("db"),
    ):
        raise CommandError("no such revision")


def _instances() -> list[BaseException]:
    found: list[BaseException] = []
    for cls in vars(sa_exc).values():
        if not (isinstance(cls, type) and issubclass(cls, sa_exc.SQLAlchemyError)):
            continue
        for arguments in (("SELECT 1", {}, Exception("driver")), ("message",), ()):
            try:
                found.append(cls(*arguments))
                break
            except TypeError:
                continue
    return found


def test_every_sqlalchemy_error_becomes_one_of_ours() -> None:
    instances = _instances()
    assert len(instances) > 20
    for error in instances:
        with pytest.raises(AlignmentError), translate_errors("db"):
            raise error


def test_our_errors_and_bugs_pass_through() -> None:
    with pytest.raises(InputError), translate_errors("db"):
        raise InputError("bad")
    with pytest.raises(KeyError), translate_errors("db"):
        raise KeyError("bug")
