"""Property tests: random specs and random input arrays never end in an unexpected exception."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import plugnn
from plugnn import DataError, NetworkSpec, SpecError, TrainSpec

REGISTRY = plugnn.load_registry(strict=True, third_party=False)

layer = st.one_of(
    st.sampled_from(["relu", "identity", "dense", "rellu", ""]),
    st.fixed_dictionaries(
        {"type": st.just("dense"), "units": st.one_of(st.integers(-2, 12), st.floats(-1, 5), st.text(max_size=2))}
    ),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["dense", "relu", "nope"])},
        optional={
            "units": st.integers(1, 6),
            "init": st.sampled_from(["he", "glorot", "x", 3]),
            "extra": st.integers(),
        },
    ),
)
optimizer = st.one_of(
    st.sampled_from(["sgd", "adam", "adma"]),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["sgd", "adam"])},
        optional={
            "lr": st.one_of(st.floats(-1, 1), st.just(float("nan"))),
            "beta1": st.floats(-0.5, 1.5),
            "eps": st.one_of(st.floats(0, 1), st.text(max_size=1)),
        },
    ),
)
network = st.fixed_dictionaries(
    {
        "layers": st.lists(layer, max_size=4),
        "loss": st.sampled_from(["softmax_cross_entropy", "mse_typo"]),
        "optimizer": optimizer,
        "init": st.sampled_from(["he", "glorot", "normal", {"type": "normal", "std": -1}]),
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(network)
def test_random_specs_build_and_step_or_fail_with_a_path(data) -> None:
    try:
        spec = plugnn.structure(data, NetworkSpec, REGISTRY)
        net = plugnn.build_network(spec, 3, registry=REGISTRY)
    except SpecError as exc:
        assert exc.problems and all(isinstance(path, str) and message for path, message in exc.problems)
        return
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    try:
        plugnn.fit(
            net,
            plugnn.build_optimizer(spec.optimizer, REGISTRY),
            x,
            np.zeros(5, dtype=int),
            TrainSpec(epochs=1, batch_size=2),
            registry=REGISTRY,
        )
    except DataError as exc:  # e.g. a network whose last layer is 3 wide gets labels it can hold: fine
        assert "labels" in str(exc) or "features" in str(exc)


arrays = st.builds(
    lambda rows, cols, dtype, fill, seed: _array(rows, cols, dtype, fill, seed),
    st.integers(0, 6),
    st.integers(1, 5),
    st.sampled_from(["float32", "float64", "int64", "uint8", "bool"]),
    st.sampled_from(["normal", "nan", "inf", "big"]),
    st.integers(0, 3),
)


def _array(rows, cols, dtype, fill, seed):
    values = np.random.default_rng(seed).standard_normal((rows, cols)) * (1e30 if fill == "big" else 1)
    if fill in ("nan", "inf") and values.size:
        values.flat[seed % values.size] = np.nan if fill == "nan" else np.inf
    return values if dtype.startswith("float") or fill in ("nan", "inf") else (np.abs(values) % 200).astype(dtype)


labels = st.lists(st.one_of(st.integers(-1, 4), st.floats(0, 3)), max_size=7).map(np.array)


@pytest.mark.filterwarnings("ignore:batch_size 2 exceeds")
@pytest.mark.filterwarnings("ignore:X looks like unscaled pixels")
@settings(max_examples=150, deadline=None)
@given(arrays, labels)
def test_random_inputs_train_or_raise_data_error(x, y) -> None:
    from plugnn_std import Dense

    spec = NetworkSpec(layers=[Dense(3)], loss="softmax_cross_entropy", optimizer="sgd", init="he")
    try:
        network = plugnn.build_network(spec, 3, registry=REGISTRY)
        history = plugnn.fit(
            network, plugnn.build_optimizer("sgd", REGISTRY), x, y, TrainSpec(epochs=1, batch_size=2), registry=REGISTRY
        )
    except DataError:
        return
    assert len(history.records) == 1
