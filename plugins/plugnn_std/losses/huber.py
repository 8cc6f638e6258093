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
from plugnn_std.losses.elementwise import ElementwiseLoss


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


class HuberLoss(ElementwiseLoss):
    """Runtime Huber loss: ``penalty`` ℓ(d), ``slope`` clip(d, −δ, δ)."""

    spec: Huber

    def penalty(self, diff: Array) -> Array:
        size, delta = np.abs(diff), diff.dtype.type(self.spec.delta)
        return np.where(size <= delta, 0.5 * diff * diff, delta * (size - 0.5 * delta))

    def slope(self, diff: Array) -> Array:
        delta = diff.dtype.type(self.spec.delta)
        return np.clip(diff, -delta, delta, out=diff)


@hookimpl
def plugnn_register_losses(register: Register) -> None:
    register("huber", Huber, HuberLoss)
