r"""Softmax cross-entropy on logits ``Z`` ``(N, C)`` and integer labels ``y`` ``(N,)``, mean over the batch.

.. math::

    L = \frac{1}{N} \sum_n \Big(\log \sum_c e^{Z_{nc} - m_n} - (Z_{n y_n} - m_n)\Big),
    \quad m_n = \max_c Z_{nc}

    \frac{\partial L}{\partial Z} = \frac{\mathrm{softmax}(Z) - \mathrm{onehot}(y)}{N}

Subtracting the row maximum ``m`` keeps every exponent <= 0, so unscaled inputs cannot overflow.
Value and gradient share one pass (one ``exp``). With few classes the gradient ``(N, C)`` is the
transpose of a C-contiguous ``(C, N)`` array (see :data:`FEW_CLASSES`).
"""

from __future__ import annotations

import attrs
import numpy as np

from plugnn import LossSpec, hookimpl
from plugnn.checks import check_labels
from plugnn.protocols import Array, Labels
from plugnn.registry import Register


@attrs.frozen
class SoftmaxCrossEntropy(LossSpec):
    """Softmax cross-entropy; has no settings."""


FEW_CLASSES = 64
"""Up to this many classes the loss works on the transposed logits ``(C, N)``: numpy reduces a short
contiguous axis with a per-row overhead (the row maxima of ``(5000, 10)`` logits take 0.22 ms; the
transposing copy and the column maxima of the ``(10, 5000)`` result 0.03 ms together). With more
classes the transposing copy costs more than it saves."""


class SoftmaxCrossEntropyLoss:
    """Runtime softmax cross-entropy."""

    def __init__(self, spec: SoftmaxCrossEntropy) -> None:
        pass

    def __call__(self, logits: Array, labels: Labels) -> tuple[float, Array]:
        n, classes = logits.shape
        rows = np.arange(n)
        if classes <= FEW_CLASSES:  # a C-ordered copy of Z^T (C, N): every reduction runs down its columns
            z, axis, true = logits.T.copy(), 0, (labels, rows)
        else:
            z, axis, true = logits.copy(), 1, (rows, labels)
        flat = z.reshape(-1)  # a view of the copy: the caller's logits stay as they were
        try:
            true = np.ravel_multi_index(true, z.shape)  # flat positions of the true classes (bounds-checked)
        except ValueError:
            check_labels(labels, n, classes, "labels")  # names the labels out of range and the range
            raise
        z -= z.max(axis=axis, keepdims=True)
        true_class = flat.take(true)
        np.exp(z, out=z)  # from here on, z holds exp(Z - m)
        sums = z.sum(axis=axis, keepdims=True)
        loss = float(np.mean(np.log(sums.ravel()) - true_class))
        z *= 1 / (sums * n)  # softmax / N
        flat[true] -= z.dtype.type(1 / n)
        return loss, z.T if axis == 0 else z


@hookimpl
def plugnn_register_losses(register: Register) -> None:
    register("softmax_cross_entropy", SoftmaxCrossEntropy, SoftmaxCrossEntropyLoss)
