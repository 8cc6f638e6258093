r"""The runtime network: layers in order, a loss, and all parameters in one flat buffer.

Every layer's parameters (and gradients) are views into ``Network.params`` (``Network.grads``), so
an optimizer updates the whole network in one pass over two flat arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from plugnn.checks import check_features
from plugnn.errors import PlugnnError
from plugnn.protocols import Array, Labels, Layer, Loss, Optimizer

if TYPE_CHECKING:
    from plugnn.specs import NetworkSpec
    from plugnn.train import TrainState

PREDICT_CHUNK = 4096
"""Rows per forward pass in :meth:`Network.predict` and friends (bounds their memory)."""


def softmax(logits: Array) -> Array:
    r"""Row-wise :math:`\mathrm{softmax}(Z)_{nc} = e^{Z_{nc} - \max_k Z_{nk}} / \sum_j e^{Z_{nj} - \max_k Z_{nk}}`."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    np.exp(shifted, out=shifted)
    shifted /= shifted.sum(axis=1, keepdims=True)
    return shifted


class Network:
    """Layers, a loss and their parameters; built by :func:`plugnn.build_network`.

    Attributes
    ----------
    params, grads : Array
        Flat buffers of every parameter and its gradient, shape ``(n_params,)``.
    in_features : int
        Input width ``D``; inputs are ``(N, D)``.
    out_features : int
        Output width ``C`` (the number of classes for a classifier); logits are ``(N, C)``.
    noise : numpy.random.Generator
        The generator the layers draw run-time randomness from (dropout masks).
    train_state : plugnn.train.TrainState or None
        What continuing to train needs (optimizer state, shuffling generator, history), set by
        :func:`plugnn.train` and restored by :func:`plugnn.load`; None for an untrained network.
    """

    def __init__(
        self,
        layers: Sequence[Layer],
        loss: Loss,
        *,
        in_features: int,
        dtype: np.dtype,
        names: Sequence[str] | None = None,
        spec: NetworkSpec | None = None,
        noise: np.random.Generator | None = None,
    ) -> None:
        self.layers = list(layers)
        self.loss = loss
        self.in_features = in_features
        self.out_features = self.layers[-1].out_features
        self.dtype = np.dtype(dtype)
        self.names = list(names) if names is not None else [type(layer).__name__ for layer in self.layers]
        self.spec = spec
        self.noise = noise if noise is not None else np.random.default_rng()
        self.params, self.grads = self._flatten()
        self.train_state: TrainState | None = None

    def _flatten(self) -> tuple[Array, Array]:
        total = sum(p.size for layer in self.layers for p in layer.params.values())
        params = np.empty(total, dtype=self.dtype)
        grads = np.zeros(total, dtype=self.dtype)
        offset = 0
        for index, layer in enumerate(self.layers):
            for key, value in layer.params.items():
                if value.dtype != self.dtype or layer.grads[key].shape != value.shape:
                    raise PlugnnError(
                        f"layer {index} ({self.names[index]}) parameter {key!r}: expected dtype {self.dtype} "
                        f"and a gradient of shape {value.shape}, got {value.dtype} and {layer.grads[key].shape}"
                    )
                stop = offset + value.size
                params[offset:stop] = value.ravel()
                layer.params[key] = params[offset:stop].reshape(value.shape)
                layer.grads[key] = grads[offset:stop].reshape(value.shape)
                offset = stop
        return params, grads

    @property
    def n_params(self) -> int:
        """Total number of trainable scalars."""
        return int(self.params.size)

    def forward(self, x: Array, *, training: bool = False) -> Array:
        """Logits ``(N, C)`` for inputs ``x`` ``(N, D)``."""
        for layer in self.layers:
            x = layer.forward(x, training=training)
        return x

    def backward(self, grad_logits: Array) -> None:
        r"""Back-propagate :math:`\partial L/\partial Z` ``(N, C)``, filling :attr:`grads`."""
        grad = grad_logits
        for index in range(len(self.layers) - 1, 0, -1):
            grad = self.layers[index].backward(grad, input_grad=True)  # type: ignore[assignment]
        self.layers[0].backward(grad, input_grad=False)  # nothing below the first layer needs dL/dX

    def train_step(self, x: Array, y: Labels, optimizer: Optimizer) -> tuple[float, Array]:
        """One forward, backward and optimizer step on a batch; returns the loss and the logits."""
        logits = self.forward(x, training=True)
        loss, grad = self.loss(logits, y)
        self.backward(grad)
        optimizer.step([self.params], [self.grads])
        return loss, logits

    def _chunks(self, x: Array) -> Array:
        return np.concatenate(
            [self.forward(x[start : start + PREDICT_CHUNK]) for start in range(0, len(x), PREDICT_CHUNK)]
        )

    def logits(self, x: Array) -> Array:
        """Inference-mode logits ``(N, C)``, computed in chunks of :data:`PREDICT_CHUNK` rows.

        ``x`` is checked first (width, finiteness) and converted to the network's dtype.
        """
        return self._chunks(check_features(x, self.in_features, self.dtype, "X"))

    def predict_proba(self, x: Array) -> Array:
        """Class probabilities ``(N, C)``: the softmax of the logits."""
        return softmax(self.logits(x))

    def predict(self, x: Array) -> Labels:
        """Predicted class indices ``(N,)``: the argmax of the logits."""
        return self.logits(x).argmax(axis=1)

    def summary(self) -> str:
        """A table of layers, output shapes and parameter counts, like Keras's ``model.summary()``."""
        rows = [("layer", "output shape", "params")]
        for index, (name, layer) in enumerate(zip(self.names, self.layers, strict=True)):
            count = sum(p.size for p in layer.params.values())
            rows.append((f"{index}: {name}", f"(N, {layer.out_features})", f"{count:,}"))
        widths = [max(len(row[col]) for row in rows) for col in range(3)]
        rule = "-" * (sum(widths) + 4)
        lines = [f"{rows[0][0]:<{widths[0]}}  {rows[0][1]:<{widths[1]}}  {rows[0][2]:>{widths[2]}}", rule]
        lines += [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:>{widths[2]}}" for a, b, c in rows[1:]]
        lines += [rule, f"input (N, {self.in_features}); {self.n_params:,} trainable parameters ({self.dtype})"]
        return "\n".join(lines)
