r"""Mean absolute error between outputs ``Z`` ``(N, C)`` and real targets ``T`` ``(N, C)``: a regression loss.

.. math::

    L = \frac{1}{NC} \sum_{n,c} |Z_{nc} - T_{nc}|, \qquad
    \frac{\partial L}{\partial Z} = \frac{\operatorname{sign}(Z - T)}{NC}

(``torch.nn.L1Loss()``; the sub-gradient at ``Z = T`` is 0.)
"""

from __future__ import annotations

import attrs
import numpy as np

from plugnn import LossSpec, hookimpl
from plugnn.protocols import Array
from plugnn.registry import Register
from plugnn_std.losses.elementwise import ElementwiseLoss


@attrs.frozen
class MAE(LossSpec):
    """Mean absolute error on real targets; has no settings."""

    targets = "values"


class MAELoss(ElementwiseLoss):
    """Runtime mean absolute error: ``penalty`` |d|, ``slope`` sign(d)."""

    def penalty(self, diff: Array) -> Array:
        return np.abs(diff)

    def slope(self, diff: Array) -> Array:
        return np.sign(diff, out=diff)


@hookimpl
def plugnn_register_losses(register: Register) -> None:
    register("mae", MAE, MAELoss)
