r"""Mean squared error between the outputs ``Z`` ``(N, C)`` and one-hot labels, mean over all entries.

.. math::

    L = \frac{1}{NC} \sum_{n,c} (Z_{nc} - T_{nc})^2, \quad T = \mathrm{onehot}(y), \qquad
    \frac{\partial L}{\partial Z} = \frac{2 (Z - T)}{NC}

(``torch.nn.MSELoss()`` on one-hot targets. For real-valued targets, a regression, use the
standard ``mse`` loss.)
"""

from __future__ import annotations

import attrs
import numpy as np

from plugnn import LossSpec, hookimpl
from plugnn.protocols import Array, Labels


@attrs.frozen
class OneHotMSE(LossSpec):
    """Mean squared error against one-hot labels (a classification loss); has no settings."""


class OneHotMSELoss:
    def __init__(self, spec: OneHotMSE) -> None:
        self.spec = spec

    def __call__(self, logits: Array, labels: Labels) -> tuple[float, Array]:
        diff = logits.copy()
        diff[np.arange(len(labels)), labels] -= 1
        loss = float(np.mean(diff * diff))
        diff *= diff.dtype.type(2 / diff.size)
        return loss, diff


@hookimpl
def plugnn_register_losses(register) -> None:
    register("onehot_mse", OneHotMSE, OneHotMSELoss)
