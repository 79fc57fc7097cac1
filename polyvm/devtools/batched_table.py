"""One SQLite table in the polyvm cache that several processes share, written in batches.

The persistent caches of translations and of native-code names (translation_store.py,
llvm_backend.py) add tens of thousands of small rows per Linux boot; one transaction per row would
cost more than what they save, so rows wait in memory and are inserted ``batch`` at a time (and at
exit). A full batch is written by a writer thread, in the order batches filled: SQLite lets go of
the GIL while it works, so a cold Linux boot no longer stops ~0.5 s for these writes
(benchmarks/boot.py --cold-cache). Readers see the rows of their own process at once (the caches
keep them in memory), other processes' once written. The WAL journal lets processes read while
another writes; rows are only ever added (INSERT OR IGNORE: two processes may add the same row). A
write that fails is dropped: these tables are caches.
"""

from __future__ import annotations

import atexit
import contextlib
import queue
import sqlite3
import threading
from pathlib import Path


def sqlite_int(value: int) -> int:
    """An unsigned 64-bit value as SQLite stores integers (signed 64-bit)."""
    return value - (1 << 64) if value >> 63 else value


def versioned_path(folder: Path, stem: str, version: str) -> Path:
    """The database file of ``version`` for ``stem`` in ``folder``; files of other versions (whose
    rows no current code could use) are deleted."""
    for old in folder.glob(f"{stem}-*.sqlite3*"):
        if not old.name.startswith(f"{stem}-{version}."):
            old.unlink(missing_ok=True)
    return folder / f"{stem}-{version}.sqlite3"


class BatchedTable:
    """The table ``create`` makes in the database at ``path``; ``insert`` adds one row."""

    def __init__(self, path: Path, create: str, insert: str, batch: int = 512) -> None:
        self.insert = insert
        self.batch = batch
        self.pending: list[tuple] = []
        self._lock = threading.Lock()
        self._batches: queue.Queue[list[tuple]] = queue.Queue()
        self._writer: threading.Thread | None = None
        try:
            self._db = _open(path, create)
        except sqlite3.DatabaseError:
            # Not a database (a truncated or foreign file): it is only a cache, start it afresh.
            for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                stale.unlink(missing_ok=True)
            self._db = _open(path, create)
        atexit.register(self.flush)

    def query(self, sql: str, parameters: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, parameters).fetchall()

    def add(self, row: tuple) -> None:
        with self._lock:
            self.pending.append(row)
            if len(self.pending) >= self.batch:
                self._write_later()

    def flush(self) -> None:
        """Write the rows still waiting, and wait until every batch is written."""
        with self._lock:
            if self.pending:
                self._write_later()
        self._batches.join()

    def _write_later(self) -> None:
        """Hand the pending rows to the writer thread (the caller holds the lock)."""
        rows, self.pending = self.pending, []
        if self._writer is None:
            self._writer = threading.Thread(target=self._write_batches, name="polyvm-cache-writer",
                                            daemon=True)
            self._writer.start()
        self._batches.put(rows)

    def _write_batches(self) -> None:
        while True:
            rows = self._batches.get()
            with self._lock:
                try:
                    self._db.execute("BEGIN")
                    self._db.executemany(self.insert, rows)
                    self._db.execute("COMMIT")
                except Exception:  # a cache write that fails is dropped, never fatal
                    with contextlib.suppress(sqlite3.Error):
                        self._db.execute("ROLLBACK")
            self._batches.task_done()


def _open(path: Path, create: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(create)
    except sqlite3.DatabaseError:
        db.close()
        raise
    return db
