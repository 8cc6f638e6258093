"""The vision numerics against naive loops written out independently here, on tiny inputs."""

from __future__ import annotations

import numpy as np
import pytest
from kernel_backends import backends, compiled_at_once, pick, same_on_both
from plugnn_vision.ops import batch_norm, im2col, pooling


def naive_conv(x: np.ndarray, kernel: np.ndarray, stride: int) -> np.ndarray:
    """``Y[n, i, j, f] = Σ_{p, q, c} X[n, s i + p, s j + q, c] K[p, q, c, f]``, one output at a time."""
    n, height, width, _ = x.shape
    kh, kw, _, filters = kernel.shape
    rows, cols = (height - kh) // stride + 1, (width - kw) // stride + 1
    y = np.zeros((n, rows, cols, filters))
    for b in range(n):
        for i in range(rows):
            for j in range(cols):
                patch = x[b, i * stride : i * stride + kh, j * stride : j * stride + kw, :]
                for f in range(filters):
                    y[b, i, j, f] = np.sum(patch * kernel[:, :, :, f])
    return y


SHAPES = [((2, 5, 6, 3), (3, 2), 1), ((1, 7, 7, 2), (3, 3), 2), ((3, 4, 5, 1), (1, 1), 1), ((2, 8, 6, 4), (2, 3), 3)]


@pytest.mark.parametrize(("shape", "kernel", "stride"), SHAPES)
def test_im2col_product_is_the_convolution(shape, kernel, stride) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    k = rng.standard_normal((*kernel, shape[3], 4))
    cols = im2col.im2col(x, kernel, stride)
    rows = im2col.output_size(shape[1], kernel[0], stride)
    width = im2col.output_size(shape[2], kernel[1], stride)
    y = (cols @ k.reshape(-1, 4)).reshape(shape[0], rows, width, 4)
    np.testing.assert_allclose(y, naive_conv(x, k, stride), rtol=1e-12, atol=1e-12)


@backends
@pytest.mark.parametrize(("shape", "kernel", "stride"), SHAPES)
def test_input_gradient_is_the_adjoint_of_the_convolution(shape, kernel, stride, backend) -> None:
    """<im2col(x) K, G> = <x, input_gradient(G, K)> for all x, G: exactly the transpose of the convolution."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape)
    k = rng.standard_normal((*kernel, shape[3], 4))
    y = im2col.im2col(x, kernel, stride) @ k.reshape(-1, 4)
    g = rng.standard_normal(y.shape)
    with compiled_at_once():
        dx = pick(im2col, "input_gradient", backend)(g, k, shape, stride)
    assert np.sum(y * g) == pytest.approx(np.sum(x * dx), rel=1e-12)


def test_im2col_keeps_float32_and_reuses_its_buffer() -> None:
    x = np.ones((2, 4, 4, 3), dtype=np.float32)
    buffer = np.empty((2 * 2 * 2, 2 * 2 * 3), dtype=np.float32)
    assert im2col.im2col(x, (2, 2), 2, out=buffer) is buffer
    k = np.ones((2, 2, 3, 5), dtype=np.float32)
    assert im2col.input_gradient(buffer @ k.reshape(-1, 5), k, x.shape, 2).dtype == np.float32


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "expected"),
    [(28, 3, 1, (1, 1)), (28, 4, 1, (1, 2)), (7, 3, 2, (1, 1)), (8, 3, 2, (0, 1))],
)
def test_same_padding_gives_ceil_size_over_stride_outputs(size, kernel, stride, expected) -> None:
    before, after = im2col.same_padding(size, kernel, stride)
    assert (before, after) == expected
    assert im2col.output_size(size + before + after, kernel, stride) == -(-size // stride)


def naive_pool(x: np.ndarray, pool: int, stride: int, reduce) -> np.ndarray:
    n, height, width, channels = x.shape
    rows, cols = (height - pool) // stride + 1, (width - pool) // stride + 1
    y = np.zeros((n, rows, cols, channels))
    for i in range(rows):
        for j in range(cols):
            y[:, i, j, :] = reduce(x[:, i * stride : i * stride + pool, j * stride : j * stride + pool, :], axis=(1, 2))
    return y


POOLS = [((2, 6, 6, 3), 2, 2), ((1, 7, 5, 2), 2, 2), ((2, 7, 7, 1), 3, 2), ((1, 5, 5, 2), 2, 1)]


@pytest.mark.parametrize(("shape", "pool", "stride"), POOLS)
def test_pools_against_naive_loops(shape, pool, stride) -> None:
    x = np.random.default_rng(2).standard_normal(shape)
    y, _ = pooling.max_pool(x, pool, stride)
    np.testing.assert_array_equal(y, naive_pool(x, pool, stride, np.max))
    np.testing.assert_allclose(pooling.avg_pool(x, pool, stride), naive_pool(x, pool, stride, np.mean), rtol=1e-12)


@pytest.mark.parametrize(("shape", "pool", "stride"), POOLS)
def test_pool_backwards_are_adjoints(shape, pool, stride) -> None:
    """avg is linear: <avg(x), g> = <x, avg_backward(g)>; max routes each G to its window's arg-max."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape)
    y, winner = pooling.max_pool(x, pool, stride)
    g = rng.standard_normal(y.shape)
    assert np.sum(pooling.avg_pool(x, pool, stride) * g) == pytest.approx(
        np.sum(x * pooling.avg_pool_backward(g, shape, pool, stride)), rel=1e-12
    )
    dx = pooling.max_pool_backward(g, winner, shape, pool, stride)
    expected = np.zeros(shape)
    for i in range(y.shape[1]):
        for j in range(y.shape[2]):
            for b in range(shape[0]):
                for c in range(shape[3]):
                    window = x[b, i * stride : i * stride + pool, j * stride : j * stride + pool, c]
                    a, q = np.unravel_index(np.argmax(window), window.shape)
                    expected[b, i * stride + a, j * stride + q, c] += g[b, i, j, c]
    np.testing.assert_allclose(dx, expected, rtol=1e-12)


def test_max_pool_ties_go_to_the_first_offset_only() -> None:
    x = np.zeros((1, 4, 4, 1), dtype=np.float32)
    y, winner = pooling.max_pool(x, 2, 2)
    assert y.dtype == np.float32 and np.all(winner == 0)
    dx = pooling.max_pool_backward(np.ones_like(y), winner, x.shape, 2, 2)
    np.testing.assert_array_equal(dx[0, :, :, 0], [[1, 0, 1, 0], [0, 0, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]])


@backends
def test_batch_norm_statistics_and_backward_against_the_definition(backend) -> None:
    rng = np.random.default_rng(4)
    x = rng.standard_normal((9, 3)) * 2 + 1
    gamma, beta, g = rng.standard_normal(3), rng.standard_normal(3), rng.standard_normal((9, 3))
    y, x_hat, mean, var, inv_std = pick(batch_norm, "train_forward", backend)(x, gamma, beta, 1e-5)
    np.testing.assert_allclose(mean, x.mean(axis=0))
    np.testing.assert_allclose(var, x.var(axis=0))
    np.testing.assert_allclose(inv_std, 1 / np.sqrt(x.var(0) + 1e-5))
    np.testing.assert_allclose(x_hat, (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5))
    np.testing.assert_allclose(y, gamma * x_hat + beta)
    dx, dgamma, dbeta = pick(batch_norm, "backward", backend)(g, x_hat, inv_std, gamma)

    def loss(x_in: np.ndarray) -> float:  # Σ G·Y through the definition, differentiated numerically
        y = gamma * (x_in - x_in.mean(0)) / np.sqrt(x_in.var(0) + 1e-5)
        return float(np.sum(g * y))

    numeric = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = 1e-6
        numeric[index] = (loss(x + step) - loss(x - step)) / 2e-6
    np.testing.assert_allclose(dx, numeric, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dgamma, np.sum(g * x_hat, axis=0))
    np.testing.assert_allclose(dbeta, g.sum(axis=0))


# (M, C): a convolution's output at 14x14 (rows summed one after the other), a dense layer's, one
# channel (numpy sums pairwise: the twins call the references), and a row count that is not a block's
BATCH_NORM_SHAPES = [(128 * 14 * 14, 32), (64, 100), (4000, 1), (1001, 3)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", BATCH_NORM_SHAPES)
def test_compiled_batch_norm_gives_the_numpy_bits(shape, dtype) -> None:
    rng = np.random.default_rng(10)
    x = (rng.standard_normal(shape) * 3 + 2).astype(dtype)
    gamma, beta = rng.standard_normal(shape[1]).astype(dtype), rng.standard_normal(shape[1]).astype(dtype)
    forward = same_on_both(batch_norm, "train_forward", lambda: (x.copy(), gamma.copy(), beta.copy(), 1e-5))
    x_hat, inv_std = forward[4], forward[7]
    g = rng.standard_normal(shape).astype(dtype)
    g.reshape(-1)[:2] = [np.inf, -0.0]
    same_on_both(batch_norm, "backward", lambda: (g.copy(), x_hat.copy(), inv_std.copy(), gamma.copy()))


def test_compiled_batch_norm_takes_strided_rows() -> None:
    """A gradient that is a view (every other row) gives the bits of its contiguous copy."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((400, 8)).astype(np.float32)
    gamma, beta = np.ones(8, np.float32), np.zeros(8, np.float32)
    _, x_hat, _, _, inv_std = batch_norm.train_forward(x[::2], gamma, beta, 1e-5)
    g = rng.standard_normal((400, 8)).astype(np.float32)
    strided = same_on_both(batch_norm, "backward", lambda: (g[::2], x_hat, inv_std, gamma))
    contiguous = batch_norm.backward_numpy(np.ascontiguousarray(g[::2]), x_hat, inv_std, gamma)
    for a, b in zip(strided[-3:], contiguous, strict=True):
        assert a.tobytes() == b.tobytes()


def test_blocked_threaded_ops_give_the_same_bits_as_one_pass(monkeypatch) -> None:
    """Blocks of 2 samples on 3 threads against one block on one thread: every op, bit for bit."""
    from plugnn import parallel, threads

    rng = np.random.default_rng(5)
    x = rng.standard_normal((7, 9, 8, 3)).astype(np.float32)
    k = rng.standard_normal((3, 3, 3, 4)).astype(np.float32)

    def everything() -> list[np.ndarray]:
        cols = im2col.im2col(x, (3, 3), 1)
        g = rng.standard_normal((len(cols), 4)).astype(np.float32)
        y, winner = pooling.max_pool(x, 2, 1)
        return [
            cols,
            im2col.im2col_t(x, (3, 3), 2),
            im2col.input_gradient(g, k, x.shape, 1),
            y,
            winner,
            pooling.max_pool_backward(y, winner, x.shape, 2, 1),
            pooling.max_pool_backward(y[:, ::2, ::2], pooling.max_pool(x, 2, 2)[1], x.shape, 2, 2),
            pooling.avg_pool(x, 3, 2),
            pooling.avg_pool_backward(pooling.avg_pool(x, 2, 2), x.shape, 2, 2),
            *batch_norm.train_forward(x.reshape(-1, 3), k[0, 0, 0, :3], k[0, 1, 0, :3], 1e-5),
            *batch_norm.backward(x.reshape(-1, 3)[::-1], x.reshape(-1, 3), k[0, 0, 0, :3], k[0, 1, 0, :3]),
        ]

    rng = np.random.default_rng(6)
    with threads.thread_budget(1):
        whole = everything()
    monkeypatch.setattr(parallel, "BLOCK_BYTES", 2 * x[0].nbytes)
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    rng = np.random.default_rng(6)
    with threads.thread_budget(3):
        blocked = everything()
    for a, b in zip(whole, blocked, strict=True):
        np.testing.assert_array_equal(a, b)


def _pool_input(shape: tuple[int, ...], dtype: type) -> np.ndarray:
    """A ReLU's output: many exact zeros (ties), a few repeated values, a negative zero."""
    rng = np.random.default_rng(7)
    x = np.maximum(np.round(rng.standard_normal(shape) * 2) / 2, 0).astype(dtype)
    x.reshape(-1)[:2] = [-0.0, 3.0]
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("shape", "pool", "stride"), POOLS)
def test_compiled_max_pool_backward_gives_the_numpy_bits(shape, pool, stride, dtype) -> None:
    x = _pool_input(shape, dtype)
    y, winner = pooling.max_pool(x, pool, stride)
    g = np.random.default_rng(8).standard_normal(y.shape).astype(dtype)
    g.reshape(-1)[:2] = [np.inf, -1.0]
    same_on_both(pooling, "max_pool_backward", lambda: (g.copy(), winner.copy(), shape, pool, stride))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("shape", "kernel", "stride"), SHAPES)
def test_compiled_input_gradient_gives_the_numpy_bits(shape, kernel, stride, dtype) -> None:
    """One filter: each window's gradient is one product, the same bits from one matmul or nine, so the
    bits compare the order of the adds (with more filters both paths agree as far as the BLAS does)."""
    rows, cols = (im2col.output_size(size, k, stride) for size, k in zip(shape[1:3], kernel, strict=True))
    rng = np.random.default_rng(9)
    g = rng.standard_normal((shape[0] * rows * cols, 1)).astype(dtype)
    g[:2, 0] = [np.inf, -0.0]
    k = rng.standard_normal((*kernel, shape[3], 1)).astype(dtype)
    same_on_both(im2col, "input_gradient", lambda: (g.copy(), k.copy(), shape, stride))
