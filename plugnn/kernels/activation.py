r"""ReLU, forward and backward, alone or fused with a bias: numpy reference and numba kernel side by side.

For ``x`` ``(M, F)`` (rows of any layer's output, features or channels last) and a bias ``b`` ``(F,)``:

* :func:`bias_relu`: ``Y = max(X + b, 0)`` in place, and the mask ``[Y > 0]`` (bool) kept for the
  backward pass (a convolution with ``activation = "relu"``);
* :func:`relu`: ``Y = max(X, 0)`` into ``out`` (the ``relu`` layer, which keeps ``Y``);
* :func:`relu_backward`: ``G ← G ⊙ [Y > 0]`` in place, from the kept output ``Y`` or mask.

``max`` is numpy's ``np.maximum(a, b)``: ``a if a > b or a is NaN else b`` (a NaN propagates, it is
not hidden by the ReLU; ``max(-0, 0)`` is ``0``), so that both paths give the same bits. Each runs
in blocks of rows on the run's threads (:func:`plugnn.parallel.for_rows`); the compiled kernel does a block in one pass
where numpy makes two or three. Arrays that are not C-contiguous go to the numpy reference.
"""

from __future__ import annotations

import numpy as np

from plugnn.kernels import choose, compiled
from plugnn.parallel import for_rows
from plugnn.protocols import Array


def _rows(x: Array) -> Array:
    """``x`` ``(N, ...)`` as 2-D rows ``(N, prod(...))`` (a view of a C-contiguous array)."""
    return x.reshape(len(x), -1)


def bias_relu_numpy(x: Array, bias: Array | None, active: Array) -> None:
    """``x ← max(x + bias, 0)`` and ``active ← x > 0``, for ``x`` ``(M, F)``, ``bias`` ``(F,)`` or None."""

    def block(rows: slice) -> None:
        out = x[rows]
        if bias is not None:
            np.add(out, bias, out=out)
        np.maximum(out, 0, out=out)
        np.greater(out, 0, out=active[rows])

    for_rows(block, len(x), x[:1].nbytes)


@compiled
def _bias_relu(x, bias, add, active, zero):  # type: ignore[no-untyped-def]
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            v = x[i, j] + bias[j] if add else x[i, j]
            v = v if (v > zero or v != v) else zero  # np.maximum(v, 0): a NaN propagates, -0 becomes 0
            x[i, j] = v
            active[i, j] = v > zero


def bias_relu_numba(x: Array, bias: Array | None, active: Array) -> None:
    """:func:`bias_relu_numpy` in one compiled pass over each block of rows."""
    if not (x.flags.c_contiguous and active.flags.c_contiguous):
        bias_relu_numpy(x, bias, active)
        return
    b = bias if bias is not None else x[0]  # unused without a bias, but typed like one
    zero = x.dtype.type(0)

    def block(rows: slice) -> None:
        if not _bias_relu(x[rows], b, bias is not None, active[rows], zero):
            bias_relu_numpy(x[rows], bias, active[rows])

    for_rows(block, len(x), x[:1].nbytes)


def relu_numpy(x: Array, out: Array) -> None:
    """``out ← max(x, 0)`` for ``x`` ``(N, ...)``."""
    for_rows(lambda rows: np.maximum(x[rows], 0, out=out[rows]), len(x), x[:1].nbytes)


@compiled
def _relu(x, out, zero):  # type: ignore[no-untyped-def]
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            v = x[i, j]
            out[i, j] = v if (v > zero or v != v) else zero


def relu_numba(x: Array, out: Array) -> None:
    """:func:`relu_numpy`, compiled."""
    if not (x.flags.c_contiguous and out.flags.c_contiguous):
        relu_numpy(x, out)
        return
    x2, out2, zero = _rows(x), _rows(out), x.dtype.type(0)

    def block(rows: slice) -> None:
        if not _relu(x2[rows], out2[rows], zero):
            np.maximum(x2[rows], 0, out=out2[rows])

    for_rows(block, len(x), x[:1].nbytes)


def relu_backward_numpy(grad: Array, kept: Array) -> None:
    """``grad ← grad ⊙ [kept > 0]`` in place, ``kept`` the ReLU's output ``Y`` or its bool mask."""

    def block(rows: slice) -> None:
        np.multiply(grad[rows], kept[rows] > 0 if kept.dtype != bool else kept[rows], out=grad[rows])

    for_rows(block, len(grad), grad[:1].nbytes)


@compiled
def _relu_backward(grad, kept, one, zero):  # type: ignore[no-untyped-def]
    for i in range(grad.shape[0]):
        for j in range(grad.shape[1]):
            grad[i, j] = grad[i, j] * (one if kept[i, j] > 0 else zero)  # as numpy's grad * bool: ±0 and NaN kept


def relu_backward_numba(grad: Array, kept: Array) -> None:
    """:func:`relu_backward_numpy`, compiled."""
    if not (grad.flags.c_contiguous and kept.flags.c_contiguous):
        relu_backward_numpy(grad, kept)
        return
    g2, k2 = _rows(grad), _rows(kept)
    one, zero = grad.dtype.type(1), grad.dtype.type(0)

    def block(rows: slice) -> None:
        if not _relu_backward(g2[rows], k2[rows], one, zero):
            relu_backward_numpy(g2[rows], k2[rows])

    for_rows(block, len(grad), grad[:1].nbytes)


bias_relu = choose(bias_relu_numpy, bias_relu_numba)
relu = choose(relu_numpy, relu_numba)
relu_backward = choose(relu_backward_numpy, relu_backward_numba)
