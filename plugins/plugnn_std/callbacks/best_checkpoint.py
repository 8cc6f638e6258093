"""Keep the best model: save the network whenever a history column reaches a new best.

The file (``best-model.npz`` in the run folder unless ``filename`` says otherwise) is a model file
like ``model.npz``, written atomically, loadable with ``plugnn.load`` and ``plugnn evaluate``;
it needs a run folder (``plugnn run``, or ``plugnn.fit(..., folder=...)``). Its state (the best
value and its epoch) goes into the checkpoint, so a resumed run keeps comparing with the right best.
A run continued into a new folder (``plugnn run --from``, ``plugnn.run(start_from=...)``), which has
no checkpoint of its own yet, starts comparing afresh: the new folder gets the best model of its own
epochs.
"""

from __future__ import annotations

from pathlib import PurePath

import attrs

from plugnn import hookimpl
from plugnn.callbacks import Monitor, MonitoredSpec, MonitoringCallback
from plugnn.checkpoint import CHECKPOINT
from plugnn.errors import FieldError, PlugnnError
from plugnn.model_io import save
from plugnn.registry import Register
from plugnn.train import TrainContext


def _file_name(_instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not value.endswith(".npz") or PurePath(value).name != value:
        raise FieldError(attribute.name, f"expected a file name ending in .npz, without folders, got {value!r}")


@attrs.frozen
class BestCheckpoint(MonitoredSpec):
    """Save the model to ``filename`` in the run folder whenever ``monitor`` improves."""

    filename: str = attrs.field(default="best-model.npz", validator=_file_name)

    @classmethod
    def examples(cls) -> list[BestCheckpoint]:
        return [cls(), cls(monitor="val_accuracy", mode="max", min_delta=0.001, filename="best-accuracy.npz")]

    @classmethod
    def invalid_examples(cls) -> list[dict[str, object]]:
        return [{"filename": "../best.npz"}, {"filename": "best.pkl"}, {"mode": "up"}]


class BestCheckpointer(MonitoringCallback):
    """Runtime best-model keeper (see the module docstring)."""

    spec: BestCheckpoint

    @hookimpl
    def plugnn_train_start(self, context: TrainContext) -> None:
        if context.folder is None:
            raise PlugnnError(
                f"best_checkpoint writes {self.spec.filename} into the run folder, and this run has none: "
                "use plugnn run / plugnn.run, or pass folder= to plugnn.fit"
            )
        if not (context.folder / CHECKPOINT).exists():  # not resuming this folder: its own best, from its epochs
            self.monitor = Monitor(self.spec)

    @hookimpl
    def plugnn_epoch_end(self, context: TrainContext) -> None:
        if self.monitor.update(context.history):
            assert context.folder is not None
            save(context.network, context.folder / self.spec.filename, optimizer=False, registry=context.registry)


@hookimpl
def plugnn_register_callbacks(register: Register) -> None:
    register("best_checkpoint", BestCheckpoint, BestCheckpointer)
