"""The builder, the network and the shared train loop."""

from __future__ import annotations

import json

import numpy as np
import pytest
from plugnn_std import SGD, Adam, Dense

import plugnn
from plugnn import DataError, NetworkSpec, TrainSpec
from plugnn.testing import assert_gradient_close, numeric_gradient

NOTEBOOK_ADAM = NetworkSpec(
    layers=[Dense(100), "relu", Dense(200), "relu", Dense(10)],
    loss="softmax_cross_entropy",
    optimizer=Adam(lr=1e-3),
    init="he",
)


def small_data(n=10, d=3, classes=2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)).astype(np.float32), rng.integers(0, classes, n)


def test_builder_infers_input_widths(registry) -> None:
    network = plugnn.build_network(NOTEBOOK_ADAM, 784, registry=registry)
    assert [layer.params["W"].shape for layer in network.layers[::2]] == [(784, 100), (100, 200), (200, 10)]
    assert network.n_params == 784 * 100 + 100 + 100 * 200 + 200 + 200 * 10 + 10
    assert network.params.dtype == np.float32


def test_parameters_are_views_of_one_flat_buffer(registry) -> None:
    network = plugnn.build_network(NOTEBOOK_ADAM, 8, registry=registry)
    network.params[:] = 0.5
    assert all((p == 0.5).all() for layer in network.layers for p in layer.params.values())


def test_summary_lists_layers_shapes_and_counts(registry) -> None:
    summary = plugnn.build_network(NOTEBOOK_ADAM, 784, registry=registry).summary()
    assert "0: dense" in summary and "(N, 100)" in summary and "78,500" in summary
    assert "input (N, 784); 100,710 trainable parameters (float32)" in summary


def test_network_gradient_matches_finite_differences(registry) -> None:
    spec = NetworkSpec(layers=[Dense(4), "relu", Dense(3)], loss="softmax_cross_entropy", optimizer="sgd", init="he")
    network = plugnn.build_network(spec, 5, dtype="float64", registry=registry)
    x, y = np.random.default_rng(1).standard_normal((6, 5)), np.array([0, 1, 2, 0, 1, 2])
    _, grad = network.loss(network.forward(x), y)
    network.backward(grad)
    numeric = numeric_gradient(lambda: network.loss(network.forward(x), y)[0], network.params)
    assert_gradient_close(network.grads, numeric, "network")


def test_last_partial_batch_is_kept(registry, monkeypatch) -> None:
    sizes = []
    original = plugnn.Network.train_step

    def spy(self, x, y, optimizer):
        sizes.append(len(x))
        return original(self, x, y, optimizer)

    monkeypatch.setattr(plugnn.Network, "train_step", spy)
    spec = NetworkSpec(layers=[Dense(2)], loss="softmax_cross_entropy", optimizer="sgd", init="he")
    x, y = small_data(n=10)
    plugnn.train(spec, x, y, TrainSpec(epochs=2, batch_size=4), registry=registry)
    assert sizes == [4, 4, 2, 4, 4, 2]


def test_same_seed_gives_bit_identical_weights_and_history(train_on_digits) -> None:
    train = TrainSpec(epochs=3, batch_size=64, seed=11)
    runs = [train_on_digits(NOTEBOOK_ADAM, train) for _ in range(2)]
    np.testing.assert_array_equal(runs[0].network.params, runs[1].network.params)
    strip = [{k: v for k, v in r.history.to_dict().items() if k != "seconds"} for r in runs]
    assert strip[0] == strip[1]
    other = train_on_digits(NOTEBOOK_ADAM, TrainSpec(epochs=3, batch_size=64, seed=12))
    assert not np.array_equal(other.network.params, runs[0].network.params)


def test_history_is_plain_and_serialisable(registry) -> None:
    x, y = small_data()
    spec = NetworkSpec(layers=[Dense(2)], loss="softmax_cross_entropy", optimizer=SGD(lr=0.1), init="he")
    history = plugnn.train(spec, x, y, TrainSpec(epochs=2, batch_size=3), test=(x, y), registry=registry).history
    data = json.loads(json.dumps(history.to_dict()))
    assert data["epoch"] == [1, 2] and len(data["test_accuracy"]) == 2
    assert plugnn.History.from_dict(data) == history


def test_a_hook_can_stop_training(registry) -> None:
    class StopAfterTwo:
        @plugnn.hookimpl
        def plugnn_epoch_end(self, context):
            context.stop = context.epoch == 2

    x, y = small_data()
    spec = NetworkSpec(layers=[Dense(2)], loss="softmax_cross_entropy", optimizer="sgd", init="he")
    history = plugnn.train(
        spec, x, y, TrainSpec(epochs=9, batch_size=5), registry=registry, plugins=[StopAfterTwo()]
    ).history
    assert history.column("epoch") == [1, 2]


def test_float32_end_to_end(registry) -> None:
    x, y = small_data()
    result = plugnn.train(NOTEBOOK_ADAM, x.astype(np.float64), y, TrainSpec(epochs=1, batch_size=4), registry=registry)
    assert result.network.params.dtype == np.float32
    assert all(v.dtype == np.float32 for k, v in result.optimizer.state_dict().items() if k != "t")
    assert result.network.predict_proba(x).dtype == np.float32


@pytest.mark.parametrize(
    ("x", "y", "message"),
    [
        (np.zeros((4, 5), np.float32), np.zeros(4, int), "X: the network expects 3 features per sample, got 5"),
        (np.zeros((4, 3), np.float32), np.zeros(3, int), "y: 3 labels for 4 samples"),
        (
            np.zeros((4, 3), np.float32),
            np.array([0, 1, 2, 1]),
            r"y: labels must lie in \[0, 2\) .* got values in \[0, 2\]",
        ),
        (np.zeros((4, 3), np.float32), np.array([0, 1, 0.5, 1]), "y: expected integer class indices"),
        (
            np.array([[0, 0, np.nan]] * 4, np.float32),
            np.zeros(4, int),
            r"X: holds NaN or Inf \(first at row 0, column 2\)",
        ),
        (np.zeros((0, 3), np.float32), np.zeros(0, int), "X: no samples"),
    ],
)
def test_bad_data_is_caught_before_training(registry, x, y, message) -> None:
    spec = NetworkSpec(layers=[Dense(2)], loss="softmax_cross_entropy", optimizer="sgd", init="he")
    network = plugnn.build_network(spec, 3, registry=registry)
    optimizer = plugnn.build_optimizer("sgd", registry)
    with pytest.raises(DataError, match=message):
        plugnn.fit(network, optimizer, x, y, TrainSpec(epochs=1), registry=registry)


def test_unscaled_integer_pixels_warn(registry) -> None:
    spec = NetworkSpec(layers=[Dense(2)], loss="softmax_cross_entropy", optimizer="sgd", init="he")
    x = np.full((4, 3), 200, dtype=np.uint8)
    message = r"X looks like unscaled pixels \(integer values in \[200, 200\], dtype uint8\); .* X / 255.0"
    with pytest.warns(UserWarning, match=message):
        plugnn.train(spec, x, np.array([0, 1, 0, 1]), TrainSpec(epochs=1, batch_size=2), registry=registry)


@pytest.mark.slow
def test_notebook_architecture_learns_digits(train_on_digits, digits) -> None:
    _, x_test, _, y_test = digits
    result = train_on_digits(NOTEBOOK_ADAM, TrainSpec(epochs=30, batch_size=32, seed=0))
    accuracy = float(np.mean(result.network.predict(x_test) == y_test))
    assert accuracy >= 0.95
    assert result.history.records[-1]["test_accuracy"] == pytest.approx(accuracy)
    assert result.history.records[-1]["loss"] < result.history.records[0]["loss"] / 5
