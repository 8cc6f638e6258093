r"""Batch normalisation (Ioffe & Szegedy 2015) over the rows of ``X`` ``(M, C)``, per channel.

A layer reshapes ``(N, D)`` or ``(N, H, W, C)`` to ``(M, C)`` (``M = N`` or ``N·H·W``) first.

.. math::

    μ = \frac1M Σ_m X_m,\quad σ² = \frac1M Σ_m (X_m − μ)²,\quad
    \hat X = \frac{X − μ}{\sqrt{σ² + ε}},\quad Y = γ \hat X + β

and with ``G = ∂L/∂Y``:

.. math::

    ∂L/∂γ = Σ_m G_m \hat X_m,\quad ∂L/∂β = Σ_m G_m,\quad
    ∂L/∂X = \frac{γ}{M \sqrt{σ² + ε}} \bigl(M G − Σ_m G_m − \hat X \, Σ_m G_m \hat X_m\bigr).

:func:`train_forward` and :func:`backward` have compiled twins (:mod:`plugnn.kernels`) with the same
bits: numpy sums the rows of a C-contiguous ``(M, C)`` array with ``C > 1`` one after the other into
a row of ``C`` sums, and so do the twins, in one pass for both of the backward's sums; the
element-wise passes (``X̂`` and ``Y``; ``∂L/∂X``) are one pass each, over blocks of rows split between
the run's threads. With one channel numpy sums pairwise, and the twins call the references.
"""

from __future__ import annotations

import numpy as np

from plugnn.kernels import choose, compiled
from plugnn.parallel import for_rows
from plugnn.protocols import Array


def normalize(x: Array, mean: Array, var: Array, eps: float) -> tuple[Array, Array]:
    """``(X̂, 1/√(σ² + ε))`` for ``x`` ``(M, C)`` and per-channel ``mean``, ``var`` ``(C,)``."""
    inv_std = _inverse_std(var, eps)
    x_hat = x - mean
    x_hat *= inv_std
    return x_hat, inv_std


def _inverse_std(var: Array, eps: float) -> Array:
    return 1 / np.sqrt(var + var.dtype.type(eps))


def batch_statistics(x: Array) -> tuple[Array, Array]:
    """Per-channel mean and biased variance ``(C,)`` of ``x`` ``(M, C)``."""
    mean = x.mean(axis=0)
    centred = x - mean
    var = np.einsum("mc,mc->c", centred, centred) / x.dtype.type(len(x))
    return mean, var


def train_forward_numpy(x: Array, gamma: Array, beta: Array, eps: float) -> tuple[Array, Array, Array, Array, Array]:
    """``(Y, X̂, μ, σ², 1/√(σ² + ε))`` of a training-mode forward of ``x`` ``(M, C)`` with the batch's statistics."""
    mean, var = batch_statistics(x)
    x_hat, inv_std = normalize(x, mean, var, eps)
    y = x_hat * gamma
    y += beta
    return y, x_hat, mean, var, inv_std


def backward_numpy(grad_out: Array, x_hat: Array, inv_std: Array, gamma: Array) -> tuple[Array, Array, Array]:
    """``(∂L/∂X, ∂L/∂γ, ∂L/∂β)`` for ``G``, ``X̂`` ``(M, C)`` of a training-mode forward."""
    m = grad_out.dtype.type(len(grad_out))
    dbeta = grad_out.sum(axis=0)
    dgamma = np.einsum("mc,mc->c", grad_out, x_hat)
    dx = grad_out * m
    dx -= dbeta
    dx -= x_hat * dgamma
    dx *= gamma * inv_std / m
    return dx, dgamma, dbeta


@compiled
def _column_sums(x, sums):  # type: ignore[no-untyped-def]
    sums[:] = 0
    for m in range(x.shape[0]):  # row after row, as numpy's reduction over axis 0
        for c in range(x.shape[1]):
            sums[c] += x[m, c]


@compiled
def _centred_squares(x, mean, sums):  # type: ignore[no-untyped-def]
    sums[:] = 0
    for m in range(x.shape[0]):
        for c in range(x.shape[1]):
            centred = x[m, c] - mean[c]
            sums[c] += centred * centred


@compiled
def _normalize_affine(x, mean, inv_std, gamma, beta, first, last, x_hat, y):  # type: ignore[no-untyped-def]
    for m in range(first, last):
        for c in range(x.shape[1]):
            value = (x[m, c] - mean[c]) * inv_std[c]
            x_hat[m, c] = value
            y[m, c] = value * gamma[c] + beta[c]


@compiled
def _gradient_sums(grad, x_hat, dgamma, dbeta):  # type: ignore[no-untyped-def]
    dgamma[:] = 0
    dbeta[:] = 0
    for m in range(grad.shape[0]):
        for c in range(grad.shape[1]):
            dbeta[c] += grad[m, c]
            dgamma[c] += grad[m, c] * x_hat[m, c]


@compiled
def _input_gradient(grad, x_hat, count, dbeta, dgamma, scale, first, last, dx):  # type: ignore[no-untyped-def]
    for m in range(first, last):
        for c in range(grad.shape[1]):
            dx[m, c] = (grad[m, c] * count - dbeta[c] - x_hat[m, c] * dgamma[c]) * scale[c]


def _compilable(*arrays: Array) -> bool:
    """Whether the twins give the references' bits: C-contiguous ``(M, C)`` arrays with more than one channel."""
    return all(a.flags.c_contiguous for a in arrays) and arrays[0].shape[1] > 1


def train_forward_numba(x: Array, gamma: Array, beta: Array, eps: float) -> tuple[Array, Array, Array, Array, Array]:
    """:func:`train_forward_numpy` in three passes: the sums, the centred squares, and ``X̂`` with ``Y``."""
    sums = np.empty(x.shape[1], dtype=x.dtype)
    if not _compilable(x) or not _column_sums(x, sums):
        return train_forward_numpy(x, gamma, beta, eps)
    mean = np.true_divide(sums, np.intp(len(x)), out=sums, casting="unsafe")  # as numpy's mean divides
    squares = np.empty_like(sums)
    if not _centred_squares(x, mean, squares):
        return train_forward_numpy(x, gamma, beta, eps)
    var = squares / x.dtype.type(len(x))
    inv_std = _inverse_std(var, eps)
    x_hat, y = np.empty_like(x), np.empty_like(x)

    def block(rows: slice) -> None:
        if not _normalize_affine(x, mean, inv_std, gamma, beta, rows.start, rows.stop, x_hat, y):
            np.subtract(x[rows], mean, out=x_hat[rows])
            x_hat[rows] *= inv_std
            np.multiply(x_hat[rows], gamma, out=y[rows])
            y[rows] += beta

    for_rows(block, len(x), 3 * x[:1].nbytes)
    return y, x_hat, mean, var, inv_std


def backward_numba(grad_out: Array, x_hat: Array, inv_std: Array, gamma: Array) -> tuple[Array, Array, Array]:
    """:func:`backward_numpy` in two passes: both sums, then ``∂L/∂X``."""
    dgamma, dbeta = np.empty(grad_out.shape[1], grad_out.dtype), np.empty(grad_out.shape[1], grad_out.dtype)
    if not _compilable(grad_out, x_hat) or not _gradient_sums(grad_out, x_hat, dgamma, dbeta):
        return backward_numpy(grad_out, x_hat, inv_std, gamma)
    m = grad_out.dtype.type(len(grad_out))
    scale = gamma * inv_std / m
    dx = np.empty_like(grad_out)

    def block(rows: slice) -> None:
        if not _input_gradient(grad_out, x_hat, m, dbeta, dgamma, scale, rows.start, rows.stop, dx):
            np.multiply(grad_out[rows], m, out=dx[rows])
            dx[rows] -= dbeta
            dx[rows] -= x_hat[rows] * dgamma
            dx[rows] *= scale

    for_rows(block, len(dx), 3 * dx[:1].nbytes)
    return dx, dgamma, dbeta


train_forward = choose(train_forward_numpy, train_forward_numba)
backward = choose(backward_numpy, backward_numba)
