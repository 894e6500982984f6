"""A throwaway PostgreSQL cluster for tests and benchmarks (not used by the product itself).

It uses the machine's ``initdb``/``pg_ctl``. PostgreSQL refuses to run as root, so as root the
commands run as the ``postgres`` system user through ``runuser`` (the data directory is chowned
to it). The server listens on a Unix socket in its own temporary directory and on no TCP port,
so any number of clusters (one per pytest-xdist worker) start side by side with nothing to race
for. Durability is switched off: it is thrown away.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

__all__ = ["PostgresUnavailableError", "ThrowawayPostgres", "postgres_unavailable_reason"]

_PORT = 5432
_SUPERUSER = "postgres"
_FAST_AND_UNSAFE = (
    "-c listen_addresses= -c fsync=off -c synchronous_commit=off -c full_page_writes=off "
    "-c max_connections=100"
)


class PostgresUnavailableError(RuntimeError):
    """No PostgreSQL server binaries here, or the server did not start."""


def _running_as_root() -> bool:
    return os.geteuid() == 0


def postgres_unavailable_reason() -> str | None:
    """Why a throwaway cluster cannot start here, or None when it can."""
    for program in ("initdb", "pg_ctl"):
        if shutil.which(program) is None:
            return f"PostgreSQL is not installed: {program} is not on PATH"
    if _running_as_root():
        if shutil.which("runuser") is None:
            return "running as root and runuser (to start PostgreSQL as 'postgres') is missing"
        try:
            pwd.getpwnam(_SUPERUSER)
        except KeyError:
            return "running as root and there is no 'postgres' system user to run PostgreSQL"
    return None


def _as_server_user(command: list[str]) -> list[str]:
    if _running_as_root():
        return ["runuser", "-u", _SUPERUSER, "--", *command]
    return command


def _run(command: list[str]) -> None:
    completed = subprocess.run(
        _as_server_user(command), capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise PostgresUnavailableError(
            f"{' '.join(command[:2])} failed ({completed.returncode}): "
            f"{(completed.stderr or completed.stdout).strip()[-2000:]}"
        )


@dataclass
class ThrowawayPostgres:
    """A running temporary cluster; :meth:`stop` removes it and its files."""

    directory: Path

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @classmethod
    def start(cls) -> ThrowawayPostgres:
        reason = postgres_unavailable_reason()
        if reason is not None:
            raise PostgresUnavailableError(reason)
        directory = Path(tempfile.mkdtemp(prefix="ae-pg-"))
        if _running_as_root():
            shutil.chown(directory, user=_SUPERUSER)
        cluster = cls(directory)
        try:
            _run(
                [
                    "initdb",
                    "-D",
                    str(cluster.data),
                    "-A",
                    "trust",
                    "-U",
                    _SUPERUSER,
                    "-E",
                    "UTF8",
                    "--no-sync",
                    "--locale=C.UTF-8",
                ]
            )
            options = f"-p {_PORT} -k {directory} {_FAST_AND_UNSAFE}"
            _run(
                [
                    "pg_ctl",
                    "-D",
                    str(cluster.data),
                    "-o",
                    options,
                    "-l",
                    str(directory / "server.log"),
                    "-w",
                    "start",
                ]
            )
        except BaseException as exc:
            log = directory / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            shutil.rmtree(directory, ignore_errors=True)
            if isinstance(exc, PostgresUnavailableError) and tail:
                raise PostgresUnavailableError(f"{exc}\nserver log:\n{tail}") from exc
            raise
        return cluster

    def url(self, database: str = "postgres") -> str:
        """A SQLAlchemy URL (psycopg 3) for a database of this cluster."""
        return (
            f"postgresql+psycopg://{_SUPERUSER}@/{quote(database)}"
            f"?host={quote(str(self.directory))}&port={_PORT}"
        )

    def create_database(self, name: str, template: str | None = None) -> str:
        """Create a database (optionally copying ``template``); returns its URL."""
        import psycopg
        from psycopg import sql

        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            statement = sql.SQL("{} TEMPLATE {}").format(statement, sql.Identifier(template))
        with psycopg.connect(
            host=str(self.directory),
            port=_PORT,
            user=_SUPERUSER,
            dbname="postgres",
            autocommit=True,
        ) as connection:
            connection.execute(statement)
        return self.url(name)

    def stop(self) -> None:
        try:
            _run(["pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop"])
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)
