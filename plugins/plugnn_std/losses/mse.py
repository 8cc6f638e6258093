r"""Mean squared error between outputs ``Z`` ``(N, C)`` and real targets ``T`` ``(N, C)``: a regression loss.

.. math::

    L = \frac{1}{NC} \sum_{n,c} (Z_{nc} - T_{nc})^2, \qquad
    \frac{\partial L}{\partial Z} = \frac{2 (Z - T)}{NC}

(``torch.nn.MSELoss()``; scikit-learn's ``mean_squared_error`` averaged over outputs.)
"""

from __future__ import annotations

import attrs
import numpy as np

from plugnn import LossSpec, hookimpl
from plugnn.protocols import Array
from plugnn.registry import Register


@attrs.frozen
class MSE(LossSpec):
    """Mean squared error on real targets; has no settings."""

    targets = "values"


class MSELoss:
    """Runtime mean squared error."""

    def __init__(self, spec: MSE) -> None:
        pass

    def __call__(self, outputs: Array, targets: Array) -> tuple[float, Array]:
        diff = outputs - targets
        loss = float(np.mean(diff * diff))
        diff *= diff.dtype.type(2 / diff.size)
        return loss, diff


@hookimpl
def plugnn_register_losses(register: Register) -> None:
    register("mse", MSE, MSELoss)
