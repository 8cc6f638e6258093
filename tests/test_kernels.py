"""plugnn.kernels: the numpy references and the numba kernels agree bit for bit on the same cases."""

from __future__ import annotations

import numpy as np
import pytest
from kernel_backends import backends, pick, same_on_both

from plugnn import kernels
from plugnn.errors import PlugnnError
from plugnn.kernels import activation, optim

DTYPES = [np.float32, np.float64]


def _state(n: int, dtype: type, buffers: int, seed: int = 0, shape: tuple[int, ...] | None = None) -> tuple:
    """``(param, grad, *buffers, scratch)``: random values, positive second-moment-like buffers, a few
    special values (zeros, a huge gradient) among them."""
    rng = np.random.default_rng(seed)
    shape = shape or (n,)
    param = rng.standard_normal(shape).astype(dtype)
    grad = rng.standard_normal(shape).astype(dtype)
    grad.reshape(-1)[:3] = [0.0, 1e30 if dtype == np.float32 else 1e300, -1e-30]
    extra = [np.abs(rng.standard_normal(shape)).astype(dtype) for _ in range(buffers)]
    return (param, grad, *extra, np.empty(shape, dtype=dtype))


OPTIMIZERS = [
    ("adam", 2, {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "t": 1}),
    ("adam", 2, {"lr": 0.0317, "beta1": 0.5, "beta2": 0.9, "eps": 1e-6, "t": 7, "decay": 0.01}),
    ("momentum", 1, {"lr": 0.05, "momentum": 0.9, "nesterov": False}),
    ("momentum", 1, {"lr": 0.05, "momentum": 0.7, "nesterov": True}),
    ("rmsprop", 1, {"lr": 0.01, "rho": 0.99, "eps": 1e-8}),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("name", "buffers", "options"), OPTIMIZERS)
def test_optimizer_kernels_agree_bit_for_bit(name, buffers, options, dtype):
    for shape in [(1001,), (13, 7)]:  # a flat buffer and a 2-D parameter
        make = lambda shape=shape: _state(0, dtype, buffers, shape=shape)  # noqa: E731
        same_on_both(optim, name, make, skip=(2 + buffers,), **options)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sgd_kernels_agree_bit_for_bit(dtype):
    same_on_both(optim, "sgd", lambda: _state(517, dtype, 0)[:2], lr=0.1)


@backends
def test_non_contiguous_parameters_are_updated_as_contiguous_ones(backend):
    adam = pick(optim, "adam", backend)
    options = {"lr": 1e-2, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "t": 3}
    contiguous = _state(0, np.float32, 2, shape=(8, 6))
    strided = [np.asfortranarray(a) for a in contiguous]
    with np.errstate(over="ignore"):
        adam(*contiguous, **options)
        adam(*strided, **options)
    for a, b in zip(contiguous[:4], strided[:4], strict=True):
        assert a.tobytes() == np.ascontiguousarray(b).tobytes()


@backends
def test_adam_first_step_is_lr_times_the_sign_of_the_gradient(backend):
    param, grad, m, v, scratch = (
        np.zeros(4, np.float32),
        np.array([3.0, -2.0, 0.5, -1e-3], np.float32),
        *(np.zeros(4, np.float32) for _ in range(3)),
    )
    pick(optim, "adam", backend)(param, grad, m, v, scratch, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, t=1)
    np.testing.assert_allclose(param, -0.01 * np.sign(grad), rtol=1e-4)
    assert param.dtype == np.float32


def test_the_backend_comes_from_plugnn_kernels(monkeypatch):
    monkeypatch.setenv(kernels.ENV, "numpy")
    assert kernels._chosen() == "numpy"
    monkeypatch.setenv(kernels.ENV, "fortran")
    with pytest.raises(PlugnnError, match=r"PLUGNN_KERNELS: expected 'numpy' or 'numba', got 'fortran'"):
        kernels._chosen()
    monkeypatch.delenv(kernels.ENV)
    assert kernels._chosen() == ("numba" if kernels.importlib.util.find_spec("numba") else "numpy")
    assert kernels.describe().startswith(kernels.BACKEND)


def _activations(dtype: type, shape: tuple[int, ...] = (37, 5, 3)) -> np.ndarray:
    """Pre-activations with the values where a ReLU's bits could differ: ±0, NaN, ±inf."""
    x = np.random.default_rng(1).standard_normal(shape).astype(dtype)
    x.reshape(-1)[:5] = [0.0, -0.0, np.nan, np.inf, -np.inf]
    return x


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_kernels_agree_bit_for_bit(dtype):
    x = _activations(dtype)
    y = same_on_both(activation, "relu", lambda: (x.copy(), np.empty_like(x)))[1]
    grad = _activations(dtype)[::-1].copy()
    same_on_both(activation, "relu_backward", lambda: (grad.copy(), y))
    same_on_both(activation, "relu_backward", lambda: (grad.copy(), y > 0))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
def test_bias_relu_kernels_agree_bit_for_bit(dtype, bias):
    x = _activations(dtype, (300, 7))
    b = np.linspace(-1, 1, 7).astype(dtype) if bias else None
    same_on_both(activation, "bias_relu", lambda: (x.copy(), b, np.empty(x.shape, dtype=bool)))


@backends
def test_relu_kernels_on_rows_split_between_threads(backend, monkeypatch):
    from plugnn import parallel, threads

    monkeypatch.setattr(parallel, "BLOCK_BYTES", 64)
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    x = _activations(np.float32, (50, 8))
    with threads.thread_budget(3):
        y = np.empty_like(x)
        pick(activation, "relu", backend)(x, y)
        mask = np.empty(x.shape, dtype=bool)
        biased = x.copy()
        pick(activation, "bias_relu", backend)(biased, np.ones(8, np.float32), mask)
    np.testing.assert_array_equal(y, np.maximum(x, 0))
    np.testing.assert_array_equal(biased, np.maximum(x + 1, 0))
    np.testing.assert_array_equal(mask, biased > 0)


@pytest.mark.skipif(kernels.importlib.util.find_spec("numba") is None, reason="numba is not installed")
def test_numba_loads_in_the_background_once_the_references_did_some_work(monkeypatch):
    import time

    monkeypatch.setattr(kernels, "BACKGROUND", True)
    monkeypatch.setattr(kernels, "START_AFTER", 100)
    monkeypatch.setattr(kernels, "_handled", [0])
    kernel = kernels.Compiled(optim._sgd.function)  # a fresh one: nothing compiled yet
    param, grad = np.ones(60, np.float32), np.ones(60, np.float32)
    assert not kernel(param, grad, np.float32(0.5))  # 60 elements: numba is not even loaded
    assert not kernel._started and (param == 1).all()  # the caller runs the reference
    if not kernel(param, grad, np.float32(0.5)):  # 120 > 100: the compiler starts in a thread
        param -= np.float32(0.5) * grad  # the caller runs the reference (unless numba's disk cache was that quick)
    assert kernel._started
    for _ in range(600):
        if kernel._ready:
            break
        time.sleep(0.05)
    assert kernel(param, grad, np.float32(0.5))
    assert (param == 0).all()
