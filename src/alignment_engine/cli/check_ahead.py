"""The plan's check, computed and stored in a second process while a long command works.

``score`` shows the plan's findings (warnings, and report.html with --out) from the stored
check of its plan and policy. On a large plan that check takes seconds of one core while the
other sits idle reading and scoring a million employees; started ahead, in its own process (the
rule engine never releases the GIL, so a thread would not overlap), it is usually stored by the
time it is wanted. The command still asks the store for it as before and computes it itself
when the process stored nothing (could not start, failed, timed out, or read other files): this
only saves time, never decides what is shown.

``ALIGNMENT_CHECK_AHEAD=0`` turns it off (a host short of memory: the check's process adds
about 400 MB at 10,000 KPIs while it runs).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["AHEAD_FROM_KPIS", "SWITCH", "WAIT_SECONDS", "CheckAhead"]

AHEAD_FROM_KPIS = 2_000
"""Plans with at least this many KPIs are checked ahead (a smaller plan's check takes less than
starting a process)."""

WAIT_SECONDS = 900.0
"""How long the command waits for the check before stopping it and checking itself (a check
held up by a locked database or a stalled server must not hold the command forever)."""

SWITCH = "ALIGNMENT_CHECK_AHEAD"
"""The environment variable that turns checking ahead off (``0``, ``false``, ``no``, ``off``)."""

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
        if os.environ.get(SWITCH, "1").strip().lower() in ("0", "false", "no", "off"):
            return cls()
        if sum(len(department.kpis) for department in plan.departments) < AHEAD_FROM_KPIS:
            return cls()
        from alignment_engine.cli.storage import open_store
        from alignment_engine.errors import AlignmentError
        from alignment_engine.pipeline import CheckRun
        from alignment_engine.storage.url import ENVIRONMENT_VARIABLE, resolve_database_url

        try:
            url = resolve_database_url(db_url)
            if _in_memory(url):
                return cls()  # another process's store would be another database
            with open_store(url) as store:
                if store.has_reusable(CheckRun(plan, policy, (), language=language).record()):
                    return cls()
        except AlignmentError:
            return cls()  # the command meets the same error where it reads the check
        # -P: the working directory is not put first on the path (a stray orjson.py there must
        # not be imported in place of the package).
        command = [sys.executable, "-P", "-c", _WORKER, str(plan_path), str(policy_path), language]
        # The URL (a password in it, maybe) goes by the environment, which only its owner can
        # read, never on the command line, which any user of the machine can.
        environment = {**os.environ, ENVIRONMENT_VARIABLE: url}
        try:
            process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,  # closed when this process ends: the check then stops
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=environment,
            )
        except OSError:
            return cls()  # no second process here: the command checks itself
        return cls(process)

    def wait(self) -> None:
        """Until the background check has ended (stored, or given up), at most
        :data:`WAIT_SECONDS`; a check still running then is stopped."""
        if self.process is not None:
            try:
                self.process.wait(timeout=WAIT_SECONDS)
            except subprocess.TimeoutExpired:
                self.cancel()
            self._close()

    def cancel(self) -> None:
        """Stop a check still running (the command failed: it stores nothing after it ends;
        the store's transaction makes a write cut short leave nothing behind)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self._close()

    def _close(self) -> None:
        if self.process is not None and self.process.stdin is not None:
            self.process.stdin.close()
        self.process = None


def _in_memory(url: str) -> bool:
    from alignment_engine.storage.url import is_sqlite, parse_url

    if not is_sqlite(url):
        return False
    parsed = parse_url(url)
    return parsed.database in (None, "", ":memory:") or parsed.query.get("mode") == "memory"


def work() -> None:
    """The second process: ``PLAN POLICY LANGUAGE``, the database from the environment; check
    and store, print nothing. It ends when the command's process does (its stdin closes), also
    when that one was killed."""
    from alignment_engine.cli.check import stored_check
    from alignment_engine.collector import collector_paused
    from alignment_engine.i18n import using
    from alignment_engine.loading import plan_from_yaml, policy_from_yaml

    threading.Thread(target=_end_with_the_command, daemon=True).start()
    plan_path, policy_path, language = sys.argv[1:4]
    with using(language), collector_paused():
        stored_check(plan_from_yaml(plan_path), policy_from_yaml(policy_path), [], None)


def _end_with_the_command() -> None:
    # The descriptor, not sys.stdin: a daemon thread still inside the buffered reader when the
    # check ends normally makes interpreter shutdown abort on the reader's lock.
    while os.read(0, 4096):  # empty when the command closes the pipe or is gone
        pass
    os._exit(0)  # a write cut short is rolled back by the store's transaction
