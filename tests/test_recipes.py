"""The bundled recipes: each loads, validates, builds and round-trips; quickstart meets its promise."""

from __future__ import annotations

import tomllib

import pytest

import plugnn
from plugnn.run import load_recipe
from plugnn.specfile import dumps

RECIPES = sorted(plugnn.load_registry(strict=True, third_party=False).recipes)  # plugnn's own, as the fixture
SAMPLE_SHAPE = {"digits": (8, 8, 1), "mnist": (28, 28, 1), "fashion-mnist": (28, 28, 1), "diabetes": (10,)}
OUTPUTS = {"diabetes": (1,)}  # a regression; the others classify 10 classes


def test_the_four_recipes_are_bundled() -> None:
    assert {"quickstart", "seed-sgd", "seed-adam", "mnist-mlp"} <= set(RECIPES)


@pytest.mark.parametrize("name", RECIPES)
def test_recipe_loads_builds_and_round_trips(registry, name) -> None:
    _, spec = load_recipe(name, registry)
    assert spec.description
    network = plugnn.build_network(spec.network, SAMPLE_SHAPE[spec.data], registry=registry)
    assert network.output_shape == OUTPUTS.get(spec.data, (10,))
    assert plugnn.structure(tomllib.loads(dumps(spec, registry)), plugnn.specs.RunSpec, registry) == spec


def test_seed_recipes_are_the_notebooks_networks(registry) -> None:
    _, sgd = load_recipe("seed-sgd", registry)
    _, adam = load_recipe("seed-adam", registry)
    for spec in (sgd, adam):
        assert [getattr(layer, "units", layer) for layer in spec.network.layers] == [100, "relu", 200, "relu", 10]
        assert (spec.train.batch_size, spec.train.epochs, spec.data) == (5000, 25, "mnist")
    assert sgd.network.init.std == 0.01 and sgd.network.optimizer.lr == 0.001
    assert adam.network.init == "he"
    assert (adam.network.optimizer.lr, adam.network.optimizer.beta1, adam.network.optimizer.beta2) == (
        0.001,
        0.9,
        0.999,
    )


@pytest.mark.slow
def test_quickstart_reaches_96_percent(tmp_path) -> None:
    result = plugnn.run("quickstart", out=tmp_path / "run", quiet=True)
    assert result.test_accuracy >= 0.96
