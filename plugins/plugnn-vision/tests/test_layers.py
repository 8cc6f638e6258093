"""The vision layers against formulas written out independently here (naive loops, definitions)."""

from __future__ import annotations

import numpy as np
import pytest
from plugnn_vision import BatchNorm, Conv2D, GlobalAvgPool2D, MaxPool2D
from plugnn_vision import conv2d as conv2d_module

import plugnn
from plugnn.testing import make_layer

REGISTRY = plugnn.default_registry()


def build(name: str, spec, input_shape, dtype: str = "float64"):
    layer, _ = make_layer(REGISTRY.tables["layer"].get(name), spec, REGISTRY, input_shape=input_shape, dtype=dtype)
    return layer


def naive_conv(x, kernel, bias, stride, pad):
    """Zero-pad by ``pad`` = (top, bottom, left, right), then one dot product per output value."""
    top, bottom, left, right = pad
    x = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    kh, kw, _, filters = kernel.shape
    rows, cols = (x.shape[1] - kh) // stride + 1, (x.shape[2] - kw) // stride + 1
    y = np.zeros((len(x), rows, cols, filters))
    for n in range(len(x)):
        for i in range(rows):
            for j in range(cols):
                window = x[n, i * stride : i * stride + kh, j * stride : j * stride + kw]
                y[n, i, j] = np.tensordot(window, kernel, axes=3) + bias
    return y


@pytest.mark.parametrize(
    ("spec", "shape", "pad"),
    [
        (Conv2D(4, 3), (7, 6, 2), (0, 0, 0, 0)),
        (Conv2D(3, 3, stride=2, padding="same"), (7, 8, 1), (1, 1, 0, 1)),  # 8 wide: a total of 1, after
        (Conv2D(2, 2, padding="same"), (5, 5, 3), (0, 1, 0, 1)),
        (Conv2D(3, 3, stride=2, padding=2), (6, 6, 2), (2, 2, 2, 2)),
    ],
)
def test_conv2d_is_the_naive_convolution(spec, shape, pad) -> None:
    layer = build("conv2d", spec, shape)
    layer.params["b"][...] = np.arange(spec.filters) * 0.1
    x = np.random.default_rng(0).standard_normal((2, *shape))
    expected = naive_conv(x, layer.params["W"], layer.params["b"], spec.stride, pad)
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-12, atol=1e-12)
    assert layer.output_shape == expected.shape[1:]


def test_conv2d_relu_activation_is_a_relu_after_it() -> None:
    x = np.random.default_rng(1).standard_normal((3, 6, 6, 2))
    plain, fused = build("conv2d", Conv2D(4, 3), (6, 6, 2)), build("conv2d", Conv2D(4, 3, activation="relu"), (6, 6, 2))
    y = plain.forward(x)
    np.testing.assert_array_equal(fused.forward(x), np.maximum(y, 0))
    g = np.random.default_rng(2).standard_normal(y.shape)
    dx = fused.backward(g.copy())
    np.testing.assert_array_equal(dx, plain.backward(g * (y > 0)))


@pytest.mark.parametrize("channels", [2, 6])  # transposed columns (bias in them) and plain ones
def test_conv2d_large_inference_batches_go_in_chunks_with_the_same_result(monkeypatch, channels) -> None:
    x = np.random.default_rng(3).standard_normal((9, 6, 6, channels)).astype(np.float32)
    whole = build("conv2d", Conv2D(4, 3, padding="same"), (6, 6, channels), "float32")
    assert whole._transposed == (channels <= conv2d_module.FEW_CHANNELS)
    monkeypatch.setattr(conv2d_module, "COLUMN_BUDGET", 2 * 36 * whole._depth)  # two samples' columns at a time
    chunked = build("conv2d", Conv2D(4, 3, padding="same"), (6, 6, channels), "float32")
    assert chunked._chunk == 2
    np.testing.assert_array_equal(chunked.forward(x), whole.forward(x))
    g = np.ones((9, 6, 6, 4), dtype=np.float32)
    np.testing.assert_array_equal(chunked.backward(g.copy()), whole.backward(g.copy()))
    np.testing.assert_array_equal(chunked.grads["W"], whole.grads["W"])
    np.testing.assert_array_equal(chunked.grads["b"], whole.grads["b"])


def test_max_pool_drops_what_no_window_reaches_as_keras() -> None:
    layer = build("max_pool2d", MaxPool2D(2), (11, 11, 64))
    assert layer.output_shape == (5, 5, 64)


def test_global_average_pool() -> None:
    x = np.random.default_rng(4).standard_normal((2, 3, 4, 5))
    layer = build("global_avg_pool2d", GlobalAvgPool2D(), (3, 4, 5))
    np.testing.assert_allclose(layer.forward(x), x.mean(axis=(1, 2)))
    np.testing.assert_allclose(layer.backward(np.ones((2, 5))), np.full(x.shape, 1 / 12))


@pytest.mark.parametrize("shape", [(6,), (4, 5, 3)])
def test_batch_norm_training_then_inference_follows_pytorch(shape) -> None:
    rng = np.random.default_rng(5)
    layer = build("batch_norm", BatchNorm(momentum=0.1, eps=1e-5), shape)
    mean, var = np.zeros(shape[-1]), np.ones(shape[-1])
    for _ in range(3):
        x = rng.standard_normal((8, *shape)) * 3 + 2
        y = layer.forward(x, training=True)
        rows = x.reshape(-1, shape[-1])
        np.testing.assert_allclose(y.reshape(-1, shape[-1]), (rows - rows.mean(0)) / np.sqrt(rows.var(0) + 1e-5))
        mean = 0.9 * mean + 0.1 * rows.mean(0)
        var = 0.9 * var + 0.1 * rows.var(0, ddof=1)  # the unbiased variance, as torch.nn.BatchNorm
    np.testing.assert_allclose(layer.buffers["running_mean"], mean)
    np.testing.assert_allclose(layer.buffers["running_var"], var)
    x = rng.standard_normal((2, *shape))
    np.testing.assert_allclose(layer.forward(x), (x - mean) / np.sqrt(var + 1e-5))
    np.testing.assert_array_equal(layer.buffers["running_mean"], mean)  # inference leaves them alone


def test_batch_norm_keeps_float32() -> None:
    layer = build("batch_norm", BatchNorm(), (4, 4, 3), "float32")
    x = np.random.default_rng(6).standard_normal((5, 4, 4, 3)).astype(np.float32)
    y = layer.forward(x, training=True)
    assert y.dtype == layer.buffers["running_var"].dtype == np.float32
    assert layer.backward(y).dtype == np.float32


def test_image_networks_predict_in_smaller_chunks() -> None:
    """Inference passes hold at most ACTIVATION_BUDGET values per layer output: 775 rows of 26x26x32, not 4096."""
    from plugnn_std import Dense

    spec = plugnn.NetworkSpec(
        layers=[Conv2D(32, 3, activation="relu"), MaxPool2D(2), Dense(10)],
        loss="softmax_cross_entropy",
        optimizer="adam",
        init="he",
    )
    network = plugnn.build_network(spec, (28, 28, 1), registry=REGISTRY)
    assert network.predict_chunk == (1 << 24) // (26 * 26 * 32) == 775
    x = np.random.default_rng(7).random((800, 28, 28, 1), dtype=np.float32)
    np.testing.assert_allclose(
        network.logits(x), np.concatenate([network.logits(x[:400]), network.logits(x[400:])]), rtol=1e-6, atol=1e-5
    )  # float32 logits of order 1: other row counts take other BLAS blockings (differences ~1e-6 here)
    mlp = plugnn.build_network(
        plugnn.NetworkSpec(layers=[Dense(100), Dense(10)], loss="softmax_cross_entropy", optimizer="adam", init="he"),
        (784,),
        registry=REGISTRY,
    )
    assert mlp.predict_chunk == 4096


def test_deep_networks_predict_in_chunks_bounded_by_all_their_outputs() -> None:
    """The fashion-resnet recipe: thirty-odd layer outputs per pass, so fewer rows than its widest layer allows."""
    from plugnn.network import ACTIVATION_BUDGET, PASS_BUDGET
    from plugnn.run import load_recipe

    _, spec = load_recipe("fashion-resnet", REGISTRY)
    network = plugnn.build_network(spec.network, (28, 28, 1), registry=REGISTRY)
    total = sum(int(np.prod(layer.output_shape)) for _, layer in network.tree())
    assert network.predict_chunk == PASS_BUDGET // total < ACTIVATION_BUDGET // (28 * 28 * 32)
