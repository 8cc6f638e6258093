r"""Batch normalisation (Ioffe & Szegedy 2015) over the rows of ``X`` ``(M, C)``, per channel.

A layer reshapes ``(N, D)`` or ``(N, H, W, C)`` to ``(M, C)`` (``M = N`` or ``N·H·W``) first.

.. math::

    μ = \frac1M Σ_m X_m,\quad σ² = \frac1M Σ_m (X_m − μ)²,\quad
    \hat X = \frac{X − μ}{\sqrt{σ² + ε}},\quad Y = γ \hat X + β

and with ``G = ∂L/∂Y``:

.. math::

    ∂L/∂γ = Σ_m G_m \hat X_m,\quad ∂L/∂β = Σ_m G_m,\quad
    ∂L/∂X = \frac{γ}{M \sqrt{σ² + ε}} \bigl(M G − Σ_m G_m − \hat X \, Σ_m G_m \hat X_m\bigr).
"""

from __future__ import annotations

import numpy as np

from plugnn.protocols import Array


def normalize(x: Array, mean: Array, var: Array, eps: float) -> tuple[Array, Array]:
    """``(X̂, 1/√(σ² + ε))`` for ``x`` ``(M, C)`` and per-channel ``mean``, ``var`` ``(C,)``."""
    inv_std = 1 / np.sqrt(var + x.dtype.type(eps))
    x_hat = x - mean
    x_hat *= inv_std
    return x_hat, inv_std


def batch_statistics(x: Array) -> tuple[Array, Array]:
    """Per-channel mean and biased variance ``(C,)`` of ``x`` ``(M, C)``."""
    mean = x.mean(axis=0)
    centred = x - mean
    var = np.einsum("mc,mc->c", centred, centred) / x.dtype.type(len(x))
    return mean, var


def backward(grad_out: Array, x_hat: Array, inv_std: Array, gamma: Array) -> tuple[Array, Array, Array]:
    """``(∂L/∂X, ∂L/∂γ, ∂L/∂β)`` for ``G``, ``X̂`` ``(M, C)`` of a training-mode forward."""
    m = grad_out.dtype.type(len(grad_out))
    dbeta = grad_out.sum(axis=0)
    dgamma = np.einsum("mc,mc->c", grad_out, x_hat)
    dx = grad_out * m
    dx -= dbeta
    dx -= x_hat * dgamma
    dx *= gamma * inv_std / m
    return dx, dgamma, dbeta
