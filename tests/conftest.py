"""Shared fixtures. Plugin failures are fatal in tests; every test gets a fresh registry.

The session records which hooks and registered components the tests exercise (``exercised.py``);
a full run fails at its end if any was left out (:func:`exercised.check`), after the xdist workers'
records are merged.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

os.environ["PLUGNN_STRICT_PLUGINS"] = "1"
# One thread for training in every test process and the plugnn processes they start, unless a test
# sets its own: OpenBLAS 0.3.31's Haswell sgemm gives other last bits with 2 threads than with 1 for
# some shapes (32x100 @ 100x200), so the stored reference runs (made with 1) hold only at that count,
# and an automatic budget would make them depend on the machine's load when each run starts (a run
# keeps the BLAS count it started with, so only its start matters; docs/performance.md).
os.environ.setdefault("PLUGNN_THREADS", "1")

import exercised

import plugnn
import plugnn.kernels

exercised.install()
plugnn.kernels.BACKGROUND = False  # every kernel call runs the chosen path (numba compiles before it returns)


def pytest_deselected(items: list[pytest.Item]) -> None:
    """Remember that some tests were left out (-k, -m, --deselect, --lf): not a full run."""
    if items:
        items[0].config.stash[exercised.DESELECTED] = True


MAX_TEST_WORKERS = 8
"""More worker processes than this gain little: each imports numpy, scikit-learn and matplotlib."""


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: the cores this process may run on (its affinity, as plugnn's thread budget counts
    them), not psutil's count of the machine's physical cores, at most :data:`MAX_TEST_WORKERS`."""
    return min(MAX_TEST_WORKERS, plugnn.threads.available_cores())


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """pytest-xdist's controller: merge what a finished worker exercised."""
    report = getattr(node, "workeroutput", {}).get(exercised.OUTPUT)
    if report is not None:
        exercised.merge_worker(node.config, report)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """A worker sends what it exercised to the controller; the controller (or a one-process run) checks."""
    output = getattr(session.config, "workeroutput", None)
    if output is not None:
        output[exercised.OUTPUT] = exercised.worker_report(session.config)
    else:
        exercised.check(session)


@pytest.fixture
def registry() -> plugnn.Registry:
    """A fresh registry of plugnn's own plugins only, whatever else is installed."""
    return plugnn.load_registry(strict=True, third_party=False)


@pytest.fixture(scope="session")
def digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """sklearn's bundled 8x8 digits scaled to [0, 1], float32, a fixed stratified 75/25 split."""
    data = load_digits()
    x = (data.data / 16.0).astype(np.float32)
    return tuple(train_test_split(x, data.target, test_size=0.25, stratify=data.target, random_state=0))


@pytest.fixture
def train_on_digits(registry, digits) -> Callable[..., plugnn.TrainResult]:
    """``train_on_digits(network, train_spec)``: :func:`plugnn.train` on the ``digits`` training split,
    scored on its test split each epoch, with the fresh ``registry``."""
    x_train, x_test, y_train, y_test = digits

    def train(network: plugnn.NetworkSpec, train_spec: plugnn.TrainSpec) -> plugnn.TrainResult:
        return plugnn.train(network, x_train, y_train, train_spec, test=(x_test, y_test), registry=registry)

    return train


@pytest.fixture(scope="session")
def quickstart_run(tmp_path_factory) -> Callable[[Path], Path]:
    """``quickstart_run(dest)``: a copy at ``dest`` of a finished 2-epoch quickstart run folder.

    The run is trained once per session (``plugnn.run("quickstart", epochs=2)``); each test gets its
    own copy to read, damage or continue.
    """
    made = tmp_path_factory.mktemp("quickstart") / "run"
    plugnn.run("quickstart", epochs=2, out=made, quiet=True)

    def copy(dest: Path) -> Path:
        return Path(shutil.copytree(made, dest))

    return copy
