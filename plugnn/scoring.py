r"""Scoring a model on arrays: its loss and metrics in one inference pass.

:func:`score` is the array twin of :func:`plugnn.evaluate` (which reloads a run folder): it checks
``X`` and ``y`` like training does, runs the network in inference mode and returns the mean loss
and the accuracy, in chunks (:func:`plugnn.metrics.evaluate`, which the train loop uses per epoch).
"""

from __future__ import annotations

from typing import Any

from plugnn.checks import check_features, check_labels
from plugnn.metrics import evaluate
from plugnn.network import Network


def score(model: Network, x: Any, y: Any) -> dict[str, float]:
    r"""``{"loss": L, "accuracy": a}`` of ``model`` on ``x`` ``(N, D)`` and labels ``y`` ``(N,)``.

    ``L`` is the model's loss, the mean over all N samples in inference mode (no dropout);
    ``a`` the fraction of samples whose arg-max logit is the label.
    """
    x = check_features(x, model.input_shape, model.dtype, "X")
    return evaluate(model, x, check_labels(y, len(x), model.output_shape[0], "y"))
