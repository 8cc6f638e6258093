r"""Batch normalisation (Ioffe & Szegedy 2015), per channel: ``(N, *shape) -> (N, *shape)``.

The channel is the last axis: features after a dense layer ``(N, D)``, channels after a convolution
``(N, H, W, C)`` (statistics then over ``N·H·W`` values per channel). The maths and the backward
formula are in :mod:`plugnn_vision.ops.batch_norm`.

* training mode: normalise with the batch's mean and biased variance, and update the running
  statistics with **PyTorch's convention** (``torch.nn.BatchNorm*d``, default ``momentum = 0.1``):
  ``r_μ ← (1 − m)·r_μ + m·μ`` and ``r_σ² ← (1 − m)·r_σ² + m·σ²·M/(M − 1)`` (the *unbiased* batch
  variance; Keras' ``momentum = 0.99`` means ``1 − m`` here);
* inference mode: normalise with the running statistics, which stay unchanged.

Parameters ``γ`` (``gamma``, ones) and ``β`` (``beta``, zeros), shape ``(C,)``; buffers
``running_mean`` (zeros) and ``running_var`` (ones), ``(C,)``, saved with the model and checkpoints.
"""

from __future__ import annotations

import attrs
import numpy as np

from plugnn import BuildContext, LayerSpec, hookimpl
from plugnn import validators as v
from plugnn.protocols import Array
from plugnn_vision.ops import batch_norm


@attrs.frozen
class BatchNorm(LayerSpec):
    """Batch norm with running-statistics ``momentum`` in (0, 1] (PyTorch's sense) and ``eps`` > 0."""

    momentum: float = attrs.field(default=0.1, validator=[v.positive, v.in_range(0.0, 1.0, include_high=True)])
    eps: float = attrs.field(default=1e-5, validator=v.positive)

    @classmethod
    def examples(cls) -> list[BatchNorm]:
        return [cls(), cls(momentum=0.5, eps=1e-3)]

    @classmethod
    def invalid_examples(cls) -> list[dict[str, object]]:
        return [{"momentum": 0.0}, {"momentum": 1.5}, {"eps": 0.0}, {"eps": -1e-5}]

    @classmethod
    def example_input_shapes(cls) -> list[tuple[int, ...]]:
        return [(5,), (3, 4, 2), (2, 3, 1)]


class BatchNormLayer:
    def __init__(self, spec: BatchNorm, input_shape: tuple[int, ...], ctx: BuildContext) -> None:
        channels = input_shape[-1]
        self.momentum, self.eps = spec.momentum, spec.eps
        self.output_shape = tuple(input_shape)
        self.params = {"gamma": np.ones(channels, dtype=ctx.dtype), "beta": np.zeros(channels, dtype=ctx.dtype)}
        self.grads = {name: np.zeros_like(value) for name, value in self.params.items()}
        self.buffers = {
            "running_mean": np.zeros(channels, dtype=ctx.dtype),
            "running_var": np.ones(channels, dtype=ctx.dtype),
        }
        self._x_hat: Array | None = None  # training mode: kept for backward
        self._x: Array | None = None  # inference mode: the input and the running mean, for backward
        self._mean: Array | None = None
        self._inv_std: Array | None = None
        self._training = False

    def forward(self, x: Array, *, training: bool = False) -> Array:
        self._x = self._x_hat = None  # let the last batch's arrays go before making new ones
        rows = x.reshape(-1, x.shape[-1])
        gamma, beta = self.params["gamma"], self.params["beta"]
        self._training = training
        if training:  # the batch's own statistics; the running ones move towards them
            y, self._x_hat, mean, var, self._inv_std = batch_norm.train_forward(rows, gamma, beta, self.eps)
            self._update(mean, var, len(rows))
            return y.reshape(x.shape)
        # inference: an affine map per channel, Y = X·scale + (β − μ·scale), in one new array
        mean, var = self.buffers["running_mean"], self.buffers["running_var"]
        self._inv_std = 1 / np.sqrt(var + var.dtype.type(self.eps))
        scale = gamma * self._inv_std
        self._x, self._mean = rows, mean.copy()
        y = rows * scale
        y += beta - mean * scale
        return y.reshape(x.shape)

    def _update(self, mean: Array, var: Array, count: int) -> None:
        m = self.momentum
        running_mean, running_var = self.buffers["running_mean"], self.buffers["running_var"]
        running_mean *= 1 - m
        running_mean += m * mean
        running_var *= 1 - m
        running_var += (m * count / max(count - 1, 1)) * var

    def backward(self, grad_out: Array, *, input_grad: bool = True) -> Array | None:
        shape = grad_out.shape
        grad = grad_out.reshape(-1, shape[-1])
        gamma = self.params["gamma"]
        if self._training:
            dx, dgamma, dbeta = batch_norm.backward(grad, self._x_hat, self._inv_std, gamma)
        else:  # the statistics are constants: Y is affine in X
            x_hat = (self._x - self._mean) * self._inv_std
            dgamma = np.einsum("mc,mc->c", grad, x_hat)
            dbeta = grad.sum(axis=0)
            dx = grad * (gamma * self._inv_std)
        self.grads["gamma"][...] = dgamma
        self.grads["beta"][...] = dbeta
        return dx.reshape(shape) if input_grad else None


@hookimpl
def plugnn_register_layers(register) -> None:
    register("batch_norm", BatchNorm, BatchNormLayer)
