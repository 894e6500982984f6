"""The plan's check, computed and stored in a second process while a long command works.

``score`` shows the plan's findings (warnings, and report.html with --out) from the stored
check of its plan and policy. On a large plan that check takes seconds of one core while the
other sits idle reading and scoring a million employees; started ahead, in its own process (the
rule engine never releases the GIL, so a thread would not overlap), it is usually stored by the
time it is wanted. The command still asks the store for it as before and computes it itself
when the process stored nothing (failed, or read other files): this only saves time, never
decides what is shown.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["AHEAD_FROM_KPIS", "CheckAhead"]

AHEAD_FROM_KPIS = 2_000
"""Plans with at least this many KPIs are checked ahead (a smaller plan's check takes less than
starting a process)."""

_WORKER = "from alignment_engine.cli.check_ahead import work; work()"


@dataclass
class CheckAhead:
    """The background check of one command, if one was started."""

    process: subprocess.Popen[bytes] | None = None

    @classmethod
    def start(
        cls,
        plan: Any,
        policy: Any,
        plan_path: Path,
        policy_path: Path,
        db_url: str | None,
        language: str,
    ) -> CheckAhead:
        """Start checking when the plan is large and its check is not stored yet."""
        if sum(len(department.kpis) for department in plan.departments) < AHEAD_FROM_KPIS:
            return cls()
        from alignment_engine.cli.storage import open_store
        from alignment_engine.errors import AlignmentError
        from alignment_engine.pipeline import CheckRun

        try:
            with open_store(db_url) as store:
                if store.has_reusable(CheckRun(plan, policy, (), language=language).record()):
                    return cls()
        except AlignmentError:
            return cls()  # the command meets the same error where it reads the check
        command = [sys.executable, "-c", _WORKER, str(plan_path), str(policy_path), language]
        command += [db_url] if db_url else []
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        return cls(process)

    def wait(self) -> None:
        """Until the background check has ended (stored, or given up)."""
        if self.process is not None:
            self.process.wait()
            self.process = None

    def cancel(self) -> None:
        """Stop a check still running (the command failed: it stores nothing after it ends;
        the store's transaction makes a write cut short leave nothing behind)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


def work() -> None:
    """The second process: ``PLAN POLICY LANGUAGE [DB_URL]``; check and store, print nothing."""
    from alignment_engine.cli.check import stored_check
    from alignment_engine.collector import collector_paused
    from alignment_engine.i18n import using
    from alignment_engine.loading import plan_from_yaml, policy_from_yaml

    plan_path, policy_path, language, *rest = sys.argv[1:]
    with using(language), collector_paused():
        stored_check(
            plan_from_yaml(plan_path), policy_from_yaml(policy_path), [], rest[0] if rest else None
        )
