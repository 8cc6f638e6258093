"""Sweeps ranked on any history column (validation included), with every final metric in results.csv."""

from __future__ import annotations

import csv
import math
import re
import sys
from pathlib import Path

import pytest

from plugnn import outputs
from plugnn.cli import main
from plugnn.sweeps import runner
from plugnn.sweeps.results import best_row, log_axis, trial_row
from plugnn.sweeps.spec import SweepSpec, Trial

HISTORY = {
    "epoch": [1, 2, 3],
    "loss": [0.9, 0.5, 0.4],
    "train_accuracy": [0.6, 0.8, 0.85],
    "val_loss": [0.7, 0.3, 0.35],
    "val_accuracy": [0.7, 0.9, 0.88],
    "test_loss": [0.8, 0.4, 0.45],
    "test_accuracy": [0.65, 0.85, 0.86],
    "seconds": [1.0, 1.0, 2.0],
}


def test_a_row_holds_every_final_metric_and_the_best_of_the_ranking_one() -> None:
    row = trial_row(
        Trial("trial-000", {"network.optimizer.lr": 0.01}, 0), {"status": "ran", "history": HISTORY}, "val_loss", "min"
    )
    finals = {key: value for key, value in row.items() if key.startswith("final_")}
    assert finals == {f"final_{c}": HISTORY[c][-1] for c in HISTORY if c not in ("epoch", "seconds")}
    assert (row["best_val_loss"], row["best_epoch"], row["train_seconds"]) == (0.3, 2, 4.0)
    failed = trial_row(Trial("trial-001", {}, 0), {"status": "failed", "error": "diverged"}, "val_loss", "min")
    assert math.isnan(failed["final_val_loss"]) and failed["best_epoch"] is None


@pytest.mark.parametrize(
    ("metric", "sense", "best"), [("val_loss", None, "b"), ("val_loss", "max", "a"), ("val_accuracy", None, "a")]
)
def test_the_sense_defaults_from_the_name_and_can_be_given(metric, sense, best) -> None:
    spec = SweepSpec(recipe="quickstart", metric=metric, sense=sense)
    rows = [
        {"trial": "a", "final_val_loss": 0.5, "final_val_accuracy": 0.9},
        {"trial": "b", "final_val_loss": 0.2, "final_val_accuracy": 0.8},
        {"trial": "c", "final_val_loss": math.nan, "final_val_accuracy": math.nan},
    ]
    assert best_row(rows, spec.metric, spec.ranking)["trial"] == best


def test_rates_and_values_over_two_decades_get_a_log_axis() -> None:
    assert log_axis("network.optimizer.lr", [0.001, 0.003])
    assert log_axis("network.layers[0].units", [8, 1024]) and not log_axis("network.layers[0].units", [32, 64, 256])
    assert not log_axis("network.optimizer.lr", ["0.1", 0.2]) and not log_axis("train.batch_size", [0, 512])


def test_a_sweep_ranked_by_val_accuracy_writes_it_in_results_csv(tmp_path, capsys, monkeypatch) -> None:
    def placeholder(*args: object, **options: object) -> None:  # drawing is not what this tests
        [a for a in args if isinstance(a, Path)][-1].touch()

    for name in ("plot_curves", "plot_samples", "plot_confusion"):
        monkeypatch.setattr(outputs, name, placeholder)
    monkeypatch.setattr(runner, "plot_results", lambda *args: None)
    argv = ["sweep", "quickstart", "--grid", "network.optimizer.lr=0.0003,0.01", "--metric", "val_accuracy"]
    settings = ["--set", "train.epochs=1", "--set", "train.validation=0.25", "--set", "network.layers[0].units=8"]
    assert main([*argv, *settings, "--quiet", "--out", str(tmp_path / "s")]) == 0
    with (tmp_path / "s" / "results.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    for column in (
        "final_val_accuracy",
        "final_val_loss",
        "final_test_loss",
        "final_test_accuracy",
        "best_val_accuracy",
    ):
        assert all(0 <= float(row[column]) < math.inf for row in rows), column
    best = max(rows, key=lambda row: float(row["final_val_accuracy"]))
    out = capsys.readouterr().out
    assert out.startswith(f"best: {best['trial']} ") and f"val_accuracy {float(best['final_val_accuracy']):.4f}" in out


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["--metric", "val_acuracy", "--set", "train.validation=0.2"],
            r"no column 'val_acuracy'; did you mean 'val_accuracy'\?",
        ),
        (["--metric", "val_loss"], r"no column 'val_loss'; it has no validation split: .*--set train.validation=0.1"),
        (["--metric", "test_loss", "--sense", "up"], r"invalid choice: 'up'"),
    ],
)
def test_a_metric_the_trials_will_not_record_is_refused_before_any_trial(tmp_path, capsys, arguments, message) -> None:
    try:
        code = main(["sweep", "quickstart", *arguments, "--out", str(tmp_path / "s")])
    except SystemExit as exit:  # argparse's own errors
        code = exit.code
    assert code != 0 and not (tmp_path / "s").exists()
    err = capsys.readouterr().err
    assert re.search(message, err), err


def test_an_optuna_search_runs_its_trials_and_a_rerun_finds_them_done(tmp_path, capsys, monkeypatch) -> None:
    pytest.importorskip("optuna")

    def placeholder(*args: object, **options: object) -> None:  # drawing is not what this tests
        [a for a in args if isinstance(a, Path)][-1].touch()

    for name in ("plot_curves", "plot_samples", "plot_confusion"):
        monkeypatch.setattr(outputs, name, placeholder)
    monkeypatch.setattr(runner, "plot_results", lambda *args: None)
    argv = ["sweep", "quickstart", "--search", "optuna", "--trials", "3", "--metric", "val_loss"]
    argv += [
        "--random",
        "network.optimizer.lr={log_uniform=[1e-4,1e-1]}",
        "--random",
        "network.layers[0].units={choice=[8,16]}",
    ]
    argv += ["--set", "train.epochs=1", "--set", "train.validation=0.25", "--quiet", "--out", str(tmp_path / "s")]
    assert main(argv) == 0
    with (tmp_path / "s" / "results.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [row["trial"] for row in rows] == ["trial-000", "trial-001", "trial-002"]
    assert len({row["network.optimizer.lr"] for row in rows}) == 3 and all(
        1e-4 <= float(r["network.optimizer.lr"]) <= 0.1 for r in rows
    )
    best = min(rows, key=lambda row: float(row["final_val_loss"]))
    assert capsys.readouterr().out.startswith(f"best: {best['trial']} ")
    assert main(argv) == 0  # the same sweep again: the seeded sampler asks the same trials, all done
    with (tmp_path / "s" / "results.csv").open() as handle:
        again = list(csv.DictReader(handle))
    assert [r["status"] for r in again] == ["done"] * 3
    assert [r["network.optimizer.lr"] for r in again] == [r["network.optimizer.lr"] for r in rows]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--trials", "3"], r"a trial count is for --search optuna"),
        (["--search", "optuna", "--random", "network.optimizer.lr={uniform=[0.001,0.01]}"], r"needs --trials N"),
        (["--search", "optuna", "--trials", "2", "--grid", "network.optimizer.lr=0.1,0.2"], r"--random fields only"),
    ],
)
def test_an_optuna_search_is_checked_before_any_trial(tmp_path, capsys, arguments, message) -> None:
    assert main(["sweep", "quickstart", *arguments, "--out", str(tmp_path / "s")]) == 1
    assert re.search(message, capsys.readouterr().err) and not (tmp_path / "s").exists()


def test_without_optuna_the_search_names_the_extra(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "optuna", None)  # import optuna fails
    argv = [
        "sweep",
        "quickstart",
        "--search",
        "optuna",
        "--trials",
        "2",
        "--random",
        "train.batch_size={int_uniform=[8,64]}",
    ]
    assert main([*argv, "--out", str(tmp_path / "s")]) == 1
    assert "pip install 'plugnn[optuna]'" in capsys.readouterr().err and not (tmp_path / "s").exists()
