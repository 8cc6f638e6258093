"""The vision recipes: registered through the recipe hook, Keras' convnet layer for layer, digits-cnn trains."""

from __future__ import annotations

import tomllib

import pytest

import plugnn
from plugnn.run import load_recipe
from plugnn.specfile import dumps

RECIPES = ["digits-cnn", "mnist-cnn", "fashion-cnn", "fashion-resnet"]
SAMPLE_SHAPE = {"digits": (8, 8, 1), "mnist": (28, 28, 1), "fashion-mnist": (28, 28, 1)}


def test_the_vision_recipes_are_registered() -> None:
    assert set(RECIPES) <= set(plugnn.load_registry(strict=True).recipes)


@pytest.mark.parametrize("name", RECIPES)
def test_recipe_loads_builds_and_round_trips(name) -> None:
    registry = plugnn.default_registry()
    _, spec = load_recipe(name, registry)
    assert spec.description
    network = plugnn.build_network(spec.network, SAMPLE_SHAPE[spec.data], registry=registry)
    assert network.output_shape == (10,)
    assert plugnn.structure(tomllib.loads(dumps(spec, registry)), plugnn.specs.RunSpec, registry) == spec


def test_mnist_cnn_is_the_keras_example() -> None:
    def conv(filters: int) -> dict[str, object]:
        """Keras's Conv2D(filters, kernel_size=3, activation="relu"), with its defaults spelt out."""
        return {
            "type": "conv2d",
            "filters": filters,
            "kernel_size": 3,
            "stride": 1,
            "padding": "valid",
            "bias": True,
            "activation": "relu",
        }

    registry = plugnn.default_registry()
    _, spec = load_recipe("mnist-cnn", registry)
    layers = [plugnn.unstructure(layer, registry) for layer in spec.network.layers]
    assert layers == [
        conv(32),
        {"type": "max_pool2d", "pool_size": 2},
        conv(64),
        {"type": "max_pool2d", "pool_size": 2},
        "flatten",
        {"type": "dropout", "rate": 0.5},
        {"type": "dense", "units": 10},
    ]
    optimizer = plugnn.unstructure(spec.network.optimizer, registry)
    assert (optimizer["type"], optimizer["lr"]) == ("adam", 0.001)
    assert (spec.train.batch_size, spec.train.epochs, spec.network.init, spec.data) == (128, 12, "glorot", "mnist")
    network = plugnn.build_network(spec.network, (28, 28, 1), registry=registry)
    assert network.n_params == 34_826  # Keras' model.summary() of the example: 34,826 parameters


def test_digits_cnn_learns(tmp_path) -> None:
    result = plugnn.run("digits-cnn", epochs=3, out=tmp_path / "run", quiet=True)
    assert result.test_accuracy >= 0.9


def test_fashion_resnet_exports_and_matches_onnxruntime(tmp_path) -> None:
    """Residual blocks with batch norm and a strided projection, through their converters, within 1e-5."""
    ort = pytest.importorskip("onnxruntime")
    import numpy as np

    registry = plugnn.default_registry()
    _, spec = load_recipe("fashion-resnet", registry)
    network = plugnn.build_network(spec.network, (28, 28, 1), registry=registry)
    rng = np.random.default_rng(0)
    network.params[:] = rng.standard_normal(network.n_params) * 0.1
    for _, layer in network.tree():
        for buffer in layer.buffers.values():
            buffer[...] = rng.uniform(0.5, 1.5, buffer.shape)
    x = rng.random((16, 28, 28, 1), dtype=np.float32)
    path = plugnn.export_onnx(network, tmp_path / "resnet.onnx", registry=registry)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(["output"], {"input": x})[0], network.logits(x), rtol=1e-5, atol=1e-5)
