"""While machines run, automatic collection is off and machine loops collect when a full collection
is due; the previous thresholds come back when the last machine stops."""

import gc
import time
import weakref

from polyvm.core import gc_policy
from polyvm.core.gc_policy import collect_when_due, machine_starts, machine_stops


class Node:
    def __init__(self) -> None:
        self.other = self  # a cycle: once unreferenced, only the collector frees it


def test_automatic_collection_off_while_machines_run_and_restored_after():
    before = gc.get_threshold()
    machine_starts()
    assert gc.get_threshold()[0] == 0 and gc.isenabled()
    machine_starts()
    machine_stops()
    assert gc.get_threshold()[0] == 0, "another machine still runs"
    machine_stops()
    assert gc.get_threshold() == before


def test_a_full_collection_runs_only_when_due(monkeypatch):
    machine_starts()
    try:
        garbage = weakref.ref(Node())
        collect_when_due()
        assert garbage() is not None, "not due yet"
        monkeypatch.setattr(gc_policy, "_next_full", 0.0)
        collect_when_due()
        assert garbage() is None
        assert gc_policy._next_full - time.monotonic() > gc_policy.MIN_INTERVAL - 1, "next one not sooner"
    finally:
        machine_stops()


def test_nothing_is_collected_when_no_machine_runs(monkeypatch):
    monkeypatch.setattr(gc_policy, "_next_full", 0.0)
    gc.disable()
    try:
        garbage = weakref.ref(Node())
        collect_when_due()
        assert garbage() is not None
    finally:
        gc.enable()
