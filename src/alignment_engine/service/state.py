"""What one app holds while it serves: settings, the store, the token cache, worker threads.

The store is opened on first use rather than at import, so a database that is down at start
makes ``/readyz`` fail (and recover) instead of killing the process.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from alignment_engine.service.auth import TokenCache
from alignment_engine.service.observability import Metrics
from alignment_engine.service.settings import ServiceSettings
from alignment_engine.storage import GroupCommit, Store

__all__ = ["ServiceState"]


@dataclass
class ServiceState:
    settings: ServiceSettings
    metrics: Metrics = field(default_factory=Metrics)
    _store: Store | None = None
    _store_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _commits: GroupCommit | None = None
    _decisions: ThreadPoolExecutor | None = None
    _optimisations: ThreadPoolExecutor | None = None

    def __post_init__(self) -> None:
        self.tokens = TokenCache(self._verify_token, self.settings.token_cache_seconds)

    # -- storage ----------------------------------------------------------------------------

    def store(self) -> Store:
        """The store, opened on first use (blocking: call from a worker thread)."""
        if self._store is not None:
            return self._store
        with self._store_lock:
            if self._store is None:
                self._store = Store.open(self.settings.db_url)
            return self._store

    def commits(self) -> GroupCommit:
        """Where runs are recorded: concurrent calls' runs share one transaction."""
        store = self.store()
        with self._store_lock:
            if self._commits is None or self._commits.store is not store:
                self._commits = GroupCommit(store, on_batch=self.metrics.commit_batches.observe)
            return self._commits

    def _verify_token(self, token: str) -> tuple[str, str] | None:
        found = self.store().verify_token(token)
        return None if found is None else (found.name, found.role)

    # -- worker threads ---------------------------------------------------------------------

    def executor(self, heavy: bool) -> ThreadPoolExecutor:
        """Threads for check and score, or (``heavy``) for optimise and scenario runs."""
        with self._store_lock:
            if self._decisions is None:
                self._decisions = ThreadPoolExecutor(
                    self.settings.decision_threads, thread_name_prefix="alignment-decision"
                )
            if self._optimisations is None:
                self._optimisations = ThreadPoolExecutor(
                    self.settings.optimise_threads, thread_name_prefix="alignment-optimise"
                )
            return self._optimisations if heavy else self._decisions

    def stop(self) -> None:
        """Release the threads and the store (the app's lifespan calls this at shutdown)."""
        with self._store_lock:
            for executor in (self._decisions, self._optimisations):
                if executor is not None:
                    # Abandoned (timed-out) work is not waited for; queued work never starts.
                    executor.shutdown(wait=False, cancel_futures=True)
            self._decisions = self._optimisations = None
            if self._store is not None:
                self._store.close()
                self._store = None
            self._commits = None
