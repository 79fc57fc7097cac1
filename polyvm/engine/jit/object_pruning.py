"""Keeps the JIT's on-disk object cache from growing without bound.

Object files are named by content, so every code version and every guest adds files and none is
ever overwritten (this machine held 350,000 files, 1.5 GB, after a few days of development).
Loading an object from disk marks it used (its modification time, ``touch``); once a day per
cache folder a background thread deletes the objects (and bundles) unused for UNUSED_DAYS. A
deleted object that is needed again is simply compiled again.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from polyvm.engine.jit.object_bundles import FOLDER as BUNDLES
from polyvm.engine.jit.precompile import FOLDER as PRECOMPILE

UNUSED_DAYS = 14
MARKER = ".last-pruned"
"""File in the cache folder whose modification time says when it was last pruned."""
DAY = 24 * 3600


def touch(path: Path) -> None:
    """Mark an object file used now."""
    try:
        os.utime(path)
    except OSError:
        pass


def prune_daily(folder: Path) -> None:
    """Start pruning ``folder`` in a daemon thread unless that happened within the last day."""
    marker = folder / MARKER
    try:
        if time.time() - marker.stat().st_mtime < DAY:
            return
    except FileNotFoundError:
        pass
    marker.touch()
    threading.Thread(target=prune, args=(folder,), name="polyvm-jit-prune", daemon=True).start()


def prune(folder: Path, unused_days: float = UNUSED_DAYS) -> int:
    """Delete the object files of ``folder`` and its bundles (object_bundles.py) unused for
    ``unused_days``, and what bundlers and precompilers (precompile.py) that were killed left
    behind; how many files."""
    now = time.time()
    deleted = 0
    for place in (folder, folder / BUNDLES, folder / PRECOMPILE):
        try:
            entries = list(os.scandir(place))
        except FileNotFoundError:
            continue
        for entry in entries:
            if entry.name.endswith(".o"):
                oldest = now - unused_days * DAY
            elif place != folder and entry.name.endswith((".tmp", ".names", ".list")):
                oldest = now - DAY
            else:
                continue
            try:
                if entry.stat().st_mtime < oldest:
                    os.unlink(entry.path)
                    deleted += 1
            except FileNotFoundError:
                pass
    return deleted
