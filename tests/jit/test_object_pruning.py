"""The JIT's object cache drops objects unused for UNUSED_DAYS, at most once a day."""

import os
import threading
import time

from polyvm.engine.jit import object_pruning
from polyvm.engine.jit.object_pruning import DAY, MARKER, UNUSED_DAYS, prune, prune_daily, touch


def test_prune_deletes_only_objects_unused_for_long(tmp_path):
    old = time.time() - (UNUSED_DAYS + 1) * DAY
    for name in ("stale.o", "used.o", "recent.o", "index.sqlite3"):
        (tmp_path / name).write_bytes(b"x")
    for name in ("stale.o", "used.o", "index.sqlite3"):
        os.utime(tmp_path / name, (old, old))
    touch(tmp_path / "used.o")
    assert prune(tmp_path) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.sqlite3", "recent.o", "used.o"]


def test_prune_deletes_unused_bundles_and_what_killed_bundlers_left(tmp_path):
    old = time.time() - (UNUSED_DAYS + 1) * DAY
    bundles = tmp_path / "bundles"
    bundles.mkdir()
    for name in ("stale.o", "used.o", "1.tmp", "2.names"):
        (bundles / name).write_bytes(b"x")
        os.utime(bundles / name, (old, old))
    touch(bundles / "used.o")
    (bundles / "3.tmp").write_bytes(b"x")
    assert prune(tmp_path) == 3
    assert sorted(p.name for p in bundles.iterdir()) == ["3.tmp", "used.o"], "a bundler may be writing 3.tmp"


def test_prune_deletes_listings_a_killed_precompiler_left(tmp_path):
    listings = tmp_path / "precompile"
    listings.mkdir()
    old = time.time() - 2 * DAY
    for name in ("stale.list", "fresh.list"):
        (listings / name).write_bytes(b"x")
    os.utime(listings / "stale.list", (old, old))
    assert prune(tmp_path) == 1
    assert [p.name for p in listings.iterdir()] == ["fresh.list"], "a precompiler may still read it"


def test_pruning_runs_at_most_once_a_day(tmp_path, monkeypatch):
    runs = []
    monkeypatch.setattr(object_pruning, "prune", lambda folder: runs.append(folder))
    prune_daily(tmp_path)
    prune_daily(tmp_path)
    for thread in threading.enumerate():
        if thread.name == "polyvm-jit-prune":
            thread.join(5)
    assert runs == [tmp_path] and (tmp_path / MARKER).exists()
