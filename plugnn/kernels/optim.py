r"""The optimizers' element-wise updates, each in one pass: numpy reference and numba kernel side by side.

Every function updates ``param`` and its buffers in place from ``grad``; all arrays have one shape
and dtype, ``scratch`` is an uninitialised array like them for the numpy reference's temporaries.
The formulas and their sources are in the optimizers' modules (``plugnn_std.optimizers.adam``,
``plugnn_extras.adamw``, ``.momentum``, ``.rmsprop``). The numpy reference makes about a dozen
passes over the parameters (Adam); the compiled kernel reads ``p, g, m, v`` once and writes
``p, m, v`` once, doing each element's operations in the reference's order and precision (a
float32 array times a Python float is a float32 product; Adam's bias correction
:math:`\sqrt{1 - \beta_2^t}` is a float64 scalar, so that one division is rounded from float64,
as numpy does it), so both give the same bits. Arrays that are not contiguous go to the reference,
as do all while numba prepares the kernel (:class:`plugnn.kernels.Compiled`).
"""

from __future__ import annotations

import numpy as np

from plugnn.kernels import choose, compiled
from plugnn.protocols import Array


def _flat(*arrays: Array) -> list[Array] | None:
    """``arrays`` as 1-D views when all are C-contiguous, else None."""
    return [a.reshape(-1) for a in arrays] if all(a.flags.c_contiguous for a in arrays) else None


def adam_numpy(
    param: Array,
    grad: Array,
    m: Array,
    v: Array,
    scratch: Array,
    *,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    t: int,
    decay: float = 0.0,
) -> None:
    """Adam's step ``t`` (AdamW's with ``decay`` = λ > 0: ``w ← w (1 − ηλ)`` first), in numpy passes."""
    if decay:
        param *= 1 - lr * decay
    m *= beta1
    np.multiply(grad, 1 - beta1, out=scratch)
    m += scratch
    v *= beta2
    np.multiply(grad, grad, out=scratch)
    scratch *= 1 - beta2
    v += scratch
    np.sqrt(v, out=scratch)  # scratch = sqrt(v̂) + eps, with v̂ = v / (1 - beta2^t)
    scratch /= np.sqrt(1 - beta2**t)
    scratch += eps
    np.divide(m, scratch, out=scratch)
    scratch *= lr / (1 - beta1**t)
    param -= scratch


@compiled
def _adam(p, g, m, v, keep, b1, c1, b2, c2, correction, eps, step, cast):  # type: ignore[no-untyped-def]
    for i in range(p.size):
        gi = g[i]
        mi = m[i] * b1 + gi * c1
        m[i] = mi
        vi = v[i] * b2 + (gi * gi) * c2
        v[i] = vi
        cast[0] = np.sqrt(vi) / correction  # a float64 quotient rounded to the arrays' dtype, as numpy's /=
        p[i] = p[i] * keep - (mi / (cast[0] + eps)) * step


def adam_numba(
    param: Array,
    grad: Array,
    m: Array,
    v: Array,
    scratch: Array,
    *,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    t: int,
    decay: float = 0.0,
) -> None:
    """:func:`adam_numpy` in one compiled pass."""
    flat = _flat(param, grad, m, v)
    if flat is not None:
        f = param.dtype.type
        correction = np.sqrt(1 - beta2**t)
        step = f(lr / (1 - beta1**t))
        cast = scratch.reshape(-1)[:1]  # a one-element array of the dtype, to round through
        scalars = (f(1 - lr * decay), f(beta1), f(1 - beta1), f(beta2), f(1 - beta2), correction, f(eps), step)
        if _adam(*flat, *scalars, cast):
            return
    adam_numpy(param, grad, m, v, scratch, lr=lr, beta1=beta1, beta2=beta2, eps=eps, t=t, decay=decay)


def momentum_numpy(
    param: Array, grad: Array, velocity: Array, scratch: Array, *, lr: float, momentum: float, nesterov: bool
) -> None:
    """Momentum SGD (PyTorch's convention), in numpy passes."""
    velocity *= momentum
    velocity += grad
    if nesterov:
        np.multiply(velocity, momentum, out=scratch)
        scratch += grad
    else:
        scratch[...] = velocity
    scratch *= lr
    param -= scratch


@compiled
def _momentum(p, g, velocity, lr, mu, nesterov):  # type: ignore[no-untyped-def]
    for i in range(p.size):
        gi = g[i]
        vi = velocity[i] * mu + gi
        velocity[i] = vi
        p[i] -= ((vi * mu + gi) if nesterov else vi) * lr


def momentum_numba(
    param: Array, grad: Array, velocity: Array, scratch: Array, *, lr: float, momentum: float, nesterov: bool
) -> None:
    """:func:`momentum_numpy` in one compiled pass."""
    flat = _flat(param, grad, velocity)
    f = param.dtype.type
    if flat is None or not _momentum(*flat, f(lr), f(momentum), nesterov):
        momentum_numpy(param, grad, velocity, scratch, lr=lr, momentum=momentum, nesterov=nesterov)


def rmsprop_numpy(
    param: Array, grad: Array, square_avg: Array, scratch: Array, *, lr: float, rho: float, eps: float
) -> None:
    """RMSprop (PyTorch's: no momentum, not centred), in numpy passes."""
    square_avg *= rho
    np.multiply(grad, grad, out=scratch)
    scratch *= 1 - rho
    square_avg += scratch
    np.sqrt(square_avg, out=scratch)
    scratch += eps
    np.divide(grad, scratch, out=scratch)
    scratch *= lr
    param -= scratch


@compiled
def _rmsprop(p, g, square_avg, lr, rho, c, eps):  # type: ignore[no-untyped-def]
    for i in range(p.size):
        gi = g[i]
        si = square_avg[i] * rho + (gi * gi) * c
        square_avg[i] = si
        p[i] -= (gi / (np.sqrt(si) + eps)) * lr


def rmsprop_numba(
    param: Array, grad: Array, square_avg: Array, scratch: Array, *, lr: float, rho: float, eps: float
) -> None:
    """:func:`rmsprop_numpy` in one compiled pass."""
    flat = _flat(param, grad, square_avg)
    f = param.dtype.type
    if flat is None or not _rmsprop(*flat, f(lr), f(rho), f(1 - rho), f(eps)):
        rmsprop_numpy(param, grad, square_avg, scratch, lr=lr, rho=rho, eps=eps)


def sgd_numpy(param: Array, grad: Array, *, lr: float) -> None:
    """Plain SGD, ``w ← w − η g``."""
    param -= lr * grad


@compiled
def _sgd(p, g, lr):  # type: ignore[no-untyped-def]
    for i in range(p.size):
        p[i] -= lr * g[i]


def sgd_numba(param: Array, grad: Array, *, lr: float) -> None:
    """:func:`sgd_numpy` in one compiled pass, with no temporary array."""
    flat = _flat(param, grad)
    if flat is None or not _sgd(*flat, param.dtype.type(lr)):
        sgd_numpy(param, grad, lr=lr)


adam = choose(adam_numpy, adam_numba)
momentum = choose(momentum_numpy, momentum_numba)
rmsprop = choose(rmsprop_numpy, rmsprop_numba)
sgd = choose(sgd_numpy, sgd_numba)
