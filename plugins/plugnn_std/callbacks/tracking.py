"""``mlflow``: log a run to MLflow: its spec as params, every history column per epoch, its files.

The run's spec, flattened to dotted paths ``--set`` takes (``network.optimizer.lr``,
``network.layers.0.units``), becomes the MLflow run's params; every column of each epoch's record
(``loss``, ``val_accuracy``, ``test_loss``, ``seconds``, ...) a metric with ``step`` = the epoch; at the
end the learning curves, the model (``model.npz``), the run's ``spec.toml`` and, when the onnx extra
is installed, ``model.onnx`` become artifacts. The run is FINISHED when training ends normally,
KILLED when it is interrupted; ``plugnn run --resume`` continues the same MLflow run (its id is in
the callback's checkpointed state) and logs only the epochs not logged yet.

The store is ``tracking_uri``, else ``$MLFLOW_TRACKING_URI``, else ``mlruns/`` in the working
directory: MLflow's local file store (plugnn sets ``MLFLOW_ALLOW_FILE_STORE=true`` for a local path,
the file store being in maintenance mode since MLflow 3). Runs go to the experiment ``experiment``,
else, for a trial of a sweep (a folder beside ``sweep.json``), the sweep folder's name, so a sweep's
trials are one experiment; else ``plugnn``. MLflow is an optional extra: ``pip install 'plugnn[mlflow]'``;
it is imported only when a run uses this callback.
"""

from __future__ import annotations

import contextlib
import importlib.util
import math
import os
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from plugnn import hookimpl
from plugnn.errors import PlugnnError
from plugnn.export import export_onnx
from plugnn.model_io import save
from plugnn.overrides import flatten
from plugnn.plots import plot_curves
from plugnn.readers import parse, read_text
from plugnn.registry import Register
from plugnn.serialize import unstructure
from plugnn.specs import CallbackSpec
from plugnn.train import TrainContext

DEFAULT_STORE = "mlruns"
SWEEP_FILE = "sweep.json"


@attrs.frozen
class MLflow(CallbackSpec):
    """Log the run to MLflow: ``tracking_uri`` (empty: ``$MLFLOW_TRACKING_URI``, else ``./mlruns``),
    ``experiment`` (empty: the sweep's folder name for a sweep's trial, else ``plugnn``), ``run_name``
    (empty: the run folder's name)."""

    tracking_uri: str = attrs.field(default="", validator=attrs.validators.instance_of(str))
    experiment: str = attrs.field(default="", validator=attrs.validators.instance_of(str))
    run_name: str = attrs.field(default="", validator=attrs.validators.instance_of(str))

    @classmethod
    def examples(cls) -> list[MLflow]:
        return [cls(), cls(tracking_uri="http://127.0.0.1:5000", experiment="lr-search", run_name="adam")]


MISSING = "the mlflow callback needs MLflow: pip install 'plugnn[mlflow]'"


def require_mlflow() -> None:
    """Raise a :class:`PlugnnError` naming the extra when MLflow is not installed (without importing it)."""
    try:
        found = importlib.util.find_spec("mlflow") is not None
    except ValueError:  # a module object without a spec (sys.modules["mlflow"] = None)
        found = False
    if not found:
        raise PlugnnError(MISSING)


def tracking_uri(setting: str) -> str:
    """The store to log to: ``setting``, else ``$MLFLOW_TRACKING_URI``, else ``./mlruns`` (as a file URI)."""
    uri = setting or os.environ.get("MLFLOW_TRACKING_URI", "") or DEFAULT_STORE
    if "://" in uri:
        if uri.startswith("file://"):
            os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        return uri
    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")  # a local folder: MLflow's file store
    return Path(uri).resolve().as_uri()


class MLflowLogger:
    """Runtime MLflow logger (see the module docstring)."""

    monitors: tuple[str, ...] = ()

    def __init__(self, spec: MLflow) -> None:
        self.spec = spec
        require_mlflow()  # when the run is built, before any training; mlflow itself is imported at its start
        self.run_id = ""
        self.logged = 0  # the last epoch logged
        self.client: Any = None

    @hookimpl
    def plugnn_train_start(self, context: TrainContext) -> None:
        try:
            from mlflow.tracking import MlflowClient  # 1-2 s: only runs that log to MLflow pay it
        except ImportError:
            raise PlugnnError(MISSING) from None

        self.client = MlflowClient(tracking_uri=tracking_uri(self.spec.tracking_uri))
        if self.run_id:  # resumed: the same MLflow run, going on after its last logged epoch
            self.client.update_run(self.run_id, status="RUNNING")
            steps = [m.step for m in self.client.get_metric_history(self.run_id, "loss")]
            self.logged = max([self.logged, *steps])
            return
        name = self._experiment(context.folder)
        found = self.client.get_experiment_by_name(name)
        experiment = found.experiment_id if found is not None else self.client.create_experiment(name)
        run_name = self.spec.run_name or (context.folder.name if context.folder is not None else None)
        self.run_id = self.client.create_run(experiment, run_name=run_name).info.run_id
        from mlflow.entities import Param

        params = [Param(key, value[:6000]) for key, value in flatten(self._spec(context)).items()]
        for start in range(0, len(params), 100):  # MLflow takes at most 100 params a batch
            self.client.log_batch(self.run_id, params=params[start : start + 100])

    @hookimpl
    def plugnn_epoch_end(self, context: TrainContext) -> None:
        from mlflow.entities import Metric

        record = context.history.records[-1]
        epoch = int(record["epoch"])
        if epoch <= self.logged:
            return
        stamp = int(1000 * time.time())
        metrics = [
            Metric(column, float(value), stamp, epoch)
            for column, value in record.items()
            if column != "epoch" and value is not None and math.isfinite(value)
        ]
        self.client.log_batch(self.run_id, metrics=metrics)
        self.logged = epoch

    @hookimpl
    def plugnn_train_end(self, context: TrainContext) -> None:
        if not context.finished:
            self.client.set_terminated(self.run_id, status="KILLED")
            return
        with tempfile.TemporaryDirectory(prefix="plugnn-mlflow-") as scratch:
            folder = Path(scratch)
            plot_curves(context.history, folder / "curves.png")
            save(context.network, folder / "model.npz", optimizer=False, registry=context.registry)
            with contextlib.suppress(PlugnnError):  # no onnx extra, or a layer without a converter
                export_onnx(context.network, folder / "model.onnx", registry=context.registry)
            if context.folder is not None and (context.folder / "spec.toml").is_file():
                (folder / "spec.toml").write_text((context.folder / "spec.toml").read_text())
            self.client.log_artifacts(self.run_id, str(folder))
        self.client.set_terminated(self.run_id, status="FINISHED")

    def _experiment(self, folder: Path | None) -> str:
        if self.spec.experiment:
            return self.spec.experiment
        if folder is not None and (folder.parent / SWEEP_FILE).is_file():
            return folder.resolve().parent.name
        return "plugnn"

    def _spec(self, context: TrainContext) -> dict[str, Any]:
        """The run's spec as plain data: the run folder's ``spec.toml``, else the network's and the train spec."""
        if context.folder is not None and (context.folder / "spec.toml").is_file():
            path = context.folder / "spec.toml"
            data: dict[str, Any] = parse(read_text(path), "toml", str(path))
            return data
        network = unstructure(context.network.spec, context.registry) if context.network.spec is not None else {}
        return {"network": network, "train": unstructure(context.spec, context.registry)}

    def state_dict(self) -> dict[str, np.ndarray]:
        return {"run_id": np.array(self.run_id), "logged": np.array(self.logged)}

    def load_state_dict(self, state: Mapping[str, np.ndarray]) -> None:
        self.run_id, self.logged = str(state["run_id"]), int(state["logged"])


@hookimpl
def plugnn_register_callbacks(register: Register) -> None:
    register("mlflow", MLflow, MLflowLogger)
