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
channels-last, with no transpose.

With few channels (a grey or colour image entering the first layer) a row of ``cols`` is a handful
of scattered values, slow to gather. :func:`im2col_t` builds ``colsᵀ`` ``(kh·kw·C, N H' W')``
instead, one contiguous row per ``(p, q, c)``, each a strided copy of a whole image plane; the
product is then ``Y = (colsᵀ)ᵀ · K``, a transposed operand the BLAS reads as fast.

The input gradient is the adjoint: ``G · K[p, q]ᵀ`` ``(N H' W', C)`` is every window's gradient at
kernel offset ``(p, q)``, and col2im adds each offset's block back at its position. The copies and adds run
in blocks of samples split between the run's threads (:func:`plugnn.parallel.for_rows`). The input
gradient has a compiled twin (:mod:`plugnn.kernels`): one product ``G · Kᵀ`` for all offsets at
once (nine small products cost more than one of the same work), then one pass per block of samples
that adds each pixel's terms in the reference's order (from the window-major product numpy's
strided adds were twice as slow, so the reference keeps one block per offset).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from plugnn.kernels import choose, compiled
from plugnn.parallel import for_rows
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


def _windows(x: Array, kernel: tuple[int, int], stride: int) -> Array:
    """Every window of ``x`` ``(N, H, W, C)`` as a view ``(N, H', W', kh, kw, C)``."""
    return sliding_window_view(x, kernel, axis=(1, 2))[:, ::stride, ::stride].transpose(0, 1, 2, 4, 5, 3)


def im2col(x: Array, kernel: tuple[int, int], stride: int, out: Array | None = None) -> Array:
    """The column matrix ``(N·H'·W', kh·kw·C)`` of ``x`` ``(N, H, W, C)``; ``out`` is reused when given."""
    windows = _windows(x, kernel, stride)
    n, rows, cols = windows.shape[:3]
    if out is None:
        out = np.empty((n * rows * cols, kernel[0] * kernel[1] * x.shape[3]), dtype=x.dtype)
    target = out.reshape(windows.shape)

    def copy(samples: slice) -> None:
        np.copyto(target[samples], windows[samples])

    for_rows(copy, n, target[:1].nbytes)
    return out


def im2col_t(x: Array, kernel: tuple[int, int], stride: int, out: Array | None = None) -> Array:
    """``colsᵀ`` ``(kh·kw·C, N·H'·W')`` of ``x`` ``(N, H, W, C)``, rows in ``(p, q, c)`` order.

    ``out`` may have more rows than ``kh·kw·C`` (a row of ones for the bias): only the first are written.
    """
    windows = _windows(x, kernel, stride)  # (N, H', W', kh, kw, C)
    n, rows, cols, kh, kw, channels = windows.shape
    if out is None:
        out = np.empty((kh * kw * channels, n * rows * cols), dtype=x.dtype)
    planes = out[: kh * kw * channels].reshape(kh, kw, channels, n, rows, cols)
    source = windows.transpose(3, 4, 5, 0, 1, 2)  # (kh, kw, C, N, H', W')

    def copy(samples: slice) -> None:
        np.copyto(planes[:, :, :, samples], source[:, :, :, samples])

    for_rows(copy, n, planes[:, :, :, :1].nbytes)
    return out


def col2im(offset_grads: Array, input_shape: tuple[int, ...], stride: int) -> Array:
    r"""``∂L/∂X`` ``input_shape`` from the windows' gradients ``(kh, kw, N·H'·W', C)``, one block per offset.

    ``∂L/∂X[n, s i + p, s j + q, c] = Σ`` over the windows ``(i, j)`` and offsets ``(p, q)`` that
    reach it of ``offset_grads[p, q, (n, i, j), c]``, added offset by offset in ascending ``(p, q)``:
    one strided add per offset and block of samples (from a contiguous block: with stride 1 an add
    runs over whole rows ``W'·C`` long).
    """
    n, height, width, channels = input_shape
    kh, kw = offset_grads.shape[:2]
    rows, cols = output_size(height, kh, stride), output_size(width, kw, stride)
    blocks = offset_grads.reshape(kh, kw, n, rows, cols, channels)
    dx = np.empty(input_shape, dtype=offset_grads.dtype)

    def fold(samples: slice) -> None:
        dx[samples] = 0
        for p in range(kh):
            for q in range(kw):
                dx[samples, p : p + stride * rows : stride, q : q + stride * cols : stride] += blocks[p, q, samples]

    for_rows(fold, n, dx[:1].nbytes + blocks[:, :, :1].nbytes)
    return dx


def input_gradient_numpy(
    grad: Array, kernel: Array, input_shape: tuple[int, ...], stride: int, scratch: Array | None = None
) -> Array:
    r"""``∂L/∂X`` (padded) of ``Y = im2col(X) · K``, for ``G`` ``(N·H'·W', F)`` and ``K`` ``(kh, kw, C, F)``.

    :func:`col2im` of ``G · K[p, q]ᵀ`` ``(N·H'·W', C)`` for each offset ``(p, q)``: the gradient of
    every window, offset by offset (``G · Kᵀ`` as ``kh·kw`` contiguous blocks, which numpy adds
    fastest). ``scratch`` (``kh·kw·N·H'·W'·C`` values, C-contiguous) is reused when given.
    """
    kh, kw, channels, _ = kernel.shape
    if scratch is None:
        scratch = np.empty((kh, kw, len(grad), channels), dtype=grad.dtype)
    offsets = scratch.reshape(kh, kw, len(grad), channels)
    for p in range(kh):
        for q in range(kw):
            np.matmul(grad, kernel[p, q].T, out=offsets[p, q])
    return col2im(offsets, input_shape, stride)


@compiled
def _fold_windows(windows, first, last, stride, dx):  # type: ignore[no-untyped-def]
    _, rows, cols, kh, kw, channels = windows.shape
    dx[first:last] = 0
    for n in range(first, last):
        # the windows from the last: each pixel then gets its offsets' terms in ascending (p, q), as col2im adds them
        for i in range(rows - 1, -1, -1):
            for j in range(cols - 1, -1, -1):
                for p in range(kh):
                    for q in range(kw):
                        for c in range(channels):
                            dx[n, stride * i + p, stride * j + q, c] += windows[n, i, j, p, q, c]


def input_gradient_numba(
    grad: Array, kernel: Array, input_shape: tuple[int, ...], stride: int, scratch: Array | None = None
) -> Array:
    r""":func:`input_gradient_numpy` as one product ``G · Kᵀ`` ``(N·H'·W', kh·kw·C)`` (inner dimension
    ``F``, as each of the nine) and one compiled pass that adds every window's gradient into ``∂L/∂X``,
    each pixel's terms in the reference's order. ``scratch`` as for the reference."""
    kh, kw, channels, filters = kernel.shape
    n, height, width, _ = input_shape
    rows, cols = output_size(height, kh, stride), output_size(width, kw, stride)
    if scratch is None:
        scratch = np.empty((len(grad), kh * kw * channels), dtype=grad.dtype)
    flat = scratch.reshape(len(grad), kh * kw * channels)
    np.matmul(grad, kernel.reshape(-1, filters).T, out=flat)
    windows = flat.reshape(n, rows, cols, kh, kw, channels)
    dx = np.empty(input_shape, dtype=grad.dtype)

    def fold(samples: slice) -> None:
        if _fold_windows(windows, samples.start, samples.stop, stride, dx):
            return
        dx[samples] = 0  # numba not ready yet: numpy's strided adds, in the same order
        for p in range(kh):
            for q in range(kw):
                target = dx[samples, p : p + stride * rows : stride, q : q + stride * cols : stride]
                target += windows[samples, :, :, p, q]

    for_rows(fold, n, dx[:1].nbytes + windows[:1].nbytes)
    return dx


input_gradient = choose(input_gradient_numpy, input_gradient_numba)
