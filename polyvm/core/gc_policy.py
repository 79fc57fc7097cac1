"""How Python's cyclic garbage collector runs while machines run.

A running machine allocates millions of small long-lived objects (translations, code objects, IR,
the JIT's handles) and next to no cyclic garbage: a cold Linux boot left 436 unreachable objects
among 1.6 million, a warm one none (benchmarks/boot.py). Generational collection still scans each
object it allocates at least twice: with CPython's default thresholds a warm boot spent ~2 of its 9
seconds in collections, and with raised thresholds still ~1 s of a 20.7 s cold boot and ~0.25 s of a
4.3 s warm one. So while at least one machine runs, automatic collection is off, and machine loops
call ``collect_when_due``: a full collection once the last one is 1/COST_SHARE times its duration
ago, and never sooner than MIN_INTERVAL. Cyclic garbage is then bounded by what accumulates in that
interval, and collecting takes at most ~1% of the running time. The previous thresholds come back
when the last machine stops.
"""

from __future__ import annotations

import gc
import threading
import time

COST_SHARE = 0.01
MIN_INTERVAL = 30.0
"""Seconds between full collections at least (a cold Linux boot, ~20 s, needs none)."""

_lock = threading.Lock()
_running = 0
_saved: tuple[int, int, int] | None = None
_next_full = 0.0


def machine_starts() -> None:
    """A machine starts running: automatic collection is off until the last one stops
    (``machine_stops``; several machines may run at once). It goes off before anything is
    allocated here: a collection due then would scan every object the machine's set-up made, ~40
    ms of a Linux board's run (benchmarks/boot.py)."""
    global _running, _saved, _next_full
    enabled = gc.isenabled()
    gc.disable()
    with _lock:
        if _running == 0:
            _saved = gc.get_threshold()
            gc.set_threshold(0)  # threshold 0: no automatic collections
            _next_full = time.monotonic() + MIN_INTERVAL
        _running += 1
    if enabled:
        gc.enable()


def machine_stops() -> None:
    """A machine stopped running: the thresholds come back after the last one."""
    global _running
    with _lock:
        _running -= 1
        if _running == 0 and _saved is not None:
            gc.set_threshold(*_saved)


def collect_when_due() -> None:
    """Run a full collection if machines run and one is due (cheap otherwise: machine loops call
    this between turns)."""
    global _next_full
    if time.monotonic() < _next_full:
        return
    with _lock:
        if _running == 0 or time.monotonic() < _next_full:
            return
        start = time.monotonic()
        gc.collect()
        took = time.monotonic() - start
        _next_full = time.monotonic() + max(MIN_INTERVAL, took / COST_SHARE)
