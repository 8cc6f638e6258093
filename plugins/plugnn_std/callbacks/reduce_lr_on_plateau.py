r"""Reduce the learning rate when a history column has stopped improving (Keras's ``ReduceLROnPlateau``).

After ``patience`` epochs in a row without improvement of ``monitor`` the learning rate is
multiplied by ``factor`` (but not below ``min_lr``), then ``cooldown`` epochs pass before the
waiting starts again. The reduction is a factor on top of the spec's rate and schedule
(``context.lr_scale``, applied from the next epoch on), so it composes with a schedule and is part
of the checkpoint, as is this callback's own state (best value, epochs waited, cooldown left).
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs
import numpy as np

from plugnn import hookimpl
from plugnn import validators as v
from plugnn.callbacks import MonitoredSpec, MonitoringCallback
from plugnn.registry import Register
from plugnn.train import TrainContext


@attrs.frozen
class ReduceLROnPlateau(MonitoredSpec):
    """Multiply the rate by ``factor`` in (0, 1) after ``patience`` epochs without improvement; floor ``min_lr``."""

    factor: float = attrs.field(default=0.1, validator=v.fraction)
    patience: int = attrs.field(default=2, validator=[v.integer, v.non_negative])
    cooldown: int = attrs.field(default=0, validator=[v.integer, v.non_negative])
    min_lr: float = attrs.field(default=0.0, validator=v.non_negative)

    @classmethod
    def examples(cls) -> list[ReduceLROnPlateau]:
        return [cls(), cls(monitor="val_accuracy", factor=0.5, patience=0, cooldown=1, min_lr=1e-5)]

    @classmethod
    def invalid_examples(cls) -> list[dict[str, object]]:
        return [{"factor": 1.0}, {"factor": 0.0}, {"patience": -1}, {"cooldown": -2}, {"min_lr": -1.0}]


class PlateauReducer(MonitoringCallback):
    """Runtime learning-rate reduction on a plateau (see the module docstring)."""

    spec: ReduceLROnPlateau

    def __init__(self, spec: ReduceLROnPlateau) -> None:
        super().__init__(spec)
        self.waited = 0
        self.cooldown_left = 0

    @hookimpl
    def plugnn_epoch_end(self, context: TrainContext) -> None:
        if self.cooldown_left > 0:
            self.cooldown_left -= 1
            self.waited = 0
        if self.monitor.update(context.history):
            self.waited = 0
        elif self.cooldown_left == 0:
            self.waited += 1
            lr = context.optimizer.lr
            if self.waited >= self.spec.patience and lr > self.spec.min_lr:
                context.lr_scale *= max(self.spec.factor, self.spec.min_lr / lr)
                self.cooldown_left, self.waited = self.spec.cooldown, 0

    def state_dict(self) -> dict[str, np.ndarray]:
        counters = np.array([self.waited, self.cooldown_left], dtype=np.int64)
        return super().state_dict() | {"counters": counters}

    def load_state_dict(self, state: Mapping[str, np.ndarray]) -> None:
        super().load_state_dict(state)
        self.waited, self.cooldown_left = (int(c) for c in state["counters"])


@hookimpl
def plugnn_register_callbacks(register: Register) -> None:
    register("reduce_lr_on_plateau", ReduceLROnPlateau, PlateauReducer)
