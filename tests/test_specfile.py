"""Spec files: TOML and JSON, through the registry, with file and key path in every error."""

from __future__ import annotations

import tomllib

import attrs
import numpy as np
import pytest
import scale_layer
from plugnn_std import Adam, BestCheckpoint, Dense, EarlyStopping, ReduceLROnPlateau
from scale_layer import Scale

import plugnn
from plugnn.cli import main
from plugnn.run import load_recipe
from plugnn.serialize import structure
from plugnn.specfile import dumps, load_spec, save_spec
from plugnn.specs import RunSpec, TrainSpec


@pytest.fixture
def registry():
    return plugnn.load_registry(strict=True, third_party=False, extra_plugins=[scale_layer])


SPEC = RunSpec(
    data="digits",
    network=plugnn.NetworkSpec(
        layers=[Scale(0.5), Dense(16), "relu", Dense(10)],
        loss="softmax_cross_entropy",
        optimizer=Adam(lr=0.01),
        init="he",
    ),
    train=TrainSpec(epochs=2, batch_size=64),
    description="with a third-party layer",
)


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_round_trip_through_a_file(registry, tmp_path, suffix) -> None:
    path = save_spec(SPEC, tmp_path / f"spec{suffix}", registry)
    assert load_spec(path, RunSpec, registry) == SPEC
    text = path.read_text()
    assert '"scale"' in text and ("factor = 0.5" in text or '"factor": 0.5' in text)


def test_a_loaded_file_trains(registry, tmp_path) -> None:
    path = save_spec(SPEC, tmp_path / "spec.toml", registry)
    result = plugnn.run(path, out=tmp_path / "run", quiet=True, registry=registry)
    assert np.isfinite(result.history.column("loss")).all() and len(result.history.records) == 2


def test_saving_never_overwrites(registry, tmp_path) -> None:
    path = tmp_path / "spec.toml"
    path.write_text("mine")
    with pytest.raises(FileExistsError):
        save_spec(SPEC, path, registry)
    assert path.read_text() == "mine"
    save_spec(SPEC, path, registry, overwrite=True)
    assert load_spec(path, RunSpec, registry) == SPEC


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'data = "digits"\n[network]\nlayers = [{type = "dense", units = 0}]\nloss = "softmax_cross_entropy"\n'
            'optimizer = "adam"\ninit = "he"\n',
            r"spec.toml: network.layers\[0\].units: must be > 0 \(got 0\)",
        ),
        (
            'data = "digits"\n[network]\nlayers = ["scael"]\nloss = "softmax_cross_entropy"\noptimizer = "adam"\n'
            'init = "he"\n',
            r"network.layers\[0\]: unknown layer 'scael'; did you mean 'scale'\? known: dense, "
            r"identity, parallel, relu, residual, scale, sequential",
        ),
        ('data = "digits"\n[network\n', r"spec.toml: not valid TOML: "),
        (
            'data = "digits"\nnetwork = {layers = ["relu"], loss = "softmax_cross_entropy", optimizer = "adam", '
            'init = "he"}\n[train]\nepochs = 3\nbatchsize = 10\n',
            r"train: unknown key\(s\) batchsize; known: epochs, "
            r"batch_size",
        ),
    ],
)
def test_file_errors_carry_file_path_and_reason(registry, tmp_path, text, message) -> None:
    path = tmp_path / "spec.toml"
    path.write_text(text)
    with pytest.raises(plugnn.SpecError, match=message) as caught:
        load_spec(path, RunSpec, registry)
    assert str(path) in str(caught.value)


def test_other_suffixes_are_refused(registry, tmp_path) -> None:
    with pytest.raises(plugnn.SpecError, match=r"expected a .toml or .json file, got 'spec.yaml'"):
        load_spec(tmp_path / "spec.yaml", RunSpec, registry)


WITH_CALLBACKS = attrs.evolve(
    SPEC,
    train=TrainSpec(epochs=1, validation=0.2, callbacks=[EarlyStopping(), BestCheckpoint(monitor="val_accuracy")]),
)
MORE = '\n[[train.callbacks]]\ntype = "reduce_lr_on_plateau"\nmonitor = "val_loss"\n'


@pytest.mark.parametrize("spec", [SPEC, WITH_CALLBACKS], ids=["no-callbacks", "two-callbacks"])
def test_shown_specs_take_appended_callback_tables(registry, tmp_path, spec) -> None:
    path = tmp_path / "spec.toml"
    path.write_text(dumps(spec, registry) + MORE)
    loaded = load_spec(path, RunSpec, registry)
    assert loaded.train.callbacks[:-1] == spec.train.callbacks
    assert loaded.train.callbacks[-1] == ReduceLROnPlateau(monitor="val_loss")
    assert attrs.evolve(loaded, train=spec.train) == spec


def test_a_callback_named_alone_is_shown_as_a_table(registry) -> None:
    named = attrs.evolve(SPEC, train=TrainSpec(callbacks=["early_stopping"]))
    assert '\n[[train.callbacks]]\ntype = "early_stopping"\n' in dumps(named, registry)


def test_plugnn_show_output_takes_a_callback_appended(tmp_path, capsys) -> None:
    assert main(["show", "quickstart"]) == 0
    (tmp_path / "shown.toml").write_text(capsys.readouterr().out + MORE)
    _, spec = load_recipe(tmp_path / "shown.toml", plugnn.default_registry())  # as plugnn run reads it
    assert list(spec.train.callbacks) == [ReduceLROnPlateau(monitor="val_loss")]


def test_every_recipe_shown_reads_back_the_same() -> None:
    registry = plugnn.load_registry(strict=True)  # plugnn-vision's recipes too
    for name in registry.recipes:
        shown = structure(tomllib.loads(plugnn.show(name, registry)), RunSpec, registry)
        assert shown == load_recipe(name, registry)[1], name
