"""How often Python's cyclic garbage collector runs while machines run.

A running machine allocates millions of small long-lived objects (translations, code objects, the
JIT's handles); with CPython's default thresholds (700, 10, 10) the collector rescans them all
again and again: a Linux boot spent ~2 of its 9 seconds in collections (benchmarks/boot.py,
warm cache: 8.9 s with the defaults, 6.5 s with RUNNING_THRESHOLDS). While at least one machine
runs, the thresholds are raised; the previous ones come back when the last one stops.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

RUNNING_THRESHOLDS = (50_000, 20, 100)

_lock = threading.Lock()
_running = 0
_saved: tuple[int, int, int] | None = None


@contextlib.contextmanager
def running_machine_gc() -> Iterator[None]:
    """Use RUNNING_THRESHOLDS inside the block (re-entrant, for several machines at once)."""
    global _running, _saved
    with _lock:
        if _running == 0:
            _saved = gc.get_threshold()
            gc.set_threshold(*RUNNING_THRESHOLDS)
        _running += 1
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if _running == 0 and _saved is not None:
                gc.set_threshold(*_saved)
