"""Is this process able to decide? The database answers and the rule packs compile."""

from __future__ import annotations

import logging
from collections.abc import Callable

from alignment_engine.errors import AlignmentError
from alignment_engine.rulepacks import packs_in, program_for
from alignment_engine.service.state import ServiceState

__all__ = ["readiness_checks"]

logger = logging.getLogger("alignment_engine.service")


def _database(state: ServiceState) -> str | None:
    schema = state.store().schema_state()
    if not schema.up_to_date:
        return "the database schema is not up to date: run `alignment-engine db upgrade`"
    return None


def _rules(state: ServiceState) -> str | None:
    """The shipped packs and the server's rule folders compile into one program (cached, so
    the checks that follow use it as is)."""
    extra = [pack for folder in state.settings.rule_dirs for pack in packs_in(folder)]
    program_for(extra)
    return None


CHECKS: dict[str, Callable[[ServiceState], str | None]] = {"database": _database, "rules": _rules}


def readiness_checks(state: ServiceState) -> dict[str, str]:
    """Each check's outcome: ``ok`` or what is wrong (blocking: call from a worker thread).

    Messages are generic: the details (which may name files or hosts) go to the server log.
    """
    outcomes: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            problem = check(state)
        except AlignmentError as error:
            logger.warning("readiness check %s failed: %s", name, error.message)
            problem = f"{name} not available ({error.code})"
        except Exception as error:  # readiness must answer, whatever broke
            logger.warning("readiness check %s failed", name, exc_info=error)
            problem = f"{name} not available"
        outcomes[name] = problem or "ok"
    return outcomes
