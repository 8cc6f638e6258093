r"""Huber loss between outputs ``Z`` ``(N, C)`` and real targets ``T`` ``(N, C)``: a regression loss.

With ``d = Z − T`` and threshold ``δ``, element-wise

.. math::

    \ell(d) = \begin{cases} \tfrac12 d^2 & |d| \le δ \\ δ (|d| - \tfrac12 δ) & |d| > δ \end{cases},
    \qquad L = \frac{1}{NC} \sum_{n,c} \ell(d_{nc}), \qquad
    \frac{\partial L}{\partial Z} = \frac{\operatorname{clip}(d, -δ, δ)}{NC}

quadratic near the target, linear (robust to outliers) beyond ``δ``; ``torch.nn.HuberLoss(delta=δ)``.
"""

from __future__ import annotations

import attrs
import numpy as np

from plugnn import LossSpec, hookimpl
from plugnn import validators as v
from plugnn.protocols import Array
from plugnn.registry import Register


@attrs.frozen
class Huber(LossSpec):
    """Huber loss on real targets with threshold ``delta`` (> 0, default 1.0)."""

    targets = "values"
    delta: float = attrs.field(default=1.0, validator=v.positive)

    @classmethod
    def examples(cls) -> list[Huber]:
        return [cls(), cls(delta=0.5)]

    @classmethod
    def invalid_examples(cls) -> list[dict[str, object]]:
        return [{"delta": 0.0}, {"delta": -1.0}]


class HuberLoss:
    """Runtime Huber loss."""

    def __init__(self, spec: Huber) -> None:
        self.delta = spec.delta

    def __call__(self, outputs: Array, targets: Array) -> tuple[float, Array]:
        diff = outputs - targets
        size, delta = np.abs(diff), diff.dtype.type(self.delta)
        quadratic = size <= delta
        loss = float(np.mean(np.where(quadratic, 0.5 * diff * diff, delta * (size - 0.5 * delta))))
        grad = np.clip(diff, -delta, delta, out=diff)
        grad *= grad.dtype.type(1 / grad.size)
        return loss, grad


@hookimpl
def plugnn_register_losses(register: Register) -> None:
    register("huber", Huber, HuberLoss)
