"""Layer buffers (state that is not trained): collected, saved, restored bit for bit; modes."""

from __future__ import annotations

import json

import attrs
import numpy as np
import pytest
from buffered_layer import Center, CenterLayer, CenterPlugin, registry_with
from interrupt_at import InterruptAt
from plugnn_std import Adam, Dense

import plugnn
from plugnn import NetworkSpec, TrainSpec
from plugnn.data import load_dataset
from plugnn.model_io import load_model, save_model
from plugnn.npzfile import CorruptFileError, read_npz, write_npz
from plugnn.specs import RunSpec

NETWORK = NetworkSpec(
    layers=[Dense(16), Center(), "relu", Dense(10)], loss="softmax_cross_entropy", optimizer=Adam(), init="he"
)
RUN = RunSpec(data="digits", network=NETWORK, train=TrainSpec(epochs=2, batch_size=64, seed=4))


@pytest.fixture
def center_registry() -> plugnn.Registry:
    return registry_with(CenterPlugin())


def test_the_network_collects_buffers_and_counts_them(center_registry) -> None:
    network = plugnn.build_network(NETWORK, (8, 8, 1), registry=center_registry)
    assert list(network.buffer_state()) == ["layers[1].mean"]
    assert network.buffer_state()["layers[1].mean"] is not network.layers[1].buffers["mean"]  # a copy
    assert "1: center  (N, 16)" in network.summary()
    assert "1,210 trainable parameters, 16 non-trainable values in buffers (float32)" in network.summary()


def test_training_mode_in_the_loop_inference_mode_for_accuracy_and_prediction(center_registry, digits, monkeypatch):
    x_train, x_test, y_train, y_test = digits
    modes = []
    original = CenterLayer.forward

    def spy(self, x, *, training=False):
        modes.append((training, len(x)))
        return original(self, x, training=training)

    monkeypatch.setattr(CenterLayer, "forward", spy)
    spec = TrainSpec(epochs=1, batch_size=500, full_train_accuracy=True)
    result = plugnn.train(NETWORK, x_train, y_train, spec, test=(x_test, y_test), registry=center_registry)
    assert modes == [(True, 500), (True, 500), (True, 347), (False, 1347), (False, 450)]
    before = result.network.buffer_state()
    result.network.predict(x_test)
    assert modes[-1] == (False, 450)
    np.testing.assert_array_equal(result.network.buffer_state()["layers[1].mean"], before["layers[1].mean"])


def trained(registry: plugnn.Registry, digits) -> plugnn.Network:
    x_train, _, y_train, _ = digits
    return plugnn.train(NETWORK, x_train, y_train, TrainSpec(epochs=1, batch_size=128), registry=registry).network


def test_model_files_restore_buffers_bit_for_bit(center_registry, digits, tmp_path) -> None:
    network = trained(center_registry, digits)
    assert np.any(network.layers[1].buffers["mean"] != 0)
    save_model(tmp_path / "model.npz", network, RUN, center_registry)
    loaded, _ = load_model(tmp_path / "model.npz", center_registry)
    np.testing.assert_array_equal(loaded.layers[1].buffers["mean"], network.layers[1].buffers["mean"])
    np.testing.assert_array_equal(loaded.logits(digits[1]), network.logits(digits[1]))
    assert read_npz(tmp_path / "model.npz", "model")["input_shape"].tolist() == [64]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda a: a.pop("buffer/layers[1].mean"), r"layers\[1\] \(center\) buffer 'mean': missing"),
        (
            lambda a: a.update({"buffer/layers[1].mean": np.zeros(3, np.float32)}),
            r"layers\[1\] \(center\) buffer 'mean': has shape \(3,\), the network's is \(16,\)",
        ),
        (
            lambda a: a.update({"buffer/layers[1].mean": np.zeros(16)}),
            r"layers\[1\] \(center\) buffer 'mean': is float64, the network's is float32",
        ),
        (
            lambda a: a.update({"buffer/layers[2].mean": np.zeros(16, np.float32)}),
            r"holds buffer 'layers\[2\]\.mean', which no layer of the network has",
        ),
    ],
    ids=["missing", "shape", "dtype", "extra"],
)
def test_a_model_file_with_bad_buffers_is_refused_in_one_line(center_registry, digits, tmp_path, change, message):
    path = tmp_path / "model.npz"
    save_model(path, trained(center_registry, digits), RUN, center_registry)
    arrays = read_npz(path, "model")
    change(arrays)
    write_npz(path, "model", arrays)
    with pytest.raises(CorruptFileError, match=rf"^{path}: {message}$"):
        load_model(path, center_registry)


def test_plugnn_save_and_load_carry_buffers_and_training_goes_on_bit_for_bit(center_registry, digits, tmp_path):
    x_train, x_test, y_train, _ = digits
    spec = TrainSpec(epochs=1, batch_size=128, seed=2)
    whole = plugnn.train(NETWORK, x_train, y_train, attrs.evolve(spec, epochs=2), registry=center_registry).network
    first = plugnn.train(NETWORK, x_train, y_train, spec, registry=center_registry).network
    plugnn.save(first, tmp_path / "model.npz", registry=center_registry)
    loaded = plugnn.load(tmp_path / "model.npz", registry=center_registry)
    np.testing.assert_array_equal(loaded.layers[1].buffers["mean"], first.layers[1].buffers["mean"])
    np.testing.assert_array_equal(loaded.logits(x_test), first.logits(x_test))
    plugnn.train(NETWORK, x_train, y_train, spec, registry=center_registry, start_from=loaded)
    np.testing.assert_array_equal(loaded.params, whole.params)
    np.testing.assert_array_equal(loaded.layers[1].buffers["mean"], whole.layers[1].buffers["mean"])


@pytest.mark.slow
def test_resume_restores_buffers_bit_for_bit(tmp_path) -> None:
    registry = registry_with(CenterPlugin())
    split = load_dataset(RUN.data, registry)
    uninterrupted = plugnn.train(
        NETWORK, split.x_train, split.y_train, RUN.train, test=(split.x_test, split.y_test), registry=registry
    )
    with pytest.raises(plugnn.TrainingInterrupted):
        plugnn.run(RUN, out=tmp_path / "run", quiet=True, registry=registry_with(CenterPlugin(), InterruptAt(2, 7)))
    plugnn.resume(tmp_path / "run", quiet=True, registry=registry)
    network, _ = load_model(tmp_path / "run" / "model.npz", registry)
    np.testing.assert_array_equal(network.params, uninterrupted.network.params)
    np.testing.assert_array_equal(network.layers[1].buffers["mean"], uninterrupted.network.layers[1].buffers["mean"])
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert {key: value for key, value in history.items() if key != "seconds"} == {
        key: value for key, value in uninterrupted.history.to_dict().items() if key != "seconds"
    }
