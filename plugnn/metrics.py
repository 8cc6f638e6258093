r"""Evaluating a network on held-out data: the mean loss and the metrics, in one inference pass.

The train loop calls :func:`evaluate` once per epoch for the validation set and once for the test
set, so it runs the network over each in chunks of :data:`plugnn.network.PREDICT_CHUNK` rows (bounded
memory, no Python loop over samples) and computes every value from the same logits.
"""

from __future__ import annotations

import numpy as np

from plugnn.network import PREDICT_CHUNK, Network
from plugnn.protocols import Array, Labels

METRICS = ("loss", "accuracy")
"""What :func:`evaluate` reports; the history's columns are ``<split>_<metric>`` (``val_loss``, ...)."""


def evaluate(network: Network, x: Array, y: Labels) -> dict[str, float]:
    r"""Inference-mode loss and accuracy of ``network`` on ``x`` ``(N, D)`` and labels ``y`` ``(N,)``.

    ``loss`` is the network's loss averaged over all N samples, :math:`\frac1N\sum_c n_c L_c` over
    chunks c of :math:`n_c` rows each; ``accuracy`` the fraction of rows whose arg-max logit is the
    label. ``x`` must already be checked (the network's width and dtype).
    """
    loss_sum, correct = 0.0, 0
    for start in range(0, len(x), PREDICT_CHUNK):
        xc, yc = x[start : start + PREDICT_CHUNK], y[start : start + PREDICT_CHUNK]
        logits = network.forward(xc)
        loss_sum += float(network.loss(logits, yc)[0]) * len(yc)
        correct += int(np.count_nonzero(logits.argmax(axis=1) == yc))
    return {"loss": loss_sum / len(x), "accuracy": correct / len(x)}
