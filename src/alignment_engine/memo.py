"""Results derived from immutable documents, remembered per document object.

The service keeps one validated object per distinct plan or policy (its document cache hands the
same object to every request that sends the same content), so what is derived from a document
(its canonical text and hash, a scoring catalogue, the payroll findings) need be worked out
once per object, not once per request. Documents are frozen models, so a result keyed by the
objects themselves stays true; the cache holds the objects, so an id is never reused while its
entry lives, and it is bounded (least recently used out first).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["ObjectMemo"]

T = TypeVar("T")


class ObjectMemo(Generic[T]):
    """``memo.get(objects, extra, compute)``: ``compute()`` once per tuple of objects (by
    identity) and hashable ``extra``, at most ``size`` remembered; thread-safe."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[Hashable, ...], tuple[tuple[object, ...], T]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()

    def get(self, objects: tuple[object, ...], extra: Hashable, compute: Callable[[], T]) -> T:
        key = (*(id(o) for o in objects), extra)
        with self._lock:
            found = self._entries.get(key)
            if found is not None and all(a is b for a, b in zip(found[0], objects, strict=True)):
                self._entries.move_to_end(key)
                return found[1]
        value = compute()
        with self._lock:
            self._entries[key] = (objects, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
