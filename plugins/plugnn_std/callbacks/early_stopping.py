r"""Early stopping: end training when a history column has stopped improving.

After each epoch the monitored column is compared with its best value so far
(:class:`plugnn.callbacks.Monitor`); after ``patience`` epochs in a row without improvement
training stops (``patience = 0``: at the first such epoch). With ``restore_best`` the network ends
with the weights of the best epoch, whether training stopped early or ran all its epochs (Keras's
``restore_best_weights``; ``model.npz`` then holds those). Its state (best value and epoch, the
epochs waited, the best weights) goes into the checkpoint, so a resumed run stops where the
uninterrupted one would have, and a run that stopped stays stopped.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs
import numpy as np

from plugnn import hookimpl
from plugnn import validators as v
from plugnn.callbacks import MonitoredSpec, MonitoringCallback
from plugnn.errors import PlugnnError
from plugnn.registry import Register
from plugnn.train import TrainContext

BUFFER_PREFIX = "best_buffers/"


@attrs.frozen
class EarlyStopping(MonitoredSpec):
    """Stop after ``patience`` (>= 0) epochs without improvement; ``restore_best`` keeps the best weights."""

    patience: int = attrs.field(default=3, validator=[v.integer, v.non_negative])
    restore_best: bool = attrs.field(default=True, validator=v.boolean)

    @classmethod
    def examples(cls) -> list[EarlyStopping]:
        return [cls(), cls(monitor="val_accuracy", mode="max", patience=0, min_delta=0.01, restore_best=False)]

    @classmethod
    def invalid_examples(cls) -> list[dict[str, object]]:
        return [{"patience": -1}, {"mode": "lowest"}, {"min_delta": -0.1}, {"monitor": ""}]


class EarlyStopper(MonitoringCallback):
    """Runtime early stopping (see the module docstring)."""

    spec: EarlyStopping

    def __init__(self, spec: EarlyStopping) -> None:
        super().__init__(spec)
        self.waited = 0
        self.best_params: np.ndarray | None = None  # with restore_best: the best epoch's parameters
        self.best_buffers: dict[str, np.ndarray] = {}  # ... and the layers' buffers (running statistics)

    @hookimpl
    def plugnn_train_start(self, context: TrainContext) -> None:
        """Refuse resumed best weights that do not fit the network now, not when restoring them at the end."""
        if self.best_params is None:
            return
        network = context.network
        expected = {"best_params": network.params} | {BUFFER_PREFIX + k: v for k, v in network.buffer_state().items()}
        saved = {"best_params": self.best_params} | {BUFFER_PREFIX + k: v for k, v in self.best_buffers.items()}
        if saved.keys() != expected.keys():
            raise PlugnnError(
                f"early_stopping: its saved state holds {sorted(saved)}, the network needs {sorted(expected)}"
            )
        for name, value in saved.items():
            want = expected[name]
            if value.shape != want.shape or value.dtype != want.dtype or not np.all(np.isfinite(value)):
                raise PlugnnError(
                    f"early_stopping: its saved {name!r} (shape {value.shape} {value.dtype}) does not fit the "
                    f"network's (shape {want.shape} {want.dtype}) or is not finite"
                )

    @hookimpl
    def plugnn_epoch_end(self, context: TrainContext) -> None:
        if self.monitor.update(context.history):
            self.waited = 0
            if self.spec.restore_best:
                self.best_params = context.network.params.copy()
                self.best_buffers = context.network.buffer_state()
            return
        self.waited += 1
        if self.waited >= self.spec.patience and not context.stop:
            context.request_stop(
                f"early_stopping: {self.spec.monitor} did not improve for {self.waited} epochs "
                f"({self.monitor.describe()})"
            )

    @hookimpl
    def plugnn_train_end(self, context: TrainContext) -> None:
        if context.finished and self.best_params is not None:
            context.network.load_buffers(self.best_buffers)
            context.network.params[:] = self.best_params

    def state_dict(self) -> dict[str, np.ndarray]:
        state = super().state_dict() | {"waited": np.array(self.waited, dtype=np.int64)}
        if self.best_params is not None:
            state["best_params"] = self.best_params
            state |= {BUFFER_PREFIX + name: value for name, value in self.best_buffers.items()}
        return state

    def load_state_dict(self, state: Mapping[str, np.ndarray]) -> None:
        super().load_state_dict(state)
        self.waited = int(state["waited"])
        self.best_params = np.array(state["best_params"]) if "best_params" in state else None
        self.best_buffers = {
            key.removeprefix(BUFFER_PREFIX): np.array(value)
            for key, value in state.items()
            if key.startswith(BUFFER_PREFIX)
        }


@hookimpl
def plugnn_register_callbacks(register: Register) -> None:
    register("early_stopping", EarlyStopping, EarlyStopper)
