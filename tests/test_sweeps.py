"""plugnn sweep: the documented first form on both backends, resuming, a killed worker, bad input."""

from __future__ import annotations

import csv
import json
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

import plugnn
from plugnn.cli import main
from plugnn.sweeps import SweepError, SweepSpec
from plugnn.sweeps.spec import grid_values

FIRST_FORM = ["sweep", "quickstart", "--grid", "network.optimizer.lr=0.001,0.003", "--seeds", "2", "--workers", "2"]
SMALL = ["--set", "train.epochs=1", "--quiet"]


def rows(folder: Path) -> list[dict[str, str]]:
    with (folder / "results.csv").open() as handle:
        return list(csv.DictReader(handle))


def test_grid_values_and_trial_order():
    assert grid_values("0.001,0.003") == [0.001, 0.003]
    assert grid_values([1, 2]) == [1, 2]
    assert grid_values("digits,fashion-mnist") == ["digits", "fashion-mnist"]
    assert grid_values('{type="sgd"},{type="adam"}') == [{"type": "sgd"}, {"type": "adam"}]
    assert grid_values("") == []
    spec = SweepSpec(
        recipe="quickstart",
        grid={"train.batch_size": [16, 32]},
        random={"network.optimizer.lr": {"log_uniform": [1e-4, 1e-2]}, "network.layers[0].units": {"choice": [8, 16]}},
        samples=2,
        seeds=[3, 4],
    )
    trials = spec.trials()
    assert [t.name for t in trials] == [f"trial-{i:03d}" for i in range(8)]
    assert [(t.fields["train.batch_size"], t.seed) for t in trials] == [(16, 3), (16, 4)] * 2 + [(32, 3), (32, 4)] * 2
    lrs = [t.fields["network.optimizer.lr"] for t in trials]
    assert lrs[0] == lrs[1] and lrs[0] != lrs[2]  # seeds repeat a draw, draws differ
    assert all(1e-4 <= lr <= 1e-2 for lr in lrs) and {t.fields["network.layers[0].units"] for t in trials} <= {8, 16}
    assert spec.trials() == trials  # the same draws every time: a rerun finds its trials


def test_sweep_file(tmp_path, registry):
    path = tmp_path / "lr.toml"
    path.write_text(
        'recipe = "quickstart"\nseeds = 2\n\n[set]\n"train.epochs" = 1\n\n'
        '[grid]\n"network.optimizer.lr" = [0.001, 0.01]\n'
    )
    from plugnn.sweeps.spec import is_sweep_file, load_sweep_file

    assert is_sweep_file(path)
    spec = load_sweep_file(path)
    assert spec.grid == {"network.optimizer.lr": (0.001, 0.01)} and spec.seeds == (0, 1)
    assert spec.overrides == {"train.epochs": 1}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--grid", "network.optimizer.lrr=0.1"], "unknown key 'lrr' (did you mean 'lr'?)"),
        (["--grid", "network.optimizer.lr="], "sweep grid network.optimizer.lr: no values"),
        (["--grid", "network.optimizer.lr=0.1,fast"], "network.optimizer.lr: expected float, got str 'fast'"),
        (["--grid", "train.epochs=1.5"], "train.epochs: expected int, got float 1.5"),
        (["--random", "network.optimizer.lr={log_uniform=[0,1]}", "--samples", "2"], "log_uniform needs low > 0"),
        (["--random", "network.optimizer.lr={normal=[0,1]}", "--samples", "2"], "expected one of {uniform"),
        (["--scheduler", "tcp://127.0.0.1:1"], "a scheduler address needs the dask backend"),
    ],
)
def test_bad_input_is_one_line_before_any_trial(tmp_path, capsys, arguments, message):
    out = tmp_path / "sweep"
    assert main(["sweep", "quickstart", *arguments, "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("plugnn: error: ") and message in err and err.count("\n") == 1, err
    assert not out.exists()


def test_a_folder_holding_another_sweep_or_anything_else_is_refused(tmp_path, capsys):
    other = tmp_path / "other"
    other.mkdir()
    (other / "sweep.json").write_text(json.dumps({"sweep": {"recipe": "quickstart", "seeds": [0, 1, 2]}}))
    assert main(["sweep", "quickstart", "--grid", "network.optimizer.lr=0.1", "--out", str(other)]) == 1
    assert "holds another sweep (its grid, random, samples, seeds" in capsys.readouterr().err
    assert sorted(p.name for p in other.iterdir()) == ["sweep.json"]
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    assert main(["sweep", "quickstart", "--out", str(busy)]) == 1
    assert f"{busy} is not empty and holds no sweep; choose another --out" in capsys.readouterr().err


def test_unreachable_scheduler_times_out_with_a_message(tmp_path):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    started = time.monotonic()
    with pytest.raises(SweepError, match=f"cannot reach the Dask scheduler at {address} within 1 s"):
        plugnn.sweep("quickstart", backend="dask", scheduler=address, timeout=1, out=tmp_path / "s", quiet=True)
    assert time.monotonic() - started < 30
    assert not (tmp_path / "s").exists()


def test_missing_dask_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    with pytest.raises(SweepError, match=r"pip install 'plugnn\[dask\]'"):
        plugnn.sweep("quickstart", backend="dask", out=tmp_path / "s", quiet=True)


def kill_when_checkpointed(folder: Path, killed: list[int]) -> None:
    """SIGKILL the process training in ``folder`` once it has a checkpoint and before it finishes."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not killed:
        if (folder / "checkpoint.npz").is_file() and not (folder / "history.json").is_file():
            try:
                pid = int((folder / ".plugnn.lock").read_text().strip() or 0)
            except FileNotFoundError:  # the run ended in between: it removed its lock file
                pid = 0
            if pid and pid != os.getpid():
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
        time.sleep(0.005)


def sweep_killing_trial_0(out: Path, *arguments: str) -> None:
    """The first form (2 trials, tiny) while a worker is killed in the middle of trial-000."""
    killed: list[int] = []
    killer = threading.Thread(target=kill_when_checkpointed, args=(out / "trial-000", killed))
    killer.start()
    try:
        argv = [*FIRST_FORM[:-4], "--seeds", "1", "--workers", "2", *arguments, "--out", str(out)]
        assert main([*argv, "--set", "train.epochs=10", "--set", "train.batch_size=16", "--quiet"]) == 0
    finally:
        killed.append(0)  # stops the killer if it has not fired
        killer.join()
    assert killed[0] != 0, "trial-000 finished before it could be killed"


@pytest.mark.slow
def test_first_form_on_dask_with_a_worker_killed_mid_trial(tmp_path, capsys):
    out = tmp_path / "sweep"
    sweep_killing_trial_0(out, "--backend", "dask")
    assert "trial-000: its worker died; retrying it once" in capsys.readouterr().err
    table = rows(out)
    assert [(r["trial"], r["status"], r["retried"]) for r in table] == [
        ("trial-000", "resumed", "True"),
        ("trial-001", "ran", "False"),
    ]
    assert json.loads((out / "trial-000" / "history.json").read_text())["epoch"] == list(range(1, 11))


@pytest.mark.slow
def test_first_form_local_killed_worker_then_rerun_skips_and_resumes(tmp_path, capsys):
    out = tmp_path / "sweep"
    sweep_killing_trial_0(out)  # a dead loky worker takes the pool down: every unfinished trial runs again
    captured = capsys.readouterr()
    assert "a worker process died; running its" in captured.err
    best = captured.out
    table = rows(out)
    assert [(r["trial"], r["seed"], r["network.optimizer.lr"]) for r in table] == [
        ("trial-000", "0", "0.001"),
        ("trial-001", "0", "0.003"),
    ]
    assert table[0]["status"] == "resumed" and table[0]["retried"] == "True"
    winner = max(table, key=lambda r: float(r["final_test_accuracy"]))
    assert best.startswith(f"best: {winner['trial']} (network.optimizer.lr={winner['network.optimizer.lr']}, seed=0)")
    for row in table:  # ordinary run folders, whose history is the table's
        assert row["status"] in {"ran", "resumed"}, row
        history = json.loads((out / row["trial"] / "history.json").read_text())
        assert history["epoch"] == list(range(1, 11))
        assert float(row["final_test_accuracy"]) == history["test_accuracy"][-1]
        assert (out / row["trial"] / "model.npz").is_file()
    assert json.loads((out / "results.json").read_text())[1]["trial"] == "trial-001"
    assert (out / "results.png").stat().st_size > 0

    (out / "trial-000" / "confusion.png").unlink()  # as if killed while writing its outputs
    for entry in (out / "trial-001").iterdir():  # as if killed after its start, before its first checkpoint
        if entry.name not in {"spec.toml", "fingerprint.json"}:
            entry.unlink()
    argv = [*FIRST_FORM[:-4], "--seeds", "1", "--workers", "1", "--out", str(out), "--quiet"]  # no second pool
    assert main([*argv, "--set", "train.epochs=10", "--set", "train.batch_size=16"]) == 0
    again = rows(out)
    assert [r["status"] for r in again] == ["resumed", "ran"]
    for old, new in zip(table, again, strict=True):  # resumed and rerun trials give the same results
        assert old["final_test_accuracy"] == new["final_test_accuracy"]
    argv[argv.index("--seeds") + 1] = "2"  # the same folder, another sweep
    assert main([*argv, "--set", "train.epochs=10", "--set", "train.batch_size=16"]) == 1
    assert "holds another sweep (its seeds differ)" in capsys.readouterr().err


def test_a_trial_waits_for_its_folder_while_a_dying_worker_still_holds_it(tmp_path):
    from plugnn.runfolder import locked
    from plugnn.sweeps.trial import _when_free

    folder = tmp_path / "trial-000"
    folder.mkdir()
    holding, release = threading.Event(), threading.Event()

    def previous_worker() -> None:
        with locked(folder):
            holding.set()
            release.wait(5)

    holder = threading.Thread(target=previous_worker)
    holder.start()
    holding.wait(5)
    attempts: list[float] = []

    def attempt() -> str:
        attempts.append(time.monotonic())
        if len(attempts) == 3:
            release.set()  # the previous worker ends while the trial waits
        with locked(folder):
            return "new"

    try:
        assert _when_free(folder, attempt) == "new"
    finally:
        release.set()
        holder.join()
    assert len(attempts) >= 3  # refused twice while held, then through once released


def test_the_results_plot_is_drawn_here_when_its_worker_dies_drawing_it(tmp_path) -> None:
    from plugnn.sweeps.backends import Local

    parent = os.getpid()

    def draw(path: Path) -> None:  # pickled by value (cloudpickle): it dies in any process but this one
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        path.write_text(f"drawn by {os.getpid()}")

    local = Local(workers=2, budget=2)
    with local.connected():
        local.call(draw, tmp_path / "results.png")
    assert (tmp_path / "results.png").read_text() == f"drawn by {parent}"
