r"""Evaluating a network on held-out data: the mean loss and the metrics, in one inference pass.

The train loop calls :func:`evaluate` once per epoch for the validation set and once for the test
set, so it runs the network over each in chunks of :attr:`plugnn.Network.predict_chunk` rows (bounded
memory, no Python loop over samples) and computes every value from the same logits.
"""

from __future__ import annotations

import numpy as np

from plugnn.network import Network
from plugnn.protocols import Array

METRICS = {"labels": ("loss", "accuracy"), "values": ("loss", "mae", "rmse", "r2")}
"""What :func:`evaluate` reports for a classifier (``labels``) and a regressor (``values``); the
history's columns are ``<split>_<metric>`` (``val_loss``, ``test_r2``, ...)."""

HIGHER_IS_BETTER = frozenset({"accuracy", "r2"})
"""Metrics that improve upwards: a callback's ``mode = "auto"`` maximises them, and minimises the rest."""

SPLITS = ("train", "val", "test")
"""Prefixes of the history's columns (``train_accuracy``, ``val_loss``); the training loss is plain ``loss``."""


def metric_of(column: str) -> str:
    """The metric a history column measures: ``val_accuracy`` -> ``accuracy``, ``loss`` -> ``loss``."""
    split, _, metric = column.partition("_")
    return metric if split in SPLITS and metric else column


def evaluate(network: Network, x: Array, y: np.ndarray) -> dict[str, float]:
    r"""Inference-mode loss and metrics of ``network`` on ``x`` ``(N, *input_shape)`` and targets ``y``.

    ``loss`` is the network's loss averaged over all N samples, :math:`\frac1N\sum_c n_c L_c` over
    chunks c of :math:`n_c` rows each. A classifier (labels ``y`` ``(N,)``) adds ``accuracy``, the
    fraction of rows whose arg-max logit is the label; a regressor (values ``y`` ``(N, C)``) adds
    scikit-learn's ``mae``, ``rmse`` and ``r2`` (over all C outputs: mean absolute error, root of
    the mean squared error, mean R² per output). ``x`` and ``y``
    must already be checked (:func:`plugnn.checks.check_features`, :func:`plugnn.checks.check_targets`).
    """
    loss_sum, correct, outputs = 0.0, 0, []
    chunk = network.predict_chunk
    for start in range(0, len(x), chunk):
        xc, yc = x[start : start + chunk], y[start : start + chunk]
        logits = network.forward(xc)
        loss_sum += float(network.loss(logits, yc)[0]) * len(yc)
        if network.targets == "labels":
            correct += int(np.count_nonzero(logits.argmax(axis=1) == yc))
        else:
            outputs.append(logits)
    scores = {"loss": loss_sum / len(x)}
    if network.targets == "labels":
        return scores | {"accuracy": correct / len(x)}
    return scores | regression_metrics(y, np.concatenate(outputs))


def regression_metrics(y: Array, predicted: Array) -> dict[str, float]:
    r"""``mae`` :math:`\frac1N\sum|y - \hat y|`, ``rmse`` :math:`\sqrt{\frac1N\sum(y - \hat y)^2}` and
    ``r2`` :math:`1 - \sum(y - \hat y)^2 / \sum(y - \bar y)^2` (scikit-learn's, averaged over outputs)."""
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score  # imported here: light start-up

    return {
        "mae": float(mean_absolute_error(y, predicted)),
        "rmse": float(np.sqrt(mean_squared_error(y, predicted))),
        "r2": float(r2_score(y, predicted)) if len(y) > 1 else float("nan"),
    }
