"""Bad specs and shapes fail before any work, in one line that names the layer and the fix."""

from __future__ import annotations

import pytest
from plugnn_std import Adam, Dense
from plugnn_vision import Conv2D, Flatten, MaxPool2D

import plugnn


def network(*layers) -> plugnn.NetworkSpec:
    return plugnn.NetworkSpec(layers=[*layers, Dense(10)], loss="softmax_cross_entropy", optimizer=Adam(), init="he")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"filters": 8, "stride": 0}, "layers[0].stride: must be > 0 (got 0)"),
        ({"filters": 8, "stride": -2}, "layers[0].stride: must be > 0 (got -2)"),
        ({"filters": 8, "kernel_size": 2.5}, "layers[0].kernel_size: expected int, got float 2.5"),
        ({"filters": -1}, "layers[0].filters: must be > 0 (got -1)"),
        ({"filters": 8, "padding": "full"}, "layers[0].padding: expected 'valid', 'same' or an integer >= 0"),
        ({"filters": 8, "padding": -1}, "layers[0].padding: expected 'valid', 'same' or an integer >= 0"),
    ],
)
def test_bad_settings_are_one_line_with_their_path(settings, message) -> None:
    data = {"layers": [{"type": "conv2d", **settings}, "flatten"], "loss": "softmax_cross_entropy"}
    data |= {"optimizer": "adam", "init": "he"}
    with pytest.raises(plugnn.SpecError) as error:
        plugnn.structure(data, plugnn.NetworkSpec, plugnn.default_registry())
    assert message in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("layers", "input_shape", "message"),
    [
        ((Conv2D(8, 5),), (4, 4, 1), "layers[0] (conv2d): kernel 5x5 is larger than the input (4, 4, 1) padded to 4x4"),
        (
            (Conv2D(8, 3), MaxPool2D(2), MaxPool2D(2), Conv2D(8, 3)),
            (8, 8, 1),
            "layers[3] (conv2d): kernel 3x3 is larger than the input (1, 1, 8)",
        ),
        (
            (Flatten(), Conv2D(8, 3)),
            (8, 8, 1),
            "layers[1] (conv2d): conv2d needs a per-sample input of shape (H, W, C), got (64,); "
            "images come as (H, W, C): move the flatten (or dense) layer after the last convolution",
        ),
        ((MaxPool2D(3),), (2, 2, 1), "layers[0] (max_pool2d): pool 3x3 is larger than the input (2, 2, 1)"),
    ],
)
def test_shapes_that_do_not_fit_name_the_layer_and_the_fix(layers, input_shape, message) -> None:
    with pytest.raises(plugnn.ShapeError) as error:
        plugnn.build_network(network(*layers), input_shape, registry=plugnn.default_registry())
    assert message in str(error.value) and "\n" not in str(error.value)
