"""Pausing Python's cyclic garbage collector around work that builds many long-lived objects.

Loading a 40,000-KPI plan or checking it creates hundreds of thousands of objects that all stay
alive until the work ends (nodes, facts, matches, findings); the collector would walk the whole
heap again and again and free nothing (2.7x the time of loading a large plan, a third of a
check). Reference counting still frees everything that is not in a cycle. Pauses nest and may
overlap across threads: the collector runs again when the last one ends, if it ran before the
first.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

__all__ = ["collector_paused"]

_lock = threading.Lock()
_pauses = 0
_was_enabled = False


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    global _pauses, _was_enabled
    with _lock:
        if _pauses == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _was_enabled:
                gc.enable()
