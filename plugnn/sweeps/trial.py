"""One trial, as a worker runs it: plain data in, plain data out.

The client sends each worker the trial's resolved spec as plain data (no arrays, no objects): the
worker loads the data itself from the spec's dataset and trains in an ordinary run folder, with
:func:`plugnn.run` and :func:`plugnn.resume`, inside its share of the thread budget. What comes back
is a plain dict (the history's columns, seconds, how the trial went), so any backend can carry it.

A trial's folder says how far it got: finished (every output written: skipped), a checkpoint
(interrupted: resumed, bit for bit), or neither (killed before its first checkpoint: started over).
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from plugnn.atomicfile import clean_stale
from plugnn.checkpoint import CHECKPOINT, load_checkpoint
from plugnn.data import load_dataset
from plugnn.errors import PlugnnError
from plugnn.fingerprint import FINGERPRINT
from plugnn.history import read_history
from plugnn.outputs import missing_outputs
from plugnn.plugins import default_registry
from plugnn.run import resume, run
from plugnn.runfolder import LOCK_NAME, RunFolderBusyError, locked, trial_of
from plugnn.serialize import structure
from plugnn.specs import RunSpec
from plugnn.threads import thread_budget

STARTED_FILES = ("spec.toml", FINGERPRINT, LOCK_NAME)
"""What a run folder holds before its first checkpoint (:func:`plugnn.run` writes the spec and its
fingerprint, then trains): a trial killed then is started over."""

BUSY_WAIT = 60.0
"""Seconds a trial waits for its folder's lock. When one worker dies, a pool's other processes may
still be ending (and holding their trial folders' locks) while the sweep already retries their trials."""


def run_trial(task: dict[str, Any]) -> dict[str, Any]:
    """Run (or resume, or skip) one trial; ``task`` holds ``name``, ``folder``, ``spec`` (plain data) and ``threads``.

    Returns ``{"name", "status" ("ran", "resumed", "done" or "failed"), "history" (columns),
    "wall_seconds", "threads", "host", "pid"}`` (``"error"`` instead of a history when it failed).
    """
    registry = default_registry()
    folder = Path(task["folder"])
    started = time.perf_counter()
    where = {"name": task["name"], "host": socket.gethostname(), "pid": os.getpid()}
    with thread_budget(task["threads"]) as threads, trial_of(folder.parent):
        try:
            state = _when_free(folder, lambda: _carry_on(folder, task, registry))
        except PlugnnError as exc:  # diverged, bad data...: this trial failed, the sweep goes on
            return {**where, "status": "failed", "error": str(exc), "threads": threads}
    return {
        **where,
        "status": {"done": "done", "resume": "resumed", "new": "ran"}[state],
        "history": read_history(folder / "history.json"),
        "wall_seconds": time.perf_counter() - started,
        "threads": threads,
    }


def _carry_on(folder: Path, task: dict[str, Any], registry: Any) -> str:
    """Skip, resume or start the trial as its folder's state says; returns that state."""
    state = _state(folder, registry)
    if state == "resume":
        resume(folder, quiet=True, registry=registry)
    elif state == "new":
        run(structure(task["spec"], RunSpec, registry), out=folder, quiet=True, registry=registry)
    return state


def _when_free(folder: Path, attempt: Callable[[], str]) -> str:
    """``attempt()``, tried again while another process holds ``folder`` (for :data:`BUSY_WAIT` seconds)."""
    deadline = time.monotonic() + BUSY_WAIT
    while True:
        try:
            return attempt()
        except RunFolderBusyError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.2)


def _state(folder: Path, registry: Any) -> str:
    """``"done"``, ``"resume"`` (a checkpoint to continue from) or ``"new"`` (nothing, or only a start)."""
    if not folder.is_dir():
        return "new"
    if (folder / CHECKPOINT).is_file():
        spec = load_checkpoint(folder / CHECKPOINT, registry).spec
        return "resume" if missing_outputs(folder, load_dataset(spec.data, registry)) else "done"
    with locked(folder):  # refuses if a live process still works in it
        clean_stale(folder)
        leftovers = [entry.name for entry in folder.iterdir() if entry.name not in STARTED_FILES]
        if leftovers:
            raise PlugnnError(f"{folder}: holds {', '.join(sorted(leftovers))} but no checkpoint; remove it to rerun")
        for name in STARTED_FILES:
            (folder / name).unlink(missing_ok=True)
    return "new"
