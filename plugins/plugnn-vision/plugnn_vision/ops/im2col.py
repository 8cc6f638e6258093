r"""im2col and col2im: a 2-D convolution as one matrix product, channels-last.

For a (padded) input ``X`` ``(N, H, W, C)``, a ``kh × kw`` kernel and stride ``s``, the output has
``H' = (H − kh) // s + 1`` rows and ``W' = (W − kw) // s + 1`` columns. ``sliding_window_view``
gives every window as a zero-copy view ``(N, H', W', C, kh, kw)``; transposed to
``(N, H', W', kh, kw, C)`` and copied once, it is the column matrix

.. math::

    \mathrm{cols}[(n, i, j), (p, q, c)] = X[n,\ s i + p,\ s j + q,\ c]
    \qquad \text{shape } (N H' W',\ k_h k_w C).

With the kernel ``K`` stored as ``(kh, kw, C, F)`` (so ``K.reshape(kh·kw·C, F)`` is a free view in
the same ``(p, q, c)`` order), ``Y = cols · K`` is ``(N H' W', F)``: already ``(N, H', W', F)``,
channels-last, with no transpose. The input gradient is the adjoint (col2im of ``G · Kᵀ``): each
window's gradient is added back at its position, a loop over the ``kh·kw`` kernel offsets of
vectorised strided adds.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from plugnn.protocols import Array


def output_size(size: int, kernel: int, stride: int) -> int:
    """Output length of a window ``kernel`` long moved by ``stride`` over ``size`` (already padded)."""
    return (size - kernel) // stride + 1


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """Padding ``(before, after)`` for "same" (as TensorFlow/Keras): ``ceil(size / stride)`` outputs.

    The odd one of an uneven total goes after, as in TensorFlow.
    """
    outputs = -(-size // stride)
    total = max((outputs - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def im2col(x: Array, kernel: tuple[int, int], stride: int, out: Array | None = None) -> Array:
    """The column matrix ``(N·H'·W', kh·kw·C)`` of ``x`` ``(N, H, W, C)``; ``out`` is reused when given."""
    n, height, width, channels = x.shape
    kh, kw = kernel
    rows, cols = output_size(height, kh, stride), output_size(width, kw, stride)
    windows = sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::stride, ::stride]  # (N, H', W', C, kh, kw)
    if out is None:
        out = np.empty((n * rows * cols, kh * kw * channels), dtype=x.dtype)
    np.copyto(out.reshape(n, rows, cols, kh, kw, channels), windows.transpose(0, 1, 2, 4, 5, 3))
    return out


def input_gradient(
    grad: Array, kernel: Array, input_shape: tuple[int, ...], stride: int, scratch: Array | None = None
) -> Array:
    r"""``∂L/∂X`` (padded) of ``Y = im2col(X) · K``, for ``G`` ``(N·H'·W', F)`` and ``K`` ``(kh, kw, C, F)``.

    col2im of ``G · Kᵀ``, one kernel offset at a time: ``∂L/∂X[n, s i + p, s j + q, :] += G[(n, i, j)] · K[p, q]ᵀ``,
    a ``(N·H'·W', F) × (F, C)`` product and one strided add per offset ``(p, q)``. Computing each offset's
    block contiguously avoids both the ``(N·H'·W', kh·kw·C)`` matrix and strided reads when folding it.
    ``scratch`` (``(N·H'·W', C)``) is reused when given.
    """
    n, height, width, channels = input_shape
    kh, kw = kernel.shape[:2]
    rows, cols = output_size(height, kh, stride), output_size(width, kw, stride)
    if scratch is None:
        scratch = np.empty((len(grad), channels), dtype=grad.dtype)
    block = scratch.reshape(n, rows, cols, channels)
    dx = np.zeros(input_shape, dtype=grad.dtype)
    for p in range(kh):
        for q in range(kw):
            np.matmul(grad, kernel[p, q].T, out=scratch)
            dx[:, p : p + stride * rows : stride, q : q + stride * cols : stride] += block
    return dx
