"""Where trials run: joblib worker processes on this machine, or a Dask cluster.

A backend is entered before any trial starts (so an unreachable scheduler is an error up front),
then runs plain-data tasks with :func:`plugnn.sweeps.trial.run_trial` and hands each outcome
(plain data) to a callback as it arrives. A worker process that dies has its trials run once more;
they resume from their checkpoints, and their rows say ``retried``.

- ``local``: joblib's loky processes, ``workers`` at a time, each trial with ``budget // workers``
  threads of this machine's budget; with one worker the trials run in this process, one after another.
- ``dask``: ``dask.distributed``: a ``LocalCluster`` of ``workers`` single-threaded processes on the
  loopback interface, or an existing cluster at ``scheduler`` (``tcp://host:8786``). Each trial gets
  its machine's budget (``PLUGNN_THREADS`` there, else its cores) divided by the Dask worker threads
  on that machine. The optional extra ``plugnn[dask]`` installs it.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import as_completed
from typing import Any
from urllib.parse import urlsplit

from plugnn.sweeps.spec import SweepError
from plugnn.sweeps.trial import run_trial
from plugnn.threads import available_cores, env_threads

Task = dict[str, Any]
Report = Callable[[dict[str, Any]], None]
Note = Callable[[str], None]
BACKENDS = ("local", "dask")


class Local:
    """Trials in ``workers`` loky processes of this machine (joblib's process pool), or one after another here.

    The sweep owns its pool (not joblib's shared, reusable one). It is closed by killing its idle
    workers once the results are in: a clean exit of each worker would cost about half a second and
    gains nothing, since every trial's files are written and closed before its result is sent.
    """

    def __init__(self, workers: int, budget: int) -> None:
        self.workers = workers
        self.threads = max(1, budget // workers)
        self.pool: Any = None

    @contextlib.contextmanager
    def connected(self) -> Iterator[Local]:
        """The backend with its pool (several workers), which is shut down, killing its workers, on leaving."""
        if self.workers > 1:
            self.pool = _loky_pool(self.workers)
        try:
            yield self
        finally:
            self._close()

    def _close(self) -> None:
        """Shut the pool down, killing its workers (every result they sent is complete)."""
        if self.pool is not None:
            self.pool.shutdown(wait=True, kill_workers=True)
            self.pool = None

    def run(self, tasks: list[Task], report: Report, note: Note) -> None:
        from joblib.externals.loky.process_executor import TerminatedWorkerError

        pending = [{**task, "threads": self.threads} for task in tasks]
        if self.workers == 1:
            for task in pending:
                report({**run_trial(task), "retried": False})
            return
        if self.pool is None:
            raise RuntimeError("Local.run with several workers runs inside Local.connected(), which starts the pool")
        retried = False
        while True:
            finished: set[str] = set()
            try:
                for future in as_completed([self.pool.submit(run_trial, task) for task in pending]):
                    outcome = future.result()
                    finished.add(outcome["name"])
                    report({**outcome, "retried": retried})
                return
            except TerminatedWorkerError as exc:
                pending = [task for task in pending if task["name"] not in finished]
                self._close()
                if retried:
                    raise SweepError(f"a worker process died again; {len(pending)} trials left unfinished") from exc
                note(f"a worker process died; running its {len(pending)} unfinished trials once more")
                self.pool = _loky_pool(self.workers)
                retried = True

    def call(self, function: Callable[..., None], *args: Any) -> None:
        """``function(*args)`` in a worker of the pool (whose trials usually loaded the plotting libraries
        already), else here; here too when the pool has broken down (a dead worker must not cost the plot)."""
        from concurrent.futures import BrokenExecutor

        if self.pool is not None:
            try:
                self.pool.submit(function, *args).result()
                return
            except BrokenExecutor:
                pass
        function(*args)


def _loky_pool(workers: int) -> Any:
    """A fresh pool of ``workers`` loky processes."""
    from joblib.externals.loky import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=workers)


class Dask:
    """Trials on a Dask cluster: a ``LocalCluster`` of ``workers`` processes, or the one at ``scheduler``."""

    def __init__(self, workers: int, scheduler: str | None, timeout: float, budget: int | None) -> None:
        self.workers, self.scheduler, self.timeout, self.budget = workers, scheduler, timeout, budget

    @contextlib.contextmanager
    def connected(self) -> Iterator[Dask]:
        try:
            import dask
            import distributed
        except ImportError:
            raise SweepError(
                "the dask backend needs dask.distributed, an optional extra: pip install 'plugnn[dask]'"
            ) from None
        # A worker that dies fails its task at once (no silent retries on a LocalCluster we start), so
        # plugnn retries it once itself and reports it; an existing cluster keeps its own setting.
        with dask.config.set({"distributed.scheduler.allowed-failures": 0}), contextlib.ExitStack() as stack:
            if self.scheduler is None:
                cluster = stack.enter_context(
                    distributed.LocalCluster(
                        n_workers=self.workers,
                        threads_per_worker=1,
                        processes=True,
                        host="127.0.0.1",
                        dashboard_address=None,
                    )
                )
                address = cluster.scheduler_address
            else:
                address = self.scheduler
            try:
                self.client = stack.enter_context(distributed.Client(address, timeout=self.timeout))
            except (OSError, TimeoutError) as exc:
                raise SweepError(
                    f"cannot reach the Dask scheduler at {address} within {self.timeout:g} s ({exc}); "
                    f"start one with `dask scheduler` and workers with `dask worker {address}`"
                ) from None
            yield self

    def run(self, tasks: list[Task], report: Report, note: Note) -> None:
        import distributed

        client = self.client
        slots: dict[str, int] = {}
        for info in client.scheduler_info()["workers"].values():
            host = info.get("host") or urlsplit(info["address"]).hostname
            slots[host] = slots.get(host, 0) + int(info["nthreads"])
        if not slots:
            raise SweepError(
                f"the Dask cluster at {client.scheduler.address} has no workers; start some with dask worker"
            )
        run_id = uuid.uuid4().hex[:8]

        def submit(task: Task, attempt: int) -> Any:
            key = f"plugnn-{task['name']}-{run_id}-{attempt}"
            return client.submit(_dask_trial, task, slots, self.budget, key=key, pure=False)

        futures = {submit(task, 1): (task, 1) for task in tasks}
        pending = distributed.as_completed(list(futures))
        for future in pending:
            task, attempt = futures.pop(future)
            try:
                outcome = future.result()
            except distributed.KilledWorker as exc:
                if attempt == 2:
                    report(
                        {
                            "name": task["name"],
                            "status": "failed",
                            "retried": True,
                            "error": f"worker died twice: {exc}",
                        }
                    )
                    continue
                note(f"{task['name']}: its worker died; retrying it once (it resumes from its checkpoint)")
                retry = submit(task, 2)
                futures[retry] = (task, 2)
                pending.add(retry)
                continue
            report({**outcome, "retried": attempt == 2})

    def call(self, function: Callable[..., None], *args: Any) -> None:
        """``function(*args)`` here (the cluster's workers may not share this machine's files)."""
        function(*args)


def _dask_trial(task: Task, slots: dict[str, int], budget: int | None) -> dict[str, Any]:
    """:func:`run_trial` on a Dask worker, with this machine's budget shared by its worker threads."""
    from distributed import get_worker

    host = urlsplit(get_worker().address).hostname or ""
    machine = budget or env_threads() or available_cores()
    return run_trial({**task, "threads": max(1, machine // slots.get(host, 1))})
