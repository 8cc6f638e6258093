r"""Scoring a model on arrays: its loss and metrics in one inference pass.

:func:`score` is the array twin of :func:`plugnn.evaluate` (which reloads a run folder): it checks
``X`` and ``y`` like training does, runs the network in inference mode and returns the mean loss
and its metrics, in chunks (:func:`plugnn.metrics.evaluate`, which the train loop uses per epoch).
"""

from __future__ import annotations

from typing import Any

from plugnn.checks import check_features, check_targets
from plugnn.metrics import evaluate
from plugnn.network import Network


def score(model: Network, x: Any, y: Any) -> dict[str, float]:
    r"""The loss and metrics of ``model`` on ``x`` ``(N, *input_shape)`` and targets ``y``.

    A classifier (labels ``y`` ``(N,)``) gives ``{"loss", "accuracy"}``; a regressor (real ``y``
    ``(N, C)``, or ``(N,)`` with one output) ``{"loss", "mae", "rmse", "r2"}``. ``loss`` is the
    model's loss, the mean over all N samples in inference mode (no dropout).
    """
    x = check_features(x, model.input_shape, model.dtype, "X")
    return evaluate(model, x, check_targets(y, len(x), model.targets, model.output_shape, model.dtype, "y"))
