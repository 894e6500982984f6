"""Shared fixtures. Sections: paths; PostgreSQL (storage tests)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# CI runs the same examples every time (a failure there reproduces here with CI=true); local
# runs keep exploring new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture(autouse=True)
def _runs_go_to_a_temporary_database(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Commands store runs by default (./alignment-engine.db): keep tests out of the checkout."""
    # Tables are laid out for $COLUMNS when stdout is not a terminal: the terminal the tests
    # were started from must not change what they read.
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setenv(
        "ALIGNMENT_DB_URL", f"sqlite:///{tmp_path_factory.mktemp('runs') / 'runs.db'}"
    )


# ---------------------------------------------------------------------------------------------
# PostgreSQL (storage tests)
#
# Every pytest process (each xdist worker) starts its own throwaway cluster on first use and
# stops it when the session ends. The cluster listens on a Unix socket in its own temporary
# directory and on no TCP port, so workers never race for a port. Each test gets a fresh
# database. Without initdb/pg_ctl these tests skip, unless ALIGNMENT_REQUIRE_POSTGRES=1 (CI),
# in which case they fail.
#
# Fixtures: postgres_server (session), postgres_url (fresh, empty), db_url (fresh and upgraded,
# parametrised over sqlite and postgresql), blank_db_url (fresh and empty, both backends).
# ---------------------------------------------------------------------------------------------

import itertools  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from typing import NoReturn  # noqa: E402

from throwaway_postgres import (  # noqa: E402
    PostgresUnavailableError,
    ThrowawayPostgres,
    postgres_unavailable_reason,
)

_database_numbers = itertools.count(1)
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _postgres_missing(reason: str) -> NoReturn:
    if os.environ.get("ALIGNMENT_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL tests must run here (ALIGNMENT_REQUIRE_POSTGRES=1): {reason}")
    pytest.skip(f"{reason}; set ALIGNMENT_REQUIRE_POSTGRES=1 to make this a failure")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[ThrowawayPostgres]:
    reason = postgres_unavailable_reason()
    if reason is not None:
        _postgres_missing(reason)
    try:
        server = ThrowawayPostgres.start()
    except PostgresUnavailableError as exc:
        _postgres_missing(str(exc))
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server: ThrowawayPostgres) -> str:
    """A fresh, empty PostgreSQL database (not upgraded)."""
    return postgres_server.create_database(f"test_{next(_database_numbers)}")


@pytest.fixture(scope="session")
def _postgres_template(postgres_server: ThrowawayPostgres) -> str:
    from alignment_engine.storage import Store

    postgres_server.create_database("upgraded_template")
    with Store.open(postgres_server.url("upgraded_template"), check_schema=False) as store:
        store.upgrade()
    return "upgraded_template"


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from alignment_engine.storage import Store

    path = tmp_path_factory.mktemp("sqlite-template") / "upgraded.db"
    Store.open(f"sqlite:///{path}").close()
    return path


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database with the current schema, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "runs.db"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        return f"sqlite:///{path}"
    server: ThrowawayPostgres = request.getfixturevalue("postgres_server")
    template: str = request.getfixturevalue("_postgres_template")
    return server.create_database(f"test_{next(_database_numbers)}", template=template)


@pytest.fixture(params=BACKENDS)
def blank_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database with no tables (a SQLite file that does not exist yet)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'blank.db'}"
    return str(request.getfixturevalue("postgres_url"))
