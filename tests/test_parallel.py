"""plugnn.parallel: row-parallel element-wise work within the thread budget."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from plugnn import parallel, threads


@pytest.mark.parametrize(("n_rows", "workers"), [(1, 4), (7, 2), (10, 3), (1000, 2)])
def test_shares_cover_the_rows_in_order_without_empty_parts(n_rows, workers):
    parts = parallel.shares(n_rows, workers)
    assert [i for part in parts for i in part] == list(range(n_rows))
    assert len(parts) == min(n_rows, workers) and all(len(part) > 0 for part in parts)
    assert max(map(len, parts)) - min(map(len, parts)) <= 1


@pytest.mark.parametrize("budget", [1, 2, 3])
def test_for_rows_visits_every_row_once_in_blocks_on_the_budgets_threads(budget, monkeypatch):
    monkeypatch.setattr(parallel, "BLOCK_BYTES", 64)
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    seen = np.zeros(101, dtype=int)
    blocks, names, tasks = [], set(), []
    lock = threading.Lock()
    run_all = parallel.run_all
    monkeypatch.setattr(parallel, "run_all", lambda todo: (tasks.append(len(todo)), run_all(todo)))

    def work(rows: slice) -> None:
        with lock:
            seen[rows] += 1
            blocks.append(rows.stop - rows.start)
            names.add(threading.current_thread().name)

    with threads.thread_budget(budget):
        parallel.for_rows(work, 101, row_bytes=16)  # 4 rows a block
    assert (seen == 1).all()
    assert max(blocks) == 4
    assert tasks == [budget]
    assert 1 <= len(names) <= budget  # a pool thread may take two shares one after the other


def test_small_work_stays_on_the_calling_thread():
    names = []
    with threads.thread_budget(2):
        parallel.for_rows(lambda rows: names.append(threading.current_thread().name), 10, row_bytes=8)
    assert names == [threading.current_thread().name]


def test_an_error_in_any_share_is_raised_after_all_shares_end(monkeypatch):
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    done = []

    def work(rows: slice) -> None:
        if rows.start == 0:
            done.append(rows.start)
        else:
            raise ValueError(f"bad rows from {rows.start}")

    with threads.thread_budget(2), pytest.raises(ValueError, match="bad rows from 5"):
        parallel.for_rows(work, 10, row_bytes=1 << 20)
    assert done == [0]
