"""Each extra component against its formula, written out independently here."""

from __future__ import annotations

import math

import numpy as np
import plugnn_std
import pytest
from plugnn_extras import (
    AdamW,
    Cosine,
    Dropout,
    LeakyReLU,
    Momentum,
    OneHotMSE,
    RMSprop,
    Step,
)
from plugnn_std import Dense

import plugnn
from plugnn.testing import make_layer

REGISTRY = plugnn.default_registry()
GRADS = [np.array([0.5, -2.0]), np.array([0.1, 0.3]), np.array([-1.0, 4.0])]


def run(spec, grads=GRADS, start=(1.0, -1.0)):
    optimizer = plugnn.build_optimizer(spec, REGISTRY)
    param, seen = np.array(start), []
    for g in grads:
        optimizer.step([param], [g.copy()])
        seen.append(param.copy())
    return np.array(seen)


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_is_torch_sgd(nesterov) -> None:
    lr, mu = 0.1, 0.9
    w, v, expected = np.array([1.0, -1.0]), np.zeros(2), []
    for g in GRADS:
        v = mu * v + g
        w = w - lr * ((g + mu * v) if nesterov else v)
        expected.append(w)
    np.testing.assert_allclose(run(Momentum(lr=lr, momentum=mu, nesterov=nesterov)), expected, rtol=1e-12)


def test_rmsprop_is_torch_rmsprop() -> None:
    lr, rho, eps = 0.01, 0.9, 1e-8
    w, s, expected = np.array([1.0, -1.0]), np.zeros(2), []
    for g in GRADS:
        s = rho * s + (1 - rho) * g * g
        w = w - lr * g / (np.sqrt(s) + eps)
        expected.append(w)
    np.testing.assert_allclose(run(RMSprop(lr=lr, rho=rho, eps=eps)), expected, rtol=1e-12)


def test_adamw_decay_is_decoupled() -> None:
    lr, decay, b1, b2, eps = 0.01, 0.1, 0.9, 0.999, 1e-8
    w, m, v, expected = np.array([1.0, -1.0]), np.zeros(2), np.zeros(2), []
    for t, g in enumerate(GRADS, start=1):
        w = w * (1 - lr * decay)  # on the weights, not added to g
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w = w - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        expected.append(w)
    np.testing.assert_allclose(run(AdamW(lr=lr, weight_decay=decay)), expected, rtol=1e-12)
    # with a zero gradient, AdamW still shrinks the weights; Adam would not move them
    zero = [np.zeros(2)] * 3
    np.testing.assert_allclose(
        run(AdamW(lr=lr, weight_decay=decay), zero)[-1], np.array([1.0, -1.0]) * (1 - lr * decay) ** 3
    )


def test_dropout_keeps_the_mean_and_is_identity_in_inference() -> None:
    registry = plugnn.default_registry()
    layer, _ = make_layer(
        registry.tables["layer"].get("dropout"), Dropout(rate=0.3), registry, input_shape=(1000,), dtype="float32"
    )
    x = np.ones((200, 1000), dtype=np.float32)
    y = layer.forward(x, training=True)
    assert y.dtype == np.float32
    assert abs(np.mean(y == 0) - 0.3) < 0.01
    np.testing.assert_allclose(y[y != 0], 1 / 0.7, rtol=1e-6)
    assert abs(y.mean() - 1) < 0.01
    assert layer.forward(x, training=False) is x


def test_dropout_masks_follow_the_seed() -> None:
    from sklearn.datasets import load_digits

    data = load_digits()
    x, y = (data.data / 16).astype(np.float32), data.target
    spec = plugnn.NetworkSpec(
        layers=[Dense(32), "relu", Dropout(0.5), Dense(10)], loss="softmax_cross_entropy", optimizer=AdamW(), init="he"
    )
    runs = [plugnn.train(spec, x, y, plugnn.TrainSpec(epochs=2, seed=s)).network.params for s in (1, 1, 2)]
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])


def test_leaky_relu_slope() -> None:
    layer, _ = make_layer(REGISTRY.tables["layer"].get("leaky_relu"), LeakyReLU(slope=0.2), REGISTRY, input_shape=(3,))
    np.testing.assert_allclose(layer.forward(np.array([[-2.0, 0.0, 3.0]])), [[-0.4, 0.0, 3.0]])


def test_onehot_mse_value() -> None:
    loss = plugnn.build_loss(OneHotMSE(), REGISTRY)
    value, grad = loss(np.array([[0.5, 0.0], [0.0, 2.0]]), np.array([0, 1]))
    assert value == pytest.approx((0.25 + 0 + 0 + 1) / 4)
    np.testing.assert_allclose(grad, np.array([[-0.5, 0.0], [0.0, 1.0]]) * 2 / 4)


def test_schedules() -> None:
    step = plugnn.builder.build_schedule(Step(step_size=2, gamma=0.5), REGISTRY)
    assert [step(e, 6) for e in range(6)] == [1, 1, 0.5, 0.5, 0.25, 0.25]
    cosine = plugnn.builder.build_schedule(Cosine(min_factor=0.1), REGISTRY)
    assert cosine(0, 10) == 1 and cosine(5, 10) == pytest.approx(0.55)
    assert cosine(9, 10) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.9)))


class RateSpy:
    """Records the learning rate each epoch trained with."""

    def __init__(self):
        self.rates = []

    @plugnn.hookimpl
    def plugnn_epoch_end(self, context):
        self.rates.append(context.optimizer.lr)


def test_the_train_loop_applies_the_schedule() -> None:
    spy = RateSpy()
    registry = plugnn.load_registry(extra_plugins=[spy])  # a registry-wide event plugin
    x = np.random.default_rng(0).standard_normal((20, 3)).astype(np.float32)
    spec = plugnn.NetworkSpec(layers=[Dense(2)], loss="softmax_cross_entropy", optimizer=Momentum(lr=0.4), init="he")
    plugnn.train(
        spec,
        x,
        np.arange(20) % 2,
        plugnn.TrainSpec(epochs=4, batch_size=5, schedule=Step(step_size=1, gamma=0.5)),
        registry=registry,
    )
    assert spy.rates == [0.4, 0.2, 0.1, 0.05]


def test_a_second_fit_starts_from_the_spec_rate() -> None:
    # the base rate lives in the optimizer's spec: a fit never reads back the rate an earlier one left
    x = np.random.default_rng(0).standard_normal((20, 3)).astype(np.float32)
    y = np.arange(20) % 2
    spec = plugnn.NetworkSpec(layers=[Dense(2)], loss="softmax_cross_entropy", optimizer="sgd", init="he")
    train = plugnn.TrainSpec(epochs=3, batch_size=5, schedule=Step(step_size=2, gamma=0.5))
    network = plugnn.build_network(spec, 3, registry=REGISTRY)
    optimizer = plugnn.build_optimizer(plugnn_std.SGD(lr=0.1), REGISTRY)
    once, twice = RateSpy(), RateSpy()
    plugnn.fit(network, optimizer, x, y, train, registry=REGISTRY, plugins=[once])
    plugnn.fit(network, optimizer, x, y, train, registry=REGISTRY, plugins=[twice])
    assert once.rates == twice.rates == [0.1, 0.1, 0.05]
