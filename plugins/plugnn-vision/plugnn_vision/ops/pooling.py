r"""Max and average pooling over ``p × p`` windows moved by stride ``s``, channels-last.

For ``X`` ``(N, H, W, C)`` the output is ``(N, H', W', C)`` with ``H' = (H − p) // s + 1`` (rows and
columns that no window reaches are dropped, as in Keras' "valid" pooling). Every function loops
over the ``p²`` window offsets ``(a, b)``; each step is one vectorised operation on the strided view
``X[:, a::s, b::s]`` (the window element at offset ``(a, b)`` of every output position at once).

* max: ``Y = max_{a,b} X[:, s i + a, s j + b]``; the gradient goes to one winner per window, the first
  offset in row-major order among equal maxima (ties broken deterministically), so ``Σ ∂L/∂X = Σ G``.
* average: ``Y = (1/p²) Σ_{a,b} X[:, s i + a, s j + b]``; ``∂L/∂X`` receives ``G / p²`` at each offset.

Overlapping windows (``s < p``) accumulate.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from plugnn.protocols import Array


def offsets(x: Array, pool: int, stride: int) -> Iterator[tuple[int, Array]]:
    """``(k, view)`` for each window offset ``k = a·p + b``: ``view = x[:, a::s, b::s]`` cut to ``(N, H', W', C)``."""
    rows = (x.shape[1] - pool) // stride + 1
    cols = (x.shape[2] - pool) // stride + 1
    for a in range(pool):
        for b in range(pool):
            yield a * pool + b, x[:, a : a + stride * rows : stride, b : b + stride * cols : stride]


def max_pool(x: Array, pool: int, stride: int) -> tuple[Array, Array]:
    """``Y`` and the winning offset of every window (``uint8`` ``(N, H', W', C)``), for :func:`max_pool_backward`."""
    views = offsets(x, pool, stride)
    _, first = next(views)
    y = first.copy()
    winner = np.zeros(y.shape, dtype=np.uint8)
    better = np.empty(y.shape, dtype=bool)
    taken = np.empty(y.shape, dtype=np.uint8)
    for k, view in views:
        np.greater(view, y, out=better)  # strictly greater: an equal later value never takes over
        np.maximum(y, view, out=y)
        # offsets come in increasing k, so the winner is the largest k that was strictly better
        np.multiply(better, np.uint8(k), out=taken)
        np.maximum(winner, taken, out=winner)
    return y, winner


def max_pool_backward(grad_out: Array, winner: Array, input_shape: tuple[int, ...], pool: int, stride: int) -> Array:
    """``∂L/∂X`` ``input_shape``: each ``G`` entry routed to its window's winner."""
    dx = np.zeros(input_shape, dtype=grad_out.dtype)
    if stride >= pool:  # windows do not overlap: each offset's view is written once, no add needed
        for k, view in offsets(dx, pool, stride):
            np.multiply(grad_out, winner == k, out=view)
        return dx
    routed = np.empty_like(grad_out)
    for k, view in offsets(dx, pool, stride):
        np.multiply(grad_out, winner == k, out=routed)
        view += routed
    return dx


def avg_pool(x: Array, pool: int, stride: int) -> Array:
    """The mean of every window."""
    views = offsets(x, pool, stride)
    _, first = next(views)
    y = first.copy()
    for _, view in views:
        y += view
    y *= y.dtype.type(1 / pool**2)
    return y


def avg_pool_backward(grad_out: Array, input_shape: tuple[int, ...], pool: int, stride: int) -> Array:
    """``∂L/∂X``: ``G / p²`` added at every offset of every window."""
    dx = np.zeros(input_shape, dtype=grad_out.dtype)
    share = grad_out * grad_out.dtype.type(1 / pool**2)
    for _, view in offsets(dx, pool, stride):
        view += share
    return dx
