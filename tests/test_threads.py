"""The thread budget: where it comes from, what it caps, and that it never changes results."""

from __future__ import annotations

import importlib
import io
import os

import attrs
import numpy as np
import pytest
from plugnn_std import Adam, Dense
from threadpoolctl import threadpool_info

import plugnn
from plugnn import threads
from plugnn.errors import PlugnnError
from plugnn.parallel import BLOCK_BYTES, PARALLEL_MIN_BYTES

train_module = importlib.import_module("plugnn.train")  # the module, not the function plugnn.train


def blas_threads() -> set[int]:
    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


@pytest.fixture
def no_env(monkeypatch):
    monkeypatch.delenv(threads.ENV, raising=False)


def test_budget_caps_blas_and_own_pool_only_inside_the_block(no_env):
    np.ones((2, 2)) @ np.ones((2, 2))  # the BLAS is loaded
    before = blas_threads()
    outside = threads.current_threads()
    with threads.thread_budget(1) as budget:
        assert budget == 1
        assert blas_threads() == {1}
        assert threads.current_threads() == 1
    assert blas_threads() == before
    assert threads.current_threads() == outside == threads.available_cores()


def test_spec_wins_over_enclosing_budget_over_environment_over_auto(monkeypatch):
    monkeypatch.setattr(threads, "auto_threads", lambda: 7)
    monkeypatch.setenv(threads.ENV, "3")
    assert threads.resolve_threads(2) == 2
    assert threads.resolve_threads(None) == 3
    monkeypatch.setenv(threads.ENV, "auto")
    assert threads.resolve_threads(None) == 7
    monkeypatch.delenv(threads.ENV)
    assert threads.resolve_threads(None) == 7
    monkeypatch.setenv(threads.ENV, "3")
    with threads.thread_budget(1):  # a sweep worker's share: a run inside inherits it unless its spec says
        assert threads.resolve_threads(None) == 1
        assert threads.resolve_threads(2) == 2


@pytest.mark.parametrize("text", ["0", "-2", "two", "1.5"])
def test_bad_environment_value_is_one_clear_line(monkeypatch, text):
    monkeypatch.setenv(threads.ENV, text)
    with pytest.raises(PlugnnError, match=f"PLUGNN_THREADS: expected a positive integer or 'auto', got '{text}'"):
        threads.resolve_threads(None)


@pytest.mark.parametrize(("busy", "expected"), [(0.0, 2), (0.3, 2), (0.9, 1), (1.0, 1), (2.0, 1), (5.0, 1)])
def test_auto_leaves_the_busy_cores_to_their_owners(monkeypatch, busy, expected):
    monkeypatch.setattr(threads, "available_cores", lambda: 2)
    monkeypatch.setattr(threads, "busy_cores", lambda: busy)
    assert threads.auto_threads() == expected


def test_busy_cores_from_proc_stat_ticks_minus_this_process(monkeypatch):
    """Two cores, 20 ticks each in the window: 30 busy of 40 is 1.5 cores; this process slept."""
    samples = iter([(100, 1000), (130, 1040)])
    monkeypatch.setattr(threads, "_cpu_ticks", lambda cpus: next(samples))
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(threads, "_last_measure", None)
    monkeypatch.setattr(threads.time, "process_time", lambda: 7.0)  # BLAS threads spinning down from
    # an earlier test would otherwise count as this process's own work
    assert threads.busy_cores() == pytest.approx(1.5, abs=0.05)
    assert threads.busy_cores() == pytest.approx(1.5, abs=0.05)  # reused, not measured again


def test_fit_runs_inside_the_budget_and_results_do_not_depend_on_it(digits, registry, monkeypatch):
    x, _, y, _ = digits
    spec = plugnn.NetworkSpec(
        layers=[Dense(64), "relu", Dense(10)], loss="softmax_cross_entropy", optimizer=Adam(), init="he"
    )
    seen = []
    loop = train_module._loop

    def recording_loop(*args, **kwargs):
        seen.append((threads.current_threads(), blas_threads()))
        return loop(*args, **kwargs)

    monkeypatch.setattr(train_module, "_loop", recording_loop)
    results = [
        plugnn.train(spec, x, y, plugnn.TrainSpec(epochs=2, batch_size=64, threads=n), registry=registry).network
        for n in (1, 2)
    ]
    assert seen == [(1, {1}), (2, {2})]
    np.testing.assert_array_equal(results[0].params, results[1].params)


def test_an_auto_budget_is_measured_again_each_epoch_and_results_stay_the_same(digits, registry, monkeypatch):
    """Other processes' load comes and goes between epochs (1.5 busy cores of 2, then none): plugnn's
    pool follows it, the BLAS keeps the 2 threads the run started with, and the weights equal those of
    a fixed budget."""
    x, _, y, _ = digits
    spec = plugnn.NetworkSpec(
        layers=[Dense(32), "relu", Dense(10)], loss="softmax_cross_entropy", optimizer=Adam(), init="he"
    )
    monkeypatch.delenv(threads.ENV, raising=False)
    monkeypatch.setattr(threads, "available_cores", lambda: 2)
    monkeypatch.setattr(threads, "auto_threads", lambda: 2)
    loads = iter([1.5, 0.0, 1.5])
    monkeypatch.setattr(threads._Window, "busy_cores", lambda self: next(loads))
    seen = []

    def recording() -> int:
        budget = threads.remeasure()
        seen.append((budget, blas_threads()))
        return budget

    monkeypatch.setattr(train_module, "remeasure", recording)
    auto = plugnn.train(spec, x, y, plugnn.TrainSpec(epochs=3, batch_size=64), registry=registry).network
    fixed = plugnn.train(spec, x, y, plugnn.TrainSpec(epochs=3, batch_size=64, threads=2), registry=registry).network
    assert seen[:3] == [(1, {2}), (2, {2}), (1, {2})]
    assert seen[3:] == [(2, {2})] * 3  # a budget that was given stays
    np.testing.assert_array_equal(auto.params, fixed.params)


def test_the_window_counts_other_processes_busy_time_without_waiting(monkeypatch):
    """Two cores, a 2 s window: 300 of 400 ticks busy is 1.5 cores, of which this process used 1 s a second."""
    samples = iter([(100, 1000), (400, 1400)])
    clock = iter([10.0, 12.0])
    monkeypatch.setattr(threads, "_cpu_ticks", lambda cpus: next(samples, (400, 1400)))
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(threads.time, "monotonic", lambda: next(clock, 12.0))
    own = iter([5.0, 7.0])
    monkeypatch.setattr(threads.time, "process_time", lambda: next(own, 7.0))
    window = threads._Window()
    assert window.busy_cores() == pytest.approx(0.5)


def test_optimizer_chunks_follow_the_budget_bit_for_bit(registry):
    size = 3 * max(BLOCK_BYTES, PARALLEL_MIN_BYTES) // 4 + 5  # several blocks in each of 3 shares
    rng = np.random.default_rng(0)
    param, grad = rng.standard_normal(size, dtype=np.float32), rng.standard_normal(size, dtype=np.float32)
    out = []
    for budget in (1, 3):
        optimizer = plugnn.build_optimizer(Adam(lr=0.01), registry)
        p = param.copy()
        with threads.thread_budget(budget):
            for _ in range(3):
                optimizer.step([p], [grad])
        out.append(p)
    np.testing.assert_array_equal(out[0], out[1])


def test_threads_is_a_validated_train_field(registry):
    with pytest.raises(plugnn.SpecError, match=r"threads: must be > 0 \(got 0\)"):
        plugnn.structure({"threads": 0}, plugnn.TrainSpec, registry)
    spec = plugnn.TrainSpec(threads=2)
    assert plugnn.structure(plugnn.unstructure(spec, registry), plugnn.TrainSpec, registry) == spec
    assert "threads" not in plugnn.unstructure(plugnn.TrainSpec(), registry)


def test_cli_threads_sets_the_spec_field(tmp_path, capsys, monkeypatch):
    from plugnn.cli import main

    monkeypatch.setenv(threads.ENV, "2")  # the flag wins
    out = tmp_path / "run"
    assert main(["run", "--epochs", "1", "--threads", "1", "--quiet", "--out", str(out)]) == 0
    assert "threads = 1" in (out / "spec.toml").read_text()
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--threads", "0", "--out", str(tmp_path / "x")])
    assert exit_info.value.code == 2
    assert "--threads: expected a positive integer, got '0'" in capsys.readouterr().err


def test_cli_refuses_a_bad_environment_value_before_any_work(tmp_path, capsys, monkeypatch):
    from plugnn.cli import main

    monkeypatch.setenv(threads.ENV, "many")
    assert main(["run", "--epochs", "1", "--out", str(tmp_path / "run")]) == 1
    assert capsys.readouterr().err == (
        "plugnn: error: PLUGNN_THREADS: expected a positive integer or 'auto', got 'many'\n"
    )
    assert not (tmp_path / "run").exists()


def test_openblas_takes_plugnns_spin_when_numpy_was_imported_first():
    """A script importing numpy first: OpenBLAS has read its environment already, and reads it again."""
    import subprocess
    import sys

    code = (
        "import ctypes, numpy, threadpoolctl\n"
        "path = next(p['filepath'] for p in threadpoolctl.threadpool_info() if p['internal_api'] == 'openblas')\n"
        "timeout = ctypes.CDLL(path).openblas_thread_timeout\n"
        "before = timeout()\n"
        "import plugnn\n"
        "numpy.ones((300, 300)) @ numpy.ones((300, 300))  # the threads start again\n"
        "print(before, timeout(), end='')"
    )
    env = {k: v for k, v in os.environ.items() if k != threads.BLAS_SPIN[0]}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert done.stdout == f"0 {threads.BLAS_SPIN[1]}"


@pytest.mark.parametrize(("preset", "expected"), [(None, threads.BLAS_SPIN[1]), ("8", "8")])
def test_importing_plugnn_sets_openblas_spin_unless_the_user_did(preset, expected):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != threads.BLAS_SPIN[0]}
    if preset is not None:
        env[threads.BLAS_SPIN[0]] = preset
    code = "import plugnn, os, sys; print(os.environ['OPENBLAS_THREAD_TIMEOUT'], 'numpy' in sys.modules, end='')"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert done.stdout == f"{expected} True"


# A run's BLAS threads: chosen once when it starts, recorded, kept by every continuation

SHIFTING = {"recipe": "quickstart", "batch_size": 500, "quiet": True}
"""A run whose products round differently with 1 and 2 BLAS threads on OpenBLAS 0.3.31's SkylakeX
kernels (the weight gradient's inner dimension is the batch, 500) as on its Haswell ones (most shapes)."""


class BlasWatch:
    """A training-event plugin noting, at every batch, plugnn's own budget and the BLAS's thread counts."""

    def __init__(self) -> None:
        self.seen: set[tuple[int, frozenset[int]]] = set()

    @plugnn.hookimpl
    def plugnn_batch_end(self, context: plugnn.TrainContext) -> None:
        self.seen.add((threads.current_threads(), frozenset(blas_threads())))


def machine(monkeypatch, free: int) -> None:
    """From now on the automatic budget finds ``free`` of 2 cores free, when a run starts and before each epoch."""
    monkeypatch.delenv(threads.ENV, raising=False)
    monkeypatch.setattr(threads, "available_cores", lambda: 2)
    monkeypatch.setattr(threads, "auto_threads", lambda: free)
    monkeypatch.setattr(threads._Window, "busy_cores", lambda self: 2.0 - free)


def test_a_resume_on_a_busier_machine_keeps_the_runs_blas_threads_and_ends_bit_for_bit(tmp_path, monkeypatch):
    """Started by ``auto`` on a quiet machine (2 threads), interrupted, resumed when one core is busy:
    plugnn's pool takes 1 thread, the BLAS keeps the run's 2, and the run ends as the uninterrupted one."""
    from fixtures.regenerate import outcome
    from interrupt_at import InterruptAt

    machine(monkeypatch, free=2)
    plugnn.run(**SHIFTING, epochs=4, out=tmp_path / "whole")
    with pytest.raises(plugnn.TrainingInterrupted):
        plugnn.run(**SHIFTING, epochs=4, out=tmp_path / "run", plugins=[InterruptAt(2, 0)])
    machine(monkeypatch, free=1)
    watch, progress = BlasWatch(), io.StringIO()
    plugnn.resume(tmp_path / "run", stream=progress, plugins=[watch])
    assert watch.seen == {(1, frozenset({2}))}
    assert progress.getvalue().startswith("1 thread, BLAS 2, kernels: ")
    assert outcome(tmp_path / "run") == outcome(tmp_path / "whole")


def test_more_epochs_from_a_run_keep_its_blas_threads(tmp_path, monkeypatch):
    """``plugnn run --from``: the new epochs train with the count the run started with, as one run of all of them."""
    from fixtures.regenerate import outcome

    machine(monkeypatch, free=2)
    plugnn.run(**SHIFTING, epochs=4, out=tmp_path / "whole")
    plugnn.run(**SHIFTING, epochs=2, out=tmp_path / "first")
    machine(monkeypatch, free=1)
    watch = BlasWatch()
    plugnn.run(start_from=tmp_path / "first", epochs=2, out=tmp_path / "more", quiet=True, plugins=[watch])
    assert watch.seen == {(1, frozenset({2}))}
    assert outcome(tmp_path / "more") == outcome(tmp_path / "whole")


def test_training_a_saved_model_further_keeps_its_blas_threads(digits, registry, tmp_path, monkeypatch):
    """``train(start_from=load(path))``: the count is in the model file's train state."""
    x, _, y, _ = digits
    spec = plugnn.NetworkSpec(
        layers=[Dense(100), "relu", Dense(10)], loss="softmax_cross_entropy", optimizer=Adam(), init="he"
    )
    train_spec = plugnn.TrainSpec(epochs=2, batch_size=500)
    machine(monkeypatch, free=2)
    whole = plugnn.train(spec, x, y, attrs.evolve(train_spec, epochs=4), registry=registry).network
    first = plugnn.train(spec, x, y, train_spec, registry=registry).network
    assert first.train_state.blas_threads == 2
    model = plugnn.load(plugnn.save(first, tmp_path / "model.npz", registry=registry), registry=registry)
    assert model.train_state.blas_threads == 2
    machine(monkeypatch, free=1)
    watch = BlasWatch()
    more = plugnn.train(spec, x, y, train_spec, registry=registry, start_from=model, plugins=[watch]).network
    assert watch.seen == {(1, frozenset({2}))}
    np.testing.assert_array_equal(more.params, whole.params)


def test_a_checkpoint_records_the_blas_threads_the_run_chose(tmp_path, monkeypatch):
    from plugnn.checkpoint import load_checkpoint

    machine(monkeypatch, free=1)
    plugnn.run("quickstart", epochs=1, out=tmp_path / "auto", quiet=True)
    plugnn.run("quickstart", epochs=1, out=tmp_path / "given", quiet=True, overrides={"train.threads": 3})
    recorded = [
        load_checkpoint(tmp_path / name / "checkpoint.npz", plugnn.default_registry()).resume.blas_threads
        for name in ("auto", "given")
    ]
    assert recorded == [1, 3]


def test_a_checkpoint_without_the_count_resumes_with_the_count_a_new_run_would_choose(tmp_path, monkeypatch):
    """A checkpoint of plugnn before this field (the same arrays but ``blas_threads``) loads; the resumed
    run trains with the count its budget gives and records it from then on."""
    from interrupt_at import InterruptAt

    from plugnn.checkpoint import load_checkpoint
    from plugnn.npzfile import read_npz, write_npz

    monkeypatch.setenv(threads.ENV, "1")
    with pytest.raises(plugnn.TrainingInterrupted):
        plugnn.run("quickstart", epochs=2, out=tmp_path / "run", quiet=True, plugins=[InterruptAt(1, 3)])
    path = tmp_path / "run" / "checkpoint.npz"
    write_npz(path, "checkpoint", {k: v for k, v in read_npz(path, "checkpoint").items() if k != "blas_threads"})
    assert load_checkpoint(path, plugnn.default_registry()).resume.blas_threads is None
    machine(monkeypatch, free=2)
    watch = BlasWatch()
    plugnn.resume(tmp_path / "run", quiet=True, plugins=[watch])
    assert watch.seen == {(2, frozenset({2}))}
    assert load_checkpoint(path, plugnn.default_registry()).resume.blas_threads == 2


NOTE = "results may differ in the last bits from the uninterrupted run"


def test_a_count_asked_for_on_resume_is_honoured_with_a_one_line_note(tmp_path, monkeypatch, capsys):
    from interrupt_at import InterruptAt

    from plugnn.cli import main

    monkeypatch.setenv(threads.ENV, "1")
    for name in ("same", "other"):
        with pytest.raises(plugnn.TrainingInterrupted):
            plugnn.run("quickstart", epochs=2, out=tmp_path / name, quiet=True, plugins=[InterruptAt(1, 3)])
    assert main(["run", "--resume", str(tmp_path / "same"), "--threads", "1", "--quiet"]) == 0
    assert NOTE not in capsys.readouterr().err  # the run's own count: nothing to say
    watch = BlasWatch()
    with pytest.warns(UserWarning) as caught:
        plugnn.resume(tmp_path / "other", quiet=True, threads=2, plugins=[watch])
    assert [str(w.message) for w in caught] == [
        f"2 BLAS threads asked for where the run so far used 1: its products may round otherwise, so {NOTE}"
    ]
    assert watch.seen == {(2, frozenset({2}))}


def test_the_cli_says_once_that_another_count_on_resume_may_change_the_last_bits(tmp_path, monkeypatch, capsys):
    from interrupt_at import InterruptAt

    from plugnn.cli import main

    monkeypatch.setenv(threads.ENV, "1")
    with pytest.raises(plugnn.TrainingInterrupted):
        plugnn.run("quickstart", epochs=3, out=tmp_path / "run", quiet=True, plugins=[InterruptAt(1, 3)])
    assert main(["run", "--resume", str(tmp_path / "run"), "--threads", "2", "--quiet"]) == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if NOTE in line]
    assert lines == [
        f"plugnn: warning: 2 BLAS threads asked for where the run so far used 1: its products may round "
        f"otherwise, so {NOTE}"
    ]
