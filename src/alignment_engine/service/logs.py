"""Structured logs: one JSON object per line, for the access log and for the server's own logs.

An access-log line carries ``method``, ``path``, ``route``, ``status``, ``duration_ms``,
``actor``, ``role``, ``run_id``, ``request_id`` and ``client``; other lines carry ``message`` and,
for errors, ``exception`` (the traceback stays in the server's log, never in a response). Every
line names the worker process that wrote it (``pid``).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

__all__ = ["ACCESS_LOGGER", "JsonFormatter", "logging_config"]

ACCESS_LOGGER = "alignment_engine.access"


class JsonFormatter(logging.Formatter):
    """A record as a JSON line; structured fields come from ``extra={"fields": {...}}``."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        else:
            line["message"] = record.getMessage()
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def logging_config(level: str = "info") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` (and uvicorn ``log_config``): JSON lines on stderr for
    our loggers and uvicorn's; uvicorn's own access log is off (ours has more in it)."""
    chosen = level.upper()
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonFormatter"}},
        "handlers": {"stderr": handler},
        "loggers": {
            "alignment_engine": {"handlers": ["stderr"], "level": chosen, "propagate": False},
            "uvicorn": {"handlers": ["stderr"], "level": chosen, "propagate": False},
            "uvicorn.error": {"level": chosen},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }
