"""The threads of one worker process that run background jobs (``POST /v1/jobs/score``).

Each claims the oldest waiting job from the database (so replicas share the queue), runs it
through :func:`alignment_engine.jobs.run_job`, and beats its heart while it runs; a job whose
worker dies stops beating and another worker takes it over after ``job_stale_seconds``. An idle
thread looks for work every ``job_poll_seconds``, or at once when this process queued a job.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Mapping
from typing import Any

from alignment_engine.errors import AlignmentError
from alignment_engine.jobs import JobLostError, run_job
from alignment_engine.service.errors import error_body
from alignment_engine.service.state import ServiceState
from alignment_engine.storage import Job

__all__ = ["JobWorker"]

logger = logging.getLogger("alignment_engine.service")


class JobWorker:
    def __init__(self, state: ServiceState) -> None:
        self.state = state
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for number in range(self.state.settings.job_threads):
            name = f"{socket.gethostname()}:{os.getpid()}:{number}"
            thread = threading.Thread(
                target=self._loop, args=(name,), name=f"alignment-job-{number}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def wake(self) -> None:
        """A job was queued here: look now rather than at the next poll."""
        self._wake.set()

    def stop(self, wait_seconds: float = 5.0) -> None:
        """Stop claiming; a job under way is left to finish (or to be taken over when the
        process exits before it does)."""
        self._stopping.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout=wait_seconds)

    def _loop(self, worker: str) -> None:
        settings = self.state.settings
        while not self._stopping.is_set():
            try:
                job = self.state.store().claim_job(worker, stale_after=settings.job_stale_seconds)
            except AlignmentError as error:  # the database is down: try again later
                logger.warning("could not look for jobs: %s", error)
                job = None
            if job is None:
                self._wake.wait(settings.job_poll_seconds)
                self._wake.clear()
                continue
            self._run(job, worker)

    def _run(self, job: Job, worker: str) -> None:
        store = self.state.store()
        beat = _Heartbeat(self.state, job, worker)
        beat.start()
        try:
            run_id = run_job(store, job, beat.report)
        except JobLostError:
            logger.warning("job %s was taken over by another worker; dropped here", job.id)
            return
        except AlignmentError as error:
            self._finish(job, worker, error=error_body(error))
            return
        except Exception:
            logger.exception("job %s failed", job.id)
            self._finish(job, worker, error=error_body(AlignmentError("internal error")))
            return
        finally:
            beat.stop()
        self._finish(job, worker, run_id=run_id)

    def _finish(
        self,
        job: Job,
        worker: str,
        *,
        run_id: str | None = None,
        error: Mapping[str, Any] | None = None,
    ) -> None:
        try:
            if not self.state.store().finish_job(job.id, worker, run_id=run_id, error=error):
                logger.warning("job %s was taken over before it finished here", job.id)
        except AlignmentError as failure:  # stays running; another worker takes it over
            logger.warning("could not record the outcome of job %s: %s", job.id, failure)


class _Heartbeat:
    """Tells the database, every third of the stale time, that this worker still holds the job
    (with the progress reported last); ``report`` also says it at once."""

    def __init__(self, state: ServiceState, job: Job, worker: str) -> None:
        self.state = state
        self.job = job
        self.worker = worker
        self.progress: Mapping[str, Any] = {"stage": "started"}
        self.held = True
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="alignment-job-heartbeat")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def report(self, progress: Mapping[str, Any]) -> bool:
        self.progress = {**progress, "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        return self._tell()

    def _tell(self) -> bool:
        try:
            self.held = self.state.store().job_heartbeat(self.job.id, self.worker, self.progress)
        except AlignmentError as error:  # a blip: the next beat tries again
            logger.warning("could not report on job %s: %s", self.job.id, error)
        return self.held

    def _beat(self) -> None:
        interval = self.state.settings.job_stale_seconds / 3
        while not self._done.wait(interval):
            if not self._tell():
                return
