"""Checkpoints: exact resume (after an interrupt, Ctrl-C or SIGKILL), and damaged files refused."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from fixtures.regenerate import load as stored
from fixtures.regenerate import outcome
from interrupt_at import InterruptAt

import plugnn
from plugnn.checkpoint import load_checkpoint
from plugnn.cli import main
from plugnn.npzfile import CorruptFileError

EPOCHS = 6


def test_resume_after_an_interrupt_mid_epoch_is_bit_identical(tmp_path) -> None:
    registry = plugnn.load_registry(strict=True, third_party=False, extra_plugins=[InterruptAt(3, 5)])
    with pytest.raises(
        plugnn.TrainingInterrupted,
        match=r"interrupted at epoch 3, batch 6 of 43; its state is saved "
        r"in .*checkpoint.npz\. Resume with: plugnn run --resume .*run$",
    ):
        plugnn.run("quickstart", epochs=EPOCHS, out=tmp_path / "run", quiet=True, registry=registry)
    checkpoint = load_checkpoint(tmp_path / "run" / "checkpoint.npz", plugnn.default_registry())
    assert (checkpoint.resume.epoch, checkpoint.resume.position) == (3, 6 * 32)
    result = plugnn.resume(tmp_path / "run", quiet=True)
    assert outcome(tmp_path / "run") == stored(f"quickstart-{EPOCHS}")  # the uninterrupted run's
    assert len(result.history.records) == EPOCHS


def test_resuming_a_finished_run_is_refused(tmp_path, capsys, quickstart_run) -> None:
    assert main(["run", "--resume", str(quickstart_run(tmp_path / "run"))]) == 1
    assert "already finished its 2 epochs; nothing to resume" in capsys.readouterr().err


def test_resume_takes_no_overrides(tmp_path, capsys) -> None:
    assert main(["run", "--resume", str(tmp_path), "--epochs", "3"]) == 1
    assert "--resume continues a run exactly as it was; it takes no --epochs" in capsys.readouterr().err


@pytest.fixture
def checkpoint_file(tmp_path, quickstart_run) -> Path:
    return quickstart_run(tmp_path / "run") / "checkpoint.npz"


def rewrite_member(path: Path, name: str, array: np.ndarray, allow_pickle: bool = False) -> None:
    """Replace one array of an .npz in place, keeping the others (and the old checksum)."""
    with np.load(path) as data:
        arrays = {key: data[key] for key in data.files}
    arrays[name] = array
    with path.open("wb") as stream:
        np.savez(stream, **arrays, allow_pickle=allow_pickle) if allow_pickle else np.savez(stream, **arrays)


def flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (
            lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
            "not a readable .npz file, truncated or damaged",
        ),
        (flip_byte, r"(not a readable .npz file|checksum mismatch)"),
        (
            lambda p: rewrite_member(p, "params", np.zeros(28_710, np.float32)),
            "checksum mismatch, the file was altered",
        ),
        (
            lambda p: rewrite_member(p, "__version__", np.array(99)),
            r"written by a newer plugnn \(format version 99; this plugnn reads version 1\)",
        ),
        (lambda p: rewrite_member(p, "__kind__", np.array("model")), "not a plugnn checkpoint file"),
        (
            lambda p: rewrite_member(p, "history", np.array([{"epoch": [1]}], dtype=object)),
            "holds pickled objects, which plugnn never loads",
        ),
        (lambda p: p.write_text("not a zip"), "not a readable .npz file"),
    ],
    ids=["truncated", "flipped-byte", "altered", "wrong-version", "wrong-kind", "pickled-object", "garbage"],
)
def test_damaged_checkpoints_are_refused(checkpoint_file, capsys, damage, message) -> None:
    damage(checkpoint_file)
    with pytest.raises(CorruptFileError, match=message):
        load_checkpoint(checkpoint_file, plugnn.default_registry())
    assert main(["run", "--resume", str(checkpoint_file.parent)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("plugnn: error: ") and "Traceback" not in err


def test_pickled_object_never_runs(tmp_path, checkpoint_file) -> None:
    canary = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (canary,))

    rewrite_member(checkpoint_file, "spec", np.array([Payload()], dtype=object), allow_pickle=True)
    with pytest.raises(CorruptFileError, match="holds pickled objects"):
        load_checkpoint(checkpoint_file, plugnn.default_registry())
    assert not canary.exists()


LONG = 40
"""Epochs of the subprocess runs: long enough (a few seconds) to be stopped part-way; the
uninterrupted outcome is stored in tests/fixtures/quickstart-40.json (see regenerate.py there)."""


def assert_matches_uninterrupted(run: Path) -> None:
    """The run ends exactly as the stored uninterrupted quickstart run of LONG epochs did."""
    assert outcome(run) == stored(f"quickstart-{LONG}")


def spawn(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "plugnn", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def wait_for(path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.01)


@pytest.mark.slow
def test_ctrl_c_saves_and_exits_cleanly_then_resumes_exactly(tmp_path) -> None:
    run = tmp_path / "run"
    process = spawn("run", "quickstart", "--epochs", str(LONG), "--quiet", "--out", str(run))
    wait_for(run / "checkpoint.npz")
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "plugnn: interrupted at epoch" in err and f"Resume with: plugnn run --resume {run}" in err
    assert "Traceback" not in err
    done = spawn("run", "--resume", str(run), "--quiet")
    assert done.wait(timeout=300) == 0, done.stderr.read()
    assert_matches_uninterrupted(run)


@pytest.mark.slow
def test_sigkill_at_any_moment_leaves_a_loadable_checkpoint_and_resume_is_exact(tmp_path) -> None:
    run = tmp_path / "run"
    process = spawn("run", "quickstart", "--epochs", str(LONG), "--quiet", "--out", str(run))
    rng = np.random.default_rng(0)
    kills = 0
    while True:
        wait_for(run / "checkpoint.npz")
        time.sleep(rng.uniform(0.0, 0.4))  # lands anywhere: mid-batch, mid-write, between files
        if process.poll() is not None:
            break
        process.send_signal(signal.SIGKILL)
        process.wait()
        kills += 1
        checkpoint = load_checkpoint(run / "checkpoint.npz", plugnn.default_registry())  # always whole
        assert checkpoint.resume.position == 0  # only epoch-end checkpoints on SIGKILL
        if kills == 4:
            process = spawn("run", "--resume", str(run), "--quiet")
            assert process.wait(timeout=300) == 0, process.stderr.read()
            break
        process = spawn("run", "--resume", str(run), "--quiet")
    assert kills >= 1
    assert not list(run.glob(".*.tmp"))  # temporaries of writes cut short are cleared on resume
    assert_matches_uninterrupted(run)
