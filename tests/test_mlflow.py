"""The ``mlflow`` callback against a real local MLflow store: params, metrics per epoch, artifacts, resume, sweeps."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from interrupt_at import InterruptAt
from plugnn_std.callbacks import tracking

import plugnn
from plugnn import outputs
from plugnn.errors import PlugnnError
from plugnn.sweeps import runner

mlflow = pytest.importorskip("mlflow")
from mlflow.tracking import MlflowClient  # noqa: E402

SMALL = {"network.layers[0].units": 8, "network.layers[2].units": 8}


@pytest.fixture(autouse=True)
def no_drawing(monkeypatch) -> None:
    """Drawing is not what these tests check: the plots are empty files (1 s a run saved)."""

    def placeholder(*args: object, **options: object) -> None:
        [a for a in args if isinstance(a, Path)][-1].touch()

    for name in ("plot_curves", "plot_samples", "plot_confusion"):
        monkeypatch.setattr(outputs, name, placeholder)
    monkeypatch.setattr(tracking, "plot_curves", placeholder)
    monkeypatch.setattr(runner, "plot_results", lambda *args: None)
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # for this test's own client, as the callback sets it


def store(tmp_path: Path) -> tuple[dict[str, str], MlflowClient]:
    uri = str(tmp_path / "mlruns")
    return {"type": "mlflow", "tracking_uri": uri}, MlflowClient(tracking_uri=(tmp_path / "mlruns").as_uri())


def only_run(client: MlflowClient, experiment: str) -> mlflow.entities.Run:
    runs = client.search_runs([client.get_experiment_by_name(experiment).experiment_id])
    assert len(runs) == 1, runs
    return runs[0]


def test_a_run_logs_its_spec_every_column_per_epoch_and_its_files(tmp_path, monkeypatch) -> None:
    callback, client = store(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", (tmp_path / "mlruns").as_uri())  # for mlflow.search_runs
    plugnn.run("quickstart", epochs=2, overrides=SMALL, callbacks=[callback], out=tmp_path / "run", quiet=True)
    run = only_run(client, "plugnn")
    assert run.info.status == "FINISHED" and run.info.run_name == "run"
    params = run.data.params
    assert params["data"] == "digits" and params["train.epochs"] == "2" and params["network.optimizer.lr"] == "0.001"
    assert params["network.layers.0.units"] == "8" and params["network.layers.1"] == "relu"
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    for column in ("loss", "train_accuracy", "test_loss", "test_accuracy", "seconds"):
        logged = client.get_metric_history(run.info.run_id, column)
        assert [(m.step, m.value) for m in logged] == list(zip([1, 2], history[column], strict=True)), column
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"curves.png", "model.npz", "spec.toml", "model.onnx"} <= artifacts
    assert [r.info.run_id for r in mlflow.search_runs(experiment_names=["plugnn"], output_format="list")] == [
        run.info.run_id
    ]


def test_a_resumed_run_continues_its_mlflow_run_without_repeating_epochs(tmp_path) -> None:
    callback, client = store(tmp_path)
    with pytest.raises(plugnn.TrainingInterrupted):
        plugnn.run(
            "quickstart",
            epochs=3,
            overrides=SMALL,
            callbacks=[callback],
            out=tmp_path / "run",
            quiet=True,
            plugins=[InterruptAt(3, 5)],
        )
    assert only_run(client, "plugnn").info.status == "KILLED"
    plugnn.resume(tmp_path / "run", quiet=True)
    run = only_run(client, "plugnn")
    assert run.info.status == "FINISHED"
    assert [m.step for m in client.get_metric_history(run.info.run_id, "loss")] == [1, 2, 3]


def test_a_sweep_logs_a_run_per_trial_under_one_experiment(tmp_path) -> None:
    callback, client = store(tmp_path)
    result = plugnn.sweep(
        "quickstart",
        grid={"network.optimizer.lr": [0.001, 0.01]},
        overrides={**SMALL, "train.epochs": 1, "train.callbacks": [callback]},
        out=tmp_path / "lr",
        quiet=True,
    )
    experiment = client.get_experiment_by_name("lr")
    runs = client.search_runs([experiment.experiment_id], order_by=["attributes.run_name"])
    assert [r.info.run_name for r in runs] == ["trial-000", "trial-001"] == [row["trial"] for row in result.rows]
    assert [r.data.params["network.optimizer.lr"] for r in runs] == ["0.001", "0.01"]


def test_without_mlflow_the_callback_names_the_extra_before_training(tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "mlflow", None)  # import mlflow fails
    with pytest.raises(PlugnnError, match=r"pip install 'plugnn\[mlflow\]'"):
        plugnn.run("quickstart", callbacks=["mlflow"], out=tmp_path / "run", quiet=True)
    assert not (tmp_path / "run").exists() and not (tmp_path / "mlruns").exists()
