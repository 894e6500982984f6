"""The service's settings: environment variables prefixed ``ALIGNMENT_`` (pydantic-settings).

``ALIGNMENT_DB_URL`` picks the database exactly as for the CLI (else a SQLite file in the working
directory); the rest bound what one request may cost and switch optional endpoints on.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ServiceSettings"]


class ServiceSettings(BaseSettings):
    """Everything ``create_app`` needs; each field is also ``ALIGNMENT_<FIELD>`` in upper case."""

    model_config = SettingsConfigDict(env_prefix="ALIGNMENT_", extra="ignore", frozen=True)

    db_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL or SQLite file path; unset: ./alignment-engine.db",
    )
    max_body_bytes: int = Field(
        default=10 * 1024 * 1024, gt=0, description="larger request bodies get 413"
    )
    upload_max_bytes: int = Field(
        default=1024 * 1024 * 1024,
        gt=0,
        description="larger uploads to /v1/jobs (a quarter's tables as files) get 413",
    )
    job_threads: int = Field(
        default=1,
        ge=0,
        description="background jobs each worker process runs at once (0: this server only "
        "queues jobs; another replica runs them)",
    )
    job_stale_seconds: float = Field(
        default=60.0,
        gt=0,
        description="a running job whose worker has not reported for this long is taken over "
        "by another (its worker died)",
    )
    job_poll_seconds: float = Field(
        default=2.0, gt=0, description="how often an idle worker looks for queued jobs"
    )
    request_read_seconds: float = Field(
        default=30.0,
        gt=0,
        description="a connection must deliver a whole request (headers and body) within this "
        "many seconds of its first byte or of connecting, else it is closed (idle and "
        "trickling connections would otherwise hold a file descriptor forever)",
    )
    time_limit_seconds: float = Field(
        default=30.0,
        gt=0,
        description="a decision (check, score, optimise, scenario run) that takes longer gets 504",
    )
    decision_threads: int = Field(
        default=1,
        ge=1,
        description="worker threads for check and score in one process (decisions are "
        "CPU-bound Python and checks share one rule-engine thread, so more threads only contend "
        "for the interpreter lock: measured, 4 threads answer 20% fewer requests than 1, with a "
        "higher p99); add processes (serve --workers) instead",
    )
    optimise_threads: int = Field(
        default=2,
        ge=1,
        description="worker threads for optimise and scenario runs; a timed-out computation "
        "keeps its thread until it ends, so runaway work cannot pile up",
    )
    isolate_decisions: bool = Field(
        default=True,
        description="compute checks, optimise and scenario runs in a child process of their "
        "own (POSIX), so a runaway one is killed at the time limit and never stalls the "
        "worker; off: in a worker thread",
    )
    decision_memory_mb: int = Field(
        default=2048,
        ge=64,
        description="address space one isolated decision may add to its worker's; more gets "
        "422 over_budget",
    )
    token_cache_seconds: float = Field(
        default=0.0,
        ge=0,
        description="how long a verified token is trusted before it is checked again "
        "(a revoked token stops working within this time; 0 checks every request)",
    )
    rule_dirs: tuple[str, ...] = Field(
        default=(),
        description="folders of user rule packs added to the shipped ones for every check "
        "(like `check --rules DIR`); as an environment variable, a JSON list",
    )
    docs: bool = Field(default=True, description="serve /docs and /redoc")
    benchmark_endpoints: bool = Field(
        default=False, description="add /v1/benchmark/baseline for benchmarks/service.py"
    )
    log_level: str = Field(default="info", description="level of the JSON access and error logs")
