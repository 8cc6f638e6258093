r"""Bases for callbacks that watch one history column: the spec fields and the best-value tracker.

A callback (early stopping, learning-rate reduction, best checkpoint) usually asks one question each
epoch: did the monitored column improve? :class:`MonitoredSpec` gives its spec the three settings
that question needs and :class:`Monitor` answers it, keeping its state as plain arrays for the
checkpoint. An epoch improves on the best value :math:`b` when its value :math:`v` satisfies
:math:`v < b - \delta` in ``"min"`` mode or :math:`v > b + \delta` in ``"max"`` mode
(:math:`\delta` = ``min_delta``); ``"auto"`` is ``"max"`` for columns whose metric is one where
higher is better (:data:`plugnn.metrics.HIGHER_IS_BETTER`, e.g. ``val_accuracy``) and ``"min"``
otherwise (losses).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import attrs
import numpy as np

from plugnn import validators as v
from plugnn.history import History
from plugnn.metrics import HIGHER_IS_BETTER, metric_of
from plugnn.specs import CallbackSpec


@attrs.frozen
class MonitoredSpec(CallbackSpec):
    """Settings of a callback that watches one history column.

    ``monitor`` is the column (``"val_loss"``, ``"val_accuracy"``, ``"loss"``, ...; an unknown one
    is refused before training), ``mode`` whether lower (``"min"``) or higher (``"max"``) is better
    (``"auto"``: from the column's name), ``min_delta`` (>= 0) the least change that counts as better.
    """

    monitor: str = attrs.field(default="val_loss", validator=v.text)
    mode: str = attrs.field(default="auto", validator=v.one_of(("auto", "min", "max")))
    min_delta: float = attrs.field(default=0.0, validator=v.non_negative)


def resolve_mode(column: str, mode: str) -> str:
    """``"min"`` or ``"max"`` for ``mode``, deciding ``"auto"`` from the column's metric name."""
    if mode != "auto":
        return mode
    return "max" if metric_of(column) in HIGHER_IS_BETTER else "min"


class Monitor:
    """The best value of one history column so far, and the epoch it came from."""

    def __init__(self, spec: MonitoredSpec) -> None:
        self.column = spec.monitor
        self.sign = 1.0 if resolve_mode(spec.monitor, spec.mode) == "min" else -1.0
        self.min_delta = float(spec.min_delta)
        self.best = math.inf * self.sign
        self.best_epoch = 0

    def update(self, history: History) -> bool:
        """Read the last epoch's value; True (and remember it) if it improves on the best by more than ``min_delta``."""
        record = history.records[-1]
        value = record[self.column]
        if value is None or not math.isfinite(value):
            return False
        if self.sign * (self.best - value) > self.min_delta:
            self.best, self.best_epoch = float(value), len(history.records)  # epochs count from 1
            return True
        return False

    def describe(self) -> str:
        """``val_loss 0.0812 at epoch 4`` (or ``no finite val_loss yet``)."""
        if not self.best_epoch:
            return f"no finite {self.column} yet"
        return f"best {self.column} {self.best:.4g} at epoch {self.best_epoch}"

    def state_dict(self) -> dict[str, np.ndarray]:
        return {"best": np.array(self.best, dtype=np.float64), "best_epoch": np.array(self.best_epoch, dtype=np.int64)}

    def load_state_dict(self, state: Mapping[str, np.ndarray]) -> None:
        self.best, self.best_epoch = float(state["best"]), int(state["best_epoch"])


class MonitoringCallback:
    """A base for the runtime object of a callback that watches ``spec.monitor``.

    It sets ``spec``, ``monitors`` (that one column, as :class:`plugnn.protocols.Callback` asks) and
    ``monitor`` (its :class:`Monitor`); its state is the monitor's. A subclass with state of its own
    calls ``super().__init__(spec)`` first and adds its arrays to ``super().state_dict()``.
    """

    def __init__(self, spec: MonitoredSpec) -> None:
        self.spec = spec
        self.monitors = (spec.monitor,)
        self.monitor = Monitor(spec)

    def state_dict(self) -> dict[str, np.ndarray]:
        return self.monitor.state_dict()

    def load_state_dict(self, state: Mapping[str, np.ndarray]) -> None:
        self.monitor.load_state_dict(state)
