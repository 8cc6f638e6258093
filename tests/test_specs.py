"""Spec validation (with field paths) and the dict round trip of every spec."""

from __future__ import annotations

import attrs
import pytest
from plugnn_std import SGD, Adam, Dense, Normal

import plugnn
from plugnn import NetworkSpec, SpecError, TrainSpec
from plugnn.kinds import kind

NOTEBOOK = {
    "layers": [
        {"type": "dense", "units": 100},
        "relu",
        {"type": "dense", "units": 200},
        "relu",
        {"type": "dense", "units": 10},
    ],
    "loss": "softmax_cross_entropy",
    "optimizer": {"type": "adam", "lr": 0.001},
    "init": "he",
}


def problems(data, cls, registry):
    with pytest.raises(SpecError) as caught:
        plugnn.structure(data, cls, registry)
    return caught.value.problems


def with_layer(index, layer):
    data = {**NOTEBOOK, "layers": list(NOTEBOOK["layers"])}
    data["layers"][index] = layer
    return data


def test_notebook_network_from_dict(registry) -> None:
    spec = plugnn.structure(NOTEBOOK, NetworkSpec, registry)
    assert spec.layers[0] == Dense(100) and spec.layers[1] == "relu"
    assert spec.optimizer == Adam(lr=0.001)


@pytest.mark.parametrize(
    ("data", "path", "message"),
    [
        (with_layer(2, {"type": "dense", "units": 0}), "layers[2].units", "must be > 0 (got 0)"),
        (with_layer(2, {"type": "dense", "units": "100"}), "layers[2].units", "expected int, got str '100'"),
        (with_layer(2, {"type": "dense", "units": 2.5}), "layers[2].units", "expected int, got float 2.5"),
        (
            with_layer(1, "rellu"),
            "layers[1]",
            "unknown layer 'rellu'; did you mean 'relu'? known: dense, identity, parallel, relu, residual, sequential",
        ),
        (with_layer(0, {"units": 3}), "layers[0].type", "required: the name of a registered layer"),
        (
            with_layer(0, {"type": "dense", "units": 3, "activation": "relu"}),
            "layers[0]",
            "unknown key(s) activation; known: units, init",
        ),
        (
            with_layer(0, {"type": "dense", "units": 3, "init": {"type": "normal", "std": -1}}),
            "layers[0].init.std",
            "must be > 0 (got -1.0)",
        ),
        (
            {**NOTEBOOK, "optimizer": "adma"},
            "optimizer",
            "unknown optimizer 'adma'; did you mean 'adam'? known: adam, sgd",
        ),
        (
            {**NOTEBOOK, "optimizer": {"type": "adam", "beta1": 1.0}},
            "optimizer.beta1",
            "must be in [0.0, 1.0) (got 1.0)",
        ),
        ({**NOTEBOOK, "layers": []}, "layers", "a network needs at least one layer"),
        ({k: v for k, v in NOTEBOOK.items() if k != "loss"}, "loss", "required field missing"),
    ],
)
def test_spec_errors_name_the_field(registry, data, path, message) -> None:
    found = problems(data, NetworkSpec, registry)
    assert any(p == path and message in m for p, m in found), found


def test_every_problem_is_reported_at_once(registry) -> None:
    data = {**with_layer(0, {"type": "dense", "units": -1}), "optimizer": "adma"}
    paths = [path for path, _ in problems(data, NetworkSpec, registry)]
    assert "layers[0].units" in paths and "optimizer" in paths


def test_error_message_reads_as_one_line(registry) -> None:
    with pytest.raises(SpecError, match=r"^invalid spec: layers\[2\]\.units: must be > 0 \(got 0\)$"):
        plugnn.structure(with_layer(2, {"type": "dense", "units": 0}), NetworkSpec, registry)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Dense(units=0), "units: must be > 0 (got 0)"),
        (lambda: Dense(units=True), "units: expected an integer, got bool True"),
        (lambda: Adam(lr=-1), "lr: must be > 0 (got -1)"),
        (lambda: Adam(beta2=1), "beta2: must be in [0.0, 1.0) (got 1)"),
        (lambda: TrainSpec(batch_size=0), "batch_size: must be > 0 (got 0)"),
        (lambda: TrainSpec(dtype="float16"), "dtype: must be one of 'float32', 'float64' (got 'float16')"),
        (lambda: TrainSpec(shuffle="yes"), "shuffle: expected true or false, got str 'yes'"),
        (
            lambda: NetworkSpec(layers=[Dense(3), 7], loss="x", optimizer="y", init="z"),
            "layers[1]: expected a LayerSpec or a registered name, got int 7",
        ),
    ],
)
def test_python_specs_validate_on_construction(make, message) -> None:
    with pytest.raises(plugnn.FieldError) as caught:
        make()
    assert str(caught.value) == message


def test_bare_name_without_required_settings(registry) -> None:
    spec = NetworkSpec(layers=["dense"], loss="softmax_cross_entropy", optimizer="sgd", init="he")
    with pytest.raises(SpecError, match=r"layers\[0\]: layer 'dense' needs settings \(units\)"):
        plugnn.build_network(spec, 4, registry=registry)


@pytest.mark.parametrize(
    "spec",
    [
        plugnn.structure(NOTEBOOK, NetworkSpec, plugnn.load_registry(strict=True)),
        NetworkSpec(
            layers=[Dense(5, init=Normal(std=0.01)), "identity"],
            loss="softmax_cross_entropy",
            optimizer=SGD(lr=0.5),
            init="glorot",
        ),
        TrainSpec(),
        TrainSpec(epochs=3, batch_size=5000, shuffle=False, seed=7, dtype="float64", full_train_accuracy=True),
    ],
)
def test_round_trip(registry, spec) -> None:
    data = plugnn.unstructure(spec, registry)
    assert plugnn.structure(data, type(spec), registry) == spec


def test_every_registered_example_round_trips(registry) -> None:
    for component in registry.components():
        for example in component.spec.examples():
            data = plugnn.unstructure(example, registry)
            assert data["type"] == component.name
            assert plugnn.structure(data, kind(component.kind).ref, registry) == example


def test_specs_are_frozen() -> None:
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        Dense(3).units = 4
