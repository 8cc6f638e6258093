"""Run-folder locks: held while a process works in a folder, gone when it is done, never held twice."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest

from plugnn import runfolder
from plugnn.runfolder import LOCK_NAME, RunFolderBusyError, locked


def test_a_crashed_runs_lock_file_is_taken_over_and_a_live_one_refuses(tmp_path) -> None:
    (tmp_path / LOCK_NAME).write_text("99999999\n")  # left by a killed process: no lock held on it
    with locked(tmp_path):
        assert (tmp_path / LOCK_NAME).read_text() == f"{os.getpid()}\n"
        with pytest.raises(RunFolderBusyError, match=rf"pid {os.getpid()}"), locked(tmp_path):
            pass
    assert not (tmp_path / LOCK_NAME).exists()


def test_a_lock_on_a_file_its_holder_removed_is_let_go_and_taken_again(tmp_path, monkeypatch) -> None:
    # Another process opened the lock file, then its holder ended and removed it, then the other
    # process got its lock: on a file no longer in the folder. It must try the name again.
    flock = fcntl.flock
    calls: list[int] = []

    def holder_leaves_first(handle: int, operation: int) -> None:
        if not calls:
            os.unlink(tmp_path / LOCK_NAME)  # the holder's exit, between our open and our lock
        calls.append(handle)
        flock(handle, operation)

    monkeypatch.setattr(runfolder.fcntl, "flock", holder_leaves_first)
    with locked(tmp_path):
        assert len(calls) == 2  # the first lock was on a removed file, the second on the folder's own
        held = os.stat(tmp_path / LOCK_NAME)
        assert (tmp_path / LOCK_NAME).read_text() == f"{os.getpid()}\n" and held.st_nlink == 1
    assert not (tmp_path / LOCK_NAME).exists()


def test_a_folder_is_not_left_locked_by_a_failed_claim(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), runfolder.claim_new(tmp_path / "new", "x"):
        raise RuntimeError("failed before writing anything")
    assert not (tmp_path / "new").exists()
    (tmp_path / "kept").mkdir()
    with pytest.raises(RuntimeError), runfolder.claim_new(tmp_path / "kept", "x") as folder:
        (folder / "spec.toml").write_text("")
        raise RuntimeError("failed after writing")
    assert sorted(p.name for p in (tmp_path / "kept").iterdir()) == ["spec.toml"]
