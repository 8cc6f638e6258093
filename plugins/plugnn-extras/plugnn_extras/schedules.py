r"""Learning-rate schedules: the factor on the initial learning rate at the start of each epoch.

plugnn's train loop sets ``optimizer.lr = lr_0 * schedule(epoch, epochs)`` before every epoch
(``epoch`` counts from 0); a spec names a schedule in ``TrainSpec.schedule``.

* ``step``: :math:`\gamma^{\lfloor e / s \rfloor}`, ``torch.optim.lr_scheduler.StepLR``.
* ``cosine``: :math:`f_{\min} + (1 - f_{\min}) \tfrac12 (1 + \cos(\pi e / E))`,
  ``CosineAnnealingLR`` with ``T_max = E`` (epochs) and ``eta_min = f_min * lr_0``.
"""

from __future__ import annotations

import math

import attrs

from plugnn import hookimpl
from plugnn import validators as v
from plugnn.specs import ScheduleSpec


@attrs.frozen
class Step(ScheduleSpec):
    """Multiply the rate by ``gamma`` in (0, 1] every ``step_size`` epochs."""

    step_size: int = attrs.field(default=10, validator=[v.integer, v.positive])
    gamma: float = attrs.field(default=0.1, validator=[v.positive, v.in_range(0.0, 1.0, include_high=True)])

    @classmethod
    def invalid_examples(cls) -> list[dict[str, object]]:
        return [{"step_size": 0}, {"gamma": 0.0}, {"gamma": 2.0}]


class StepSchedule:
    def __init__(self, spec: Step) -> None:
        self.spec = spec

    def __call__(self, epoch: int, epochs: int) -> float:
        return float(self.spec.gamma ** (epoch // self.spec.step_size))


@attrs.frozen
class Cosine(ScheduleSpec):
    """Cosine annealing from the initial rate towards ``min_factor`` times it over the run."""

    min_factor: float = attrs.field(default=0.0, validator=v.in_range(0.0, 1.0, include_high=True))

    @classmethod
    def invalid_examples(cls) -> list[dict[str, object]]:
        return [{"min_factor": -0.5}]


class CosineSchedule:
    def __init__(self, spec: Cosine) -> None:
        self.spec = spec

    def __call__(self, epoch: int, epochs: int) -> float:
        low = self.spec.min_factor
        return low + (1 - low) * 0.5 * (1 + math.cos(math.pi * epoch / epochs))


@hookimpl
def plugnn_register_schedules(register) -> None:
    register("step", Step, StepSchedule)
    register("cosine", Cosine, CosineSchedule)
