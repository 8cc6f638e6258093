"""Per-sample shapes through the builder, the network, the data checks and the train loop."""

from __future__ import annotations

import attrs
import numpy as np
import pytest
from plugnn_std import Adam, Dense

import plugnn
from plugnn import DataError, NetworkSpec, PlugnnError, ShapeError, TrainSpec
from plugnn.run import load_recipe

MLP = NetworkSpec(layers=[Dense(16), "relu", Dense(10)], loss="softmax_cross_entropy", optimizer=Adam(), init="he")


@attrs.frozen
class NeedsImage(plugnn.LayerSpec):
    """Takes (H, W, C) and halves H and W: a stand-in for a pooling layer."""


class NeedsImageLayer(plugnn.layers.ParameterFreeLayer):
    def __init__(self, spec, input_shape, ctx):
        super().__init__(spec, input_shape, ctx)
        if len(input_shape) != 3:
            raise ShapeError(f"got input shape {input_shape}, needs (H, W, C); put it before the dense layers")
        height, width, channels = input_shape
        self.output_shape = (height // 2, width // 2, channels)

    def forward(self, x, *, training=False):
        self._shape = x.shape
        return x[:, : 2 * self.output_shape[0] : 2, : 2 * self.output_shape[1] : 2]

    def backward(self, grad_out, *, input_grad=True):
        grad = np.zeros(self._shape, grad_out.dtype)
        grad[:, : 2 * self.output_shape[0] : 2, : 2 * self.output_shape[1] : 2] = grad_out
        return grad if input_grad else None


@attrs.frozen
class OldStyle(plugnn.LayerSpec):
    """A layer written for plugnn 0.1."""


class OldStyleLayer:
    def __init__(self, spec, in_features, ctx):
        self.out_features, self.params, self.grads = in_features, {}, {}


@attrs.frozen
class IntOnly(plugnn.LayerSpec):
    """A layer whose factory still does arithmetic on an int width."""


class IntOnlyLayer:
    def __init__(self, spec, in_features, ctx):
        self.weights = np.zeros((in_features, 3))  # breaks on a tuple


class ShapePlugin:
    @plugnn.hookimpl
    def plugnn_register_layers(self, register):
        register("needs_image", NeedsImage, NeedsImageLayer)
        register("old_style", OldStyle, OldStyleLayer)
        register("int_only", IntOnly, IntOnlyLayer)


@pytest.fixture
def shape_registry() -> plugnn.Registry:
    return plugnn.load_registry(strict=True, third_party=False, extra_plugins=[ShapePlugin()])


def network_of(layers, shape, registry):
    spec = NetworkSpec(layers=layers, loss="softmax_cross_entropy", optimizer="sgd", init="he")
    return plugnn.build_network(spec, shape, registry=registry)


def test_shapes_are_inferred_through_the_stack(shape_registry) -> None:
    network = network_of(["needs_image", Dense(10)], (8, 6, 3), shape_registry)
    assert network.input_shape == (8, 6, 3) and network.output_shape == (10,)
    assert network.layers[0].output_shape == (4, 3, 3)
    assert network.layers[1].params["W"].shape == (36, 10)
    summary = network.summary()
    assert "0: needs_image  (N, 4, 3, 3)" in summary and "input (N, 8, 6, 3); 370 trainable parameters" in summary


def test_an_int_is_a_flat_shape(registry) -> None:
    assert plugnn.build_network(MLP, 64, registry=registry).input_shape == (64,)


@pytest.mark.parametrize("bad", [0, (8, 0), (), "64", (2.5,), None])
def test_a_bad_input_shape_is_refused(registry, bad) -> None:
    with pytest.raises(ShapeError, match=r"^input_shape: expected a per-sample shape, a tuple of positive integers"):
        plugnn.build_network(MLP, bad, registry=registry)


def test_a_shape_mismatch_names_layer_type_shapes_and_fix_before_training(shape_registry) -> None:
    with pytest.raises(ShapeError) as error:
        network_of([Dense(64), "relu", Dense(32), "needs_image", Dense(10)], (8, 8, 1), shape_registry)
    assert str(error.value) == (
        "layers[3] (needs_image): got input shape (32,), needs (H, W, C); put it before the dense layers"
    )


SHAPE_ERRORS = [
    pytest.param(
        ["needs_image", Dense(10)],
        (64,),
        r"^layers\[0\] \(needs_image\): got input shape \(64,\), needs \(H, W, C\); "
        r".* \(the data's samples have shape \(64,\)\)$",
        id="at the first layer, with the data's sample shape",
    ),
    pytest.param(
        ["relu", "needs_image"],
        (4, 4, 1),
        r"^layers\[1\] \(needs_image\): the network must end in flat logits \(C,\), "
        r"got output shape \(2, 2, 1\); end with a dense layer",
        id="the network must end in flat logits",
    ),
]


@pytest.mark.parametrize(("layers", "shape", "message"), SHAPE_ERRORS)
def test_a_shape_error_names_the_layer_and_what_it_got(shape_registry, layers, shape, message) -> None:
    with pytest.raises(ShapeError, match=message):
        network_of(layers, shape, shape_registry)


def test_a_v0_1_layer_is_named_with_what_to_change(shape_registry) -> None:
    with pytest.raises(
        PlugnnError,
        match=r"^layers\[1\] \(old_style\), from plugin 'ShapePlugin': follows the v0\.1 "
        r"layer protocol \(out_features\); .* declares output_shape",
    ):
        network_of([Dense(4), "old_style", Dense(2)], (3,), shape_registry)
    with pytest.raises(
        PlugnnError,
        match=r"^layers\[0\] \(int_only\), from plugin 'ShapePlugin': building it for "
        r"input shape \(3,\) failed with TypeError: .*input_shape, a tuple",
    ):
        network_of(["int_only", Dense(2)], (3,), shape_registry)


def test_dense_flattens_images_bit_for_bit(registry) -> None:
    images = np.random.default_rng(0).random((7, 4, 4, 2), dtype=np.float32)
    flat = plugnn.build_network(MLP, 32, registry=registry, rng=3)
    shaped = plugnn.build_network(MLP, (4, 4, 2), registry=registry, rng=3)
    np.testing.assert_array_equal(flat.params, shaped.params)
    np.testing.assert_array_equal(shaped.forward(images), flat.forward(images.reshape(7, 32)))
    grad = np.ones((7, 16), np.float32)
    assert shaped.layers[0].backward(grad, input_grad=True).shape == (7, 4, 4, 2)


def test_train_takes_samples_of_any_shape_and_equals_the_flat_run(registry, digits, train_on_digits) -> None:
    x_train, x_test, y_train, y_test = digits
    spec = TrainSpec(epochs=2, batch_size=64, seed=3)
    flat = train_on_digits(MLP, spec)
    images = plugnn.train(
        MLP, x_train.reshape(-1, 8, 8, 1), y_train, spec, test=(x_test.reshape(-1, 8, 8, 1), y_test), registry=registry
    )
    assert images.network.input_shape == (8, 8, 1)
    np.testing.assert_array_equal(flat.network.params, images.network.params)
    assert flat.history.column("loss") == images.history.column("loss")


def test_a_flat_network_takes_samples_holding_as_many_values(registry) -> None:
    network = plugnn.build_network(MLP, 64, registry=registry)
    images = np.random.default_rng(0).random((5, 8, 8, 1), dtype=np.float32)
    np.testing.assert_array_equal(network.predict(images), network.predict(images.reshape(5, 64)))


@pytest.mark.parametrize(
    ("x", "message"),
    [
        (
            np.zeros((4, 64), np.float32),
            r"X: the network expects samples of shape \(8, 8, 1\), got \(64,\) "
            r"\(array shape \(4, 64\)\); reshape it: X\.reshape\(-1, 8, 8, 1\)$",
        ),
        (
            np.zeros((4, 8, 8, 3), np.float32),
            r"X: the network expects samples of shape \(8, 8, 1\), got \(8, 8, 3\) "
            r".*; build the network for this data's sample shape$",
        ),
        (np.zeros((0, 8, 8, 1), np.float32), r"X: no samples"),
        (
            np.where(np.arange(4 * 64).reshape(4, 8, 8, 1) == 77, np.nan, 0.0),
            r"X: holds NaN or Inf \(first at row 1, "
            r"position \(1, 5, 0\)\)",
        ),
    ],
)
def test_image_inputs_are_checked_with_the_per_sample_shape(registry, x, message) -> None:
    network = plugnn.build_network(MLP, (8, 8, 1), registry=registry)
    with pytest.raises(DataError, match=message):
        network.predict(x)


def test_a_dataset_whose_samples_do_not_fit_fails_before_anything_is_written(shape_registry, tmp_path) -> None:
    spec = load_recipe("quickstart", shape_registry)[1]
    spec = attrs.evolve(spec, network=attrs.evolve(spec.network, layers=[Dense(8), "needs_image", Dense(10)]))
    with pytest.raises(ShapeError, match=r"^layers\[1\] \(needs_image\): got input shape \(8,\), needs \(H, W, C\)"):
        plugnn.run(spec, out=tmp_path / "run", quiet=True, registry=shape_registry)
    assert not (tmp_path / "run").exists()
