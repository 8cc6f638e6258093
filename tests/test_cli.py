"""The plugnn command line, end to end on digits, and its error handling."""

from __future__ import annotations

import json
import urllib.error

import numpy as np
import pytest
from plugnn_process import run_plugnn
from plugnn_std.datasets import openml

from plugnn import __version__
from plugnn.cli import main
from plugnn.outputs import OUTPUT_FILES


@pytest.fixture(scope="module")
def quickstart_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "quick"
    done = run_plugnn("run", "--out", str(out), "--epochs", "12")
    return done, out


@pytest.mark.slow
def test_run_writes_a_complete_run_folder(quickstart_run) -> None:
    done, out = quickstart_run
    assert done.returncode == 0, done.stderr
    assert "test accuracy" in done.stdout and str(out) in done.stdout
    for name in OUTPUT_FILES:
        assert (out / name).stat().st_size > 0, name
    history = json.loads((out / "history.json").read_text())
    assert history["epoch"] == list(range(1, 13))
    assert all(0 <= a <= 1 for a in history["train_accuracy"] + history["test_accuracy"])
    assert history["loss"][-1] < history["loss"][0]
    assert all(s > 0 for s in history["seconds"])
    assert history["test_accuracy"][-1] > 0.9
    csv_rows = (out / "history.csv").read_text().splitlines()
    assert csv_rows[0] == "epoch,loss,train_accuracy,test_loss,test_accuracy,seconds" and len(csv_rows) == 13
    assert "epoch 12/12" in done.stderr  # a line per epoch when not on a terminal


@pytest.mark.slow
def test_evaluate_reproduces_the_run_accuracy(quickstart_run) -> None:
    _, out = quickstart_run
    history = json.loads((out / "history.json").read_text())
    done = run_plugnn("evaluate", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"test accuracy {history['test_accuracy'][-1]:.4f}"


@pytest.mark.slow
def test_show_then_run_the_file_reproduces_the_history(quickstart_run, tmp_path) -> None:
    _, out = quickstart_run
    spec_file = tmp_path / "again.toml"
    spec_file.write_text(run_plugnn("show", str(out / "spec.toml")).stdout)
    done = run_plugnn("run", str(spec_file), "--out", str(tmp_path / "again"), "--quiet")
    assert done.returncode == 0, done.stderr
    first = json.loads((out / "history.json").read_text())
    second = json.loads((tmp_path / "again" / "history.json").read_text())
    for column in ("epoch", "loss", "train_accuracy", "test_accuracy"):
        assert first[column] == second[column]


def test_show_prints_a_rerunnable_recipe(capsys) -> None:
    assert main(["show", "seed-adam"]) == 0
    text = capsys.readouterr().out
    assert 'data = "mnist"' in text and "batch_size = 5000" in text and 'type = "adam"' in text


def test_recipes_lists_every_recipe(capsys) -> None:
    assert main(["recipes"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert {"quickstart", "seed-sgd", "seed-adam", "mnist-mlp"} <= set(names)


def test_plugins_lists_components_with_their_distribution(capsys) -> None:
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert any(
        line.startswith("adam") and f"plugnn {__version__}" in line and "optimizer adam" in line
        for line in out.splitlines()
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--epochs", "0"], "argument --epochs: expected a positive integer, got '0'"),
        (["run", "--lr", "fast"], "argument --lr: expected a positive number, got 'fast'"),
        (["run", "--bogus"], "unrecognized arguments: --bogus"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_bad_flags_get_one_line(argv, message, capsys) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv)
    err = capsys.readouterr().err
    assert caught.value.code == 2 and message in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "quickstrat"], "unknown recipe 'quickstrat'; did you mean 'quickstart'?"),
        (["run", "missing.toml"], "missing.toml: no such file"),
        (["run", "--data", "digts"], "unknown dataset 'digts'; did you mean 'digits'"),
        (["run", "--data", "idx:/nowhere"], "/nowhere: no such folder"),
        (["evaluate", "/nowhere"], "/nowhere/model.npz: no such file"),
    ],
)
def test_user_errors_exit_1_without_traceback(argv, message, capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("plugnn: error: ") and message in err and "Traceback" not in err
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_existing_run_folder_is_never_overwritten(tmp_path, capsys) -> None:
    out = tmp_path / "taken"
    out.mkdir()
    (out / "history.json").write_text("precious")
    assert main(["run", "--out", str(out), "--quiet"]) == 1
    assert "already exists and is not empty; plugnn never overwrites a run" in capsys.readouterr().err
    assert (out / "history.json").read_text() == "precious"


def test_offline_mnist_is_a_clear_error(monkeypatch, tmp_path, capsys) -> None:
    def offline(*args, **kwargs):
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(openml, "fetch_openml", offline)
    monkeypatch.setenv("PLUGNN_DATA_HOME", str(tmp_path))
    assert main(["run", "seed-adam", "--out", str(tmp_path / "run")]) == 1
    err = capsys.readouterr().err
    assert "cannot load mnist_784" in err and "--data digits" in err and "--data idx:DIR" in err
    assert not (tmp_path / "run").exists()


def test_overrides_reach_the_spec(tmp_path) -> None:
    from plugnn import run

    result = run("quickstart", epochs=2, batch_size=64, lr=0.01, seed=3, out=tmp_path / "r", quiet=True)
    assert result.spec.train.epochs == 2 and result.spec.train.batch_size == 64 and result.spec.train.seed == 3
    assert result.spec.network.optimizer.lr == 0.01
    assert len(result.history.records) == 2
    assert result.test_accuracy == pytest.approx(result.history.records[-1]["test_accuracy"])
    saved = (tmp_path / "r" / "spec.toml").read_text()
    assert "lr = 0.01" in saved and "epochs = 2" in saved


def test_idx_data_trains_from_the_cli(tmp_path) -> None:
    from idx_files import write_idx_folder

    from plugnn import run

    folder = write_idx_folder(tmp_path / "toy", n_train=300, n_test=60)
    result = run("quickstart", data=f"idx:{folder}", epochs=5, out=tmp_path / "r", quiet=True)
    assert result.test_accuracy > 0.9
    assert np.isfinite(result.history.column("loss")).all()
