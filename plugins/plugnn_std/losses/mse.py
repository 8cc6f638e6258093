r"""Mean squared error between outputs ``Z`` ``(N, C)`` and real targets ``T`` ``(N, C)``: a regression loss.

.. math::

    L = \frac{1}{NC} \sum_{n,c} (Z_{nc} - T_{nc})^2, \qquad
    \frac{\partial L}{\partial Z} = \frac{2 (Z - T)}{NC}

(``torch.nn.MSELoss()``; scikit-learn's ``mean_squared_error`` averaged over outputs.)
"""

from __future__ import annotations

import attrs

from plugnn import LossSpec, hookimpl
from plugnn.protocols import Array
from plugnn.registry import Register
from plugnn_std.losses.elementwise import ElementwiseLoss


@attrs.frozen
class MSE(LossSpec):
    """Mean squared error on real targets; has no settings."""

    targets = "values"


class MSELoss(ElementwiseLoss):
    """Runtime mean squared error: ``penalty`` d², ``slope`` 2d."""

    def penalty(self, diff: Array) -> Array:
        return diff * diff

    def slope(self, diff: Array) -> Array:
        diff *= diff.dtype.type(2)
        return diff


@hookimpl
def plugnn_register_losses(register: Register) -> None:
    register("mse", MSE, MSELoss)
