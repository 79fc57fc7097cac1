"""Running machines raise the collector's thresholds and put the old ones back when the last stops."""

import gc

from polyvm.core.gc_policy import RUNNING_THRESHOLDS, running_machine_gc


def test_thresholds_raised_while_machines_run_and_restored_after():
    before = gc.get_threshold()
    with running_machine_gc():
        assert gc.get_threshold() == RUNNING_THRESHOLDS
        with running_machine_gc():
            assert gc.get_threshold() == RUNNING_THRESHOLDS
        assert gc.get_threshold() == RUNNING_THRESHOLDS, "another machine still runs"
    assert gc.get_threshold() == before
