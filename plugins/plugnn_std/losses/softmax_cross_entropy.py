r"""Softmax cross-entropy on logits ``Z`` ``(N, C)`` and integer labels ``y`` ``(N,)``, mean over the batch.

.. math::

    L = \frac{1}{N} \sum_n \Big(\log \sum_c e^{Z_{nc} - m_n} - (Z_{n y_n} - m_n)\Big),
    \quad m_n = \max_c Z_{nc}

    \frac{\partial L}{\partial Z} = \frac{\mathrm{softmax}(Z) - \mathrm{onehot}(y)}{N}

Subtracting the row maximum ``m`` keeps every exponent <= 0, so unscaled inputs cannot overflow.
Value and gradient share one pass (one ``exp``).
"""

from __future__ import annotations

import attrs
import numpy as np

from plugnn import LossSpec, hookimpl
from plugnn.protocols import Array, Labels
from plugnn.registry import Register


@attrs.frozen
class SoftmaxCrossEntropy(LossSpec):
    """Softmax cross-entropy; has no settings."""


class SoftmaxCrossEntropyLoss:
    """Runtime softmax cross-entropy."""

    def __init__(self, spec: SoftmaxCrossEntropy) -> None:
        pass

    def __call__(self, logits: Array, labels: Labels) -> tuple[float, Array]:
        n = logits.shape[0]
        rows = np.arange(n)
        shifted = logits - logits.max(axis=1, keepdims=True)
        true_class = shifted[rows, labels]
        grad = np.exp(shifted, out=shifted)  # from here on, shifted holds exp(Z - m)
        sums = grad.sum(axis=1, keepdims=True)
        loss = float(np.mean(np.log(sums[:, 0]) - true_class))
        grad *= 1 / (sums * n)  # softmax / N
        grad[rows, labels] -= grad.dtype.type(1 / n)
        return loss, grad


@hookimpl
def plugnn_register_losses(register: Register) -> None:
    register("softmax_cross_entropy", SoftmaxCrossEntropy, SoftmaxCrossEntropyLoss)
