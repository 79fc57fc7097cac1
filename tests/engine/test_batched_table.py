"""BatchedTable: full batches are written by a writer thread in the order they filled, flush waits
for all of them, and a batch that fails to write is dropped without stopping later ones."""

from polyvm.devtools.batched_table import BatchedTable

CREATE = "CREATE TABLE IF NOT EXISTS kv (k INTEGER PRIMARY KEY, v INTEGER)"
REPLACE = "INSERT OR REPLACE INTO kv VALUES (?, ?)"


def test_batches_are_written_in_order_and_flush_waits(tmp_path):
    table = BatchedTable(tmp_path / "t.sqlite3", CREATE, REPLACE, batch=4)
    for n in range(10):
        table.add((n % 3, n))
    table.flush()
    other = BatchedTable(tmp_path / "t.sqlite3", CREATE, REPLACE)
    assert other.query("SELECT k, v FROM kv ORDER BY k") == [(0, 9), (1, 7), (2, 8)]


def test_a_failed_batch_is_dropped_and_later_ones_are_written(tmp_path):
    table = BatchedTable(tmp_path / "t.sqlite3", CREATE, "INSERT INTO kv VALUES (?, ?)", batch=2)
    table.add((1, 1))
    table.add((1, 2))
    table.add((2, 3))
    table.add((3, 4))
    table.flush()
    assert table.query("SELECT k, v FROM kv ORDER BY k") == [(2, 3), (3, 4)]
