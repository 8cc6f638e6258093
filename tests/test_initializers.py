"""Initializers draw the variance they state, in the dtype asked for, from the generator given."""

from __future__ import annotations

import numpy as np
import pytest

import plugnn
from plugnn.builder import resolve

FAN_IN, FAN_OUT = 800, 1200


def draw(registry, ref, dtype="float32", seed=0):
    component, spec = resolve(ref, "initializer", registry, "init")
    init = component.factory(spec)
    rng = np.random.default_rng(seed)
    return init((FAN_IN, FAN_OUT), fan_in=FAN_IN, fan_out=FAN_OUT, rng=rng, dtype=np.dtype(dtype))


@pytest.mark.parametrize(
    ("ref", "std"),
    [
        ("he", np.sqrt(2 / FAN_IN)),
        ({"type": "he", "distribution": "uniform"}, np.sqrt(2 / FAN_IN)),
        ("glorot", np.sqrt(2 / (FAN_IN + FAN_OUT))),
        ({"type": "glorot", "distribution": "normal"}, np.sqrt(2 / (FAN_IN + FAN_OUT))),
        ("normal", 0.01),
        ({"type": "normal", "std": 0.3}, 0.3),
    ],
)
def test_initializer_standard_deviation(registry, ref, std) -> None:
    if isinstance(ref, dict):
        ref = plugnn.structure(ref, plugnn.specs.InitializerRef, registry)
    values = draw(registry, ref)
    assert values.shape == (FAN_IN, FAN_OUT) and values.dtype == np.float32
    assert abs(values.std() / std - 1) < 0.02
    assert abs(values.mean()) < 0.02 * std


def test_glorot_uniform_bounds(registry) -> None:
    values = draw(registry, "glorot", dtype="float64")
    limit = np.sqrt(6 / (FAN_IN + FAN_OUT))
    assert values.dtype == np.float64
    assert -limit <= values.min() < -0.999 * limit and 0.999 * limit < values.max() <= limit


def test_same_generator_seed_same_draw(registry) -> None:
    np.testing.assert_array_equal(draw(registry, "he", seed=3), draw(registry, "he", seed=3))
    assert not np.array_equal(draw(registry, "he", seed=3), draw(registry, "he", seed=4))


def test_dense_bias_starts_at_zero(registry) -> None:
    from plugnn_std import Dense

    spec = plugnn.NetworkSpec(layers=[Dense(7)], loss="softmax_cross_entropy", optimizer="sgd", init="he")
    layer = plugnn.build_network(spec, 5, registry=registry).layers[0]
    np.testing.assert_array_equal(layer.params["b"], np.zeros(7, dtype=np.float32))
