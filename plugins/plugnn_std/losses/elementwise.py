r"""The base of the regression losses: a mean of an element-wise penalty of the residual.

With outputs ``Z`` and real targets ``T``, both ``(N, C)``, and the residual ``d = Z − T``:

.. math::

    L = \frac{1}{NC} \sum_{n,c} \ell(d_{nc}), \qquad \frac{\partial L}{\partial Z} = \frac{\ell'(d)}{NC}

A subclass gives :math:`\ell` (``penalty``) and :math:`\ell'` (``slope``); ``mse``, ``mae`` and
``huber`` are such losses.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from plugnn import LossSpec
from plugnn.protocols import Array


class ElementwiseLoss(ABC):
    """Runtime regression loss: the mean of ``penalty(d)`` over all ``N·C`` residuals, and its gradient."""

    def __init__(self, spec: LossSpec) -> None:
        self.spec = spec

    @abstractmethod
    def penalty(self, diff: Array) -> Array:
        r""":math:`\ell(d)`, element-wise; ``diff`` must be left unchanged."""

    @abstractmethod
    def slope(self, diff: Array) -> Array:
        r""":math:`\ell'(d)`, element-wise; may be computed in place in ``diff`` (called after ``penalty``)."""

    def __call__(self, outputs: Array, targets: Array) -> tuple[float, Array]:
        diff = outputs - targets
        loss = float(np.mean(self.penalty(diff)))
        grad = self.slope(diff)
        grad *= grad.dtype.type(1 / grad.size)
        return loss, grad
