r"""Max and average pooling over ``p × p`` windows moved by stride ``s``, channels-last.

For ``X`` ``(N, H, W, C)`` the output is ``(N, H', W', C)`` with ``H' = (H − p) // s + 1`` (rows and
columns that no window reaches are dropped, as in Keras' "valid" pooling). Every function loops
over the ``p²`` window offsets ``(a, b)``; each step is one vectorised operation on the strided view
``X[:, a::s, b::s]`` (the window element at offset ``(a, b)`` of every output position at once).

* max: ``Y = max_{a,b} X[:, s i + a, s j + b]``; the gradient goes to one winner per window, the first
  offset in row-major order among equal maxima (ties broken deterministically), so ``Σ ∂L/∂X = Σ G``.
* average: ``Y = (1/p²) Σ_{a,b} X[:, s i + a, s j + b]``; ``∂L/∂X`` receives ``G / p²`` at each offset.

Overlapping windows (``s < p``) accumulate. Each function works on blocks of samples split between
the run's threads (:func:`plugnn.parallel.for_rows`), so that its passes over a block stay in cache.
Max pooling's backward has a compiled twin (:mod:`plugnn.kernels`), one pass over a block where
the numpy reference makes two per offset, with the same bits. Its forward has none: a compiled
loop over the offsets and the channels measured 2.8-3.9× slower than numpy's four vectorised
passes per offset (the short channel loops do not vectorise).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from plugnn.kernels import choose, compiled
from plugnn.parallel import for_rows
from plugnn.protocols import Array


def offsets(x: Array, pool: int, stride: int) -> Iterator[tuple[int, Array]]:
    """``(k, view)`` for each window offset ``k = a·p + b``: ``view = x[:, a::s, b::s]`` cut to ``(N, H', W', C)``."""
    rows = (x.shape[1] - pool) // stride + 1
    cols = (x.shape[2] - pool) // stride + 1
    for a in range(pool):
        for b in range(pool):
            yield a * pool + b, x[:, a : a + stride * rows : stride, b : b + stride * cols : stride]


def _covers(shape: tuple[int, ...], pool: int, stride: int) -> bool:
    """Whether the windows tile the input exactly (each input value in exactly one window)."""
    return stride == pool and shape[1] % pool == 0 and shape[2] % pool == 0


def _by_samples(work: Callable[[slice], None], x: Array) -> None:
    """``work(samples)`` over blocks of samples of ``x`` ``(N, ...)``, in the run's threads."""
    for_rows(work, len(x), x[:1].nbytes)


def max_pool(x: Array, pool: int, stride: int) -> tuple[Array, Array]:
    """``Y`` and the winning offset of every window (``uint8`` ``(N, H', W', C)``), for :func:`max_pool_backward`."""
    first = next(offsets(x[:0], pool, stride))[1]
    y = np.empty((len(x), *first.shape[1:]), dtype=x.dtype)
    winner = np.empty(y.shape, dtype=np.uint8)

    def block(samples: slice) -> None:
        views = offsets(x[samples], pool, stride)
        out, won = y[samples], winner[samples]
        np.copyto(out, next(views)[1])
        won[...] = 0
        better = np.empty(out.shape, dtype=bool)
        taken = np.empty(out.shape, dtype=np.uint8)
        for k, view in views:
            np.greater(view, out, out=better)  # strictly greater: an equal later value never takes over
            np.maximum(out, view, out=out)
            # offsets come in increasing k, so the winner is the largest k that was strictly better
            np.multiply(better, np.uint8(k), out=taken)
            np.maximum(won, taken, out=won)

    _by_samples(block, x)
    return y, winner


def max_pool_backward_numpy(
    grad_out: Array, winner: Array, input_shape: tuple[int, ...], pool: int, stride: int
) -> Array:
    """``∂L/∂X`` ``input_shape``: each ``G`` entry routed to its window's winner."""
    dx = np.empty(input_shape, dtype=grad_out.dtype)
    covers = _covers(input_shape, pool, stride)

    def block(samples: slice) -> None:
        g, won, target = grad_out[samples], winner[samples], dx[samples]
        if not covers:
            target[...] = 0
        routed = np.empty_like(g)
        for k, view in offsets(target, pool, stride):
            if stride >= pool:  # windows do not overlap: each offset's view is written once, no add needed
                np.multiply(g, won == k, out=view)
            else:
                np.multiply(g, won == k, out=routed)
                view += routed

    _by_samples(block, dx)
    return dx


@compiled
def _max_pool_backward(g, winner, pool, stride, dx, covers, one, zero):  # type: ignore[no-untyped-def]
    if not covers:
        dx[...] = zero
    for a in range(pool):  # offset by offset, as the reference adds overlapping windows' shares
        for b in range(pool):
            k = a * pool + b
            for n in range(g.shape[0]):
                for i in range(g.shape[1]):
                    for j in range(g.shape[2]):
                        for c in range(g.shape[3]):
                            share = g[n, i, j, c] * (one if winner[n, i, j, c] == k else zero)  # as g * (won == k)
                            if stride >= pool:
                                dx[n, stride * i + a, stride * j + b, c] = share
                            else:
                                dx[n, stride * i + a, stride * j + b, c] += share


def max_pool_backward_numba(
    grad_out: Array, winner: Array, input_shape: tuple[int, ...], pool: int, stride: int
) -> Array:
    """:func:`max_pool_backward_numpy` in one compiled pass over each block of samples."""
    if not (grad_out.flags.c_contiguous and winner.flags.c_contiguous):
        return max_pool_backward_numpy(grad_out, winner, input_shape, pool, stride)
    dx = np.empty(input_shape, dtype=grad_out.dtype)
    covers = _covers(input_shape, pool, stride)
    one, zero = grad_out.dtype.type(1), grad_out.dtype.type(0)

    def block(samples: slice) -> None:
        g, won = grad_out[samples], winner[samples]
        if not _max_pool_backward(g, won, pool, stride, dx[samples], covers, one, zero):
            dx[samples] = max_pool_backward_numpy(g, won, dx[samples].shape, pool, stride)

    _by_samples(block, dx)
    return dx


max_pool_backward = choose(max_pool_backward_numpy, max_pool_backward_numba)


def avg_pool(x: Array, pool: int, stride: int) -> Array:
    """The mean of every window."""
    first = next(offsets(x[:0], pool, stride))[1]
    y = np.empty((len(x), *first.shape[1:]), dtype=x.dtype)
    share = x.dtype.type(1 / pool**2)

    def block(samples: slice) -> None:
        views = offsets(x[samples], pool, stride)
        out = y[samples]
        np.copyto(out, next(views)[1])
        for _, view in views:
            out += view
        out *= share

    _by_samples(block, x)
    return y


def avg_pool_backward(grad_out: Array, input_shape: tuple[int, ...], pool: int, stride: int) -> Array:
    """``∂L/∂X``: ``G / p²`` added at every offset of every window."""
    dx = np.empty(input_shape, dtype=grad_out.dtype)
    covers = _covers(input_shape, pool, stride)

    def block(samples: slice) -> None:
        target = dx[samples]
        share = grad_out[samples] * grad_out.dtype.type(1 / pool**2)
        if covers:
            for _, view in offsets(target, pool, stride):
                np.copyto(view, share)
            return
        target[...] = 0
        for _, view in offsets(target, pool, stride):
            view += share

    _by_samples(block, dx)
    return dx
