"""The model API: save/load with the optimizer state, score on arrays, continue training bit for bit."""

from __future__ import annotations

import json

import attrs
import numpy as np
import pytest
from fixtures.make_v0_2 import HERE as V0_2
from fixtures.make_v0_2 import data as v0_2_data
from fixtures.regenerate import load as stored
from fixtures.regenerate import outcome
from plugnn_std import Dense, EarlyStopping, ReduceLROnPlateau
from sklearn.datasets import load_digits

import plugnn
from plugnn.npzfile import CorruptFileError, read_npz, write_npz
from plugnn.run import load_recipe

V0_2_MODEL = V0_2 / "trained-adam.npz"

SPEC = {  # dropout (plugnn-extras) checks that the noise generator goes on where it stopped too
    "layers": [
        {"type": "dense", "units": 32},
        "relu",
        {"type": "dropout", "rate": 0.2},
        {"type": "dense", "units": 10},
    ],
    "loss": "softmax_cross_entropy",
    "optimizer": {"type": "adam", "lr": 3e-3},
    "init": "he",
}


@pytest.fixture(scope="module")
def registry():
    return plugnn.load_registry(strict=True)


@pytest.fixture(scope="module")
def spec(registry):
    return plugnn.structure(SPEC, plugnn.NetworkSpec, registry)


@pytest.fixture(scope="module")
def data():
    digits = load_digits()
    x = (digits.data / 16).astype(np.float32)
    return x[:600], digits.target[:600], x[600:900], digits.target[600:900]


def train(spec, data, registry, epochs, **kwargs):
    x, y, x_test, y_test = data
    train_spec = plugnn.TrainSpec(epochs=epochs, batch_size=64, seed=1)
    return plugnn.train(spec, x, y, train_spec, test=(x_test, y_test), registry=registry, **kwargs)


def without_seconds(history: plugnn.History) -> dict:
    columns = history.to_dict()
    columns.pop("seconds")
    return columns


@pytest.fixture(scope="module")
def uninterrupted(spec, data, registry):
    return train(spec, data, registry, 5)


def test_save_then_load_round_trips_everything(spec, data, registry, tmp_path) -> None:
    result = train(spec, data, registry, 2)
    path = plugnn.save(result.network, tmp_path / "model.npz", registry=registry)
    model = plugnn.load(path, registry)
    assert model.spec == spec
    np.testing.assert_array_equal(model.params, result.network.params)
    np.testing.assert_array_equal(model.predict_proba(data[2]), result.network.predict_proba(data[2]))
    saved, loaded = result.optimizer.state_dict(), model.train_state.optimizer.state_dict()
    assert saved.keys() == loaded.keys() and all(np.array_equal(saved[k], loaded[k]) for k in saved)
    assert model.train_state.history == result.history and model.train_state.epochs == 2
    assert model.train_state.spec == plugnn.TrainSpec(epochs=2, batch_size=64, seed=1)
    ended = result.network.train_state
    assert model.train_state.epoch == ended.epoch == 3 and model.train_state.start_loss == ended.start_loss


@pytest.mark.parametrize("through_a_file", [False, True], ids=["in-memory", "saved-and-loaded"])
def test_continuing_equals_one_uninterrupted_run_bit_for_bit(
    spec, data, registry, uninterrupted, tmp_path, through_a_file
) -> None:
    model = train(spec, data, registry, 3).network
    if through_a_file:
        model = plugnn.load(plugnn.save(model, tmp_path / "m.npz", registry=registry), registry)
    continued = train(spec, data, registry, 2, start_from=model)
    assert continued.network is model
    np.testing.assert_array_equal(model.params, uninterrupted.network.params)
    assert without_seconds(continued.history) == without_seconds(uninterrupted.history)
    assert continued.history.column("epoch") == [1, 2, 3, 4, 5] and model.train_state.epochs == 5


CALLBACKS = (  # the rate halves after every epoch (no loss improves by 10), early stopping waits and keeps its best
    ReduceLROnPlateau(monitor="loss", min_delta=10.0, patience=1, factor=0.5),
    EarlyStopping(monitor="test_loss", patience=50, restore_best=False),
)


def train_with_callbacks(spec, data, registry, epochs, **kwargs):
    x, y, x_test, y_test = data
    train_spec = plugnn.TrainSpec(epochs=epochs, batch_size=64, seed=1, callbacks=CALLBACKS)
    return plugnn.train(spec, x, y, train_spec, test=(x_test, y_test), registry=registry, **kwargs)


@pytest.mark.parametrize("through_a_file", [False, True], ids=["in-memory", "saved-and-loaded"])
def test_continuing_with_callbacks_equals_one_uninterrupted_run(spec, data, registry, tmp_path, through_a_file) -> None:
    model = train_with_callbacks(spec, data, registry, 3).network
    if through_a_file:
        path = plugnn.save(model, tmp_path / "m.npz", registry=registry)
        assert "callbacks/0/counters" in read_npz(path, "model")
        model = plugnn.load(path, registry)
    assert model.train_state.lr_scale == 0.5**2 and len(model.train_state.callback_states) == 2
    continued = train_with_callbacks(spec, data, registry, 2, start_from=model)
    once = train_with_callbacks(spec, data, registry, 5)
    np.testing.assert_array_equal(model.params, once.network.params)
    assert without_seconds(continued.history) == without_seconds(once.history)
    state, expected = model.train_state, once.network.train_state
    assert state.lr_scale == expected.lr_scale == 0.5**4 and state.epoch == expected.epoch == 6
    for got, want in zip(state.callback_states, expected.callback_states, strict=True):
        assert got.keys() == want.keys() and all(np.array_equal(got[k], want[k]) for k in got)


def test_callbacks_of_other_settings_start_fresh(spec, data, registry) -> None:
    model = train_with_callbacks(spec, data, registry, 2).network
    reducer = ReduceLROnPlateau(monitor="loss")  # not CALLBACKS[0]'s settings
    other = plugnn.TrainSpec(epochs=1, batch_size=64, seed=1, callbacks=(CALLBACKS[1], reducer))
    x, y, x_test, y_test = data
    plugnn.train(spec, x, y, other, test=(x_test, y_test), registry=registry, start_from=model)
    stopper, fresh = model.train_state.callback_states
    assert int(fresh["best_epoch"]) == 3  # its first epoch
    assert model.train_state.lr_scale == 0.5  # where the first two epochs left the rate; a fresh reducer keeps it
    once = train_with_callbacks(spec, data, registry, 3).network.train_state  # the same epochs 1-3
    assert all(np.array_equal(stopper[k], v) for k, v in once.callback_states[1].items())


def test_a_model_saved_by_plugnn_0_2_continues_with_fresh_callbacks(registry) -> None:
    model = plugnn.load(V0_2_MODEL, registry)
    state = model.train_state
    assert state.epochs == 3 and state.epoch == 4 and state.callback_states == () and state.lr_scale == 1.0
    assert state.spec.callbacks == (ReduceLROnPlateau(monitor="loss"),)
    x, y = v0_2_data()
    more = plugnn.train(model.spec, x, y, attrs.evolve(state.spec, epochs=2), registry=registry, start_from=model)
    assert more.history.column("epoch") == [1, 2, 3, 4, 5] and len(model.train_state.callback_states) == 1
    assert int(model.train_state.callback_states[0]["best_epoch"]) >= 4  # a fresh monitor: epoch 4 is its first


def test_without_optimizer_state_training_goes_on_from_the_weights(spec, data, registry, tmp_path) -> None:
    first = train(spec, data, registry, 2).network
    model = plugnn.load(plugnn.save(first, tmp_path / "m.npz", optimizer=False, registry=registry), registry)
    assert model.train_state is None and "optimizer/t" not in read_npz(tmp_path / "m.npz", "model")
    before = plugnn.score(model, data[2], data[3])["loss"]
    more = train(spec, data, registry, 2, start_from=model)
    assert more.history.column("epoch") == [1, 2] and plugnn.score(model, data[2], data[3])["loss"] < before


def test_score_reports_the_loss_and_accuracy(uninterrupted, data) -> None:
    model, (_, _, x_test, y_test) = uninterrupted.network, data
    scores = plugnn.score(model, x_test, y_test)
    assert scores["accuracy"] == pytest.approx(np.mean(model.predict(x_test) == y_test))
    assert scores["accuracy"] == pytest.approx(uninterrupted.history.records[-1]["test_accuracy"])
    probabilities = model.predict_proba(x_test)
    assert scores["loss"] == pytest.approx(-np.mean(np.log(probabilities[np.arange(len(y_test)), y_test])), rel=1e-4)
    with pytest.raises(plugnn.DataError, match="y: labels must lie in"):
        plugnn.score(model, x_test, y_test + 10)


def test_a_run_folder_loads_as_a_model(tmp_path, quickstart_run) -> None:
    folder = quickstart_run(tmp_path / "run")
    model = plugnn.load(folder)
    _, recipe = load_recipe("quickstart", plugnn.default_registry())
    assert model.spec == recipe.network and model.train_state is None
    history = json.loads((folder / "history.json").read_text())
    assert plugnn.score(model, *_digits_test())["accuracy"] == pytest.approx(history["test_accuracy"][-1])


def _digits_test():
    from plugnn.data import load_dataset

    split = load_dataset("digits", plugnn.default_registry())
    return split.x_test, split.y_test


def test_continuing_needs_the_networks_own_spec(uninterrupted, data, registry) -> None:
    other = plugnn.NetworkSpec(layers=[Dense(10)], loss="softmax_cross_entropy", optimizer="sgd", init="he")
    with pytest.raises(plugnn.PlugnnError, match="start_from is a network of another spec"):
        train(other, data, registry, 1, start_from=uninterrupted.network)


@pytest.fixture
def model_file(uninterrupted, registry, tmp_path):
    return plugnn.save(uninterrupted.network, tmp_path / "model.npz", registry=registry)


def rewrite(path, drop=(), **changes) -> None:
    arrays = {k: v for k, v in read_npz(path, "model").items() if k not in drop} | changes
    write_npz(path, "model", arrays)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: p.write_text("hello"), r"model.npz: not a readable .npz file"),
        (lambda p: write_npz(p, "checkpoint", {"params": np.zeros(3)}), r"model.npz: not a plugnn model file"),
        (lambda p: np.savez(p, params=np.zeros(3)), r"model.npz: not a plugnn model file"),
        (lambda p: rewrite(p, drop=["params"]), r"model.npz: not a complete plugnn file, it lacks the array 'params'"),
        (lambda p: rewrite(p, params=np.zeros(7, np.float32)), r"holds 7 parameters but its spec builds 2410"),
        (
            lambda p: rewrite(p, drop=["optimizer/t"]),
            r"model.npz: the optimizer state does not match .*\(missing 'optimizer/t'\)",
        ),
    ],
    ids=["text", "checkpoint", "foreign-npz", "missing-params", "wrong-size", "missing-optimizer-array"],
)
def test_bad_model_files_are_one_line_errors(model_file, registry, damage, message) -> None:
    damage(model_file)
    with pytest.raises(CorruptFileError, match=message) as caught:
        plugnn.load(model_file, registry)
    assert "\n" not in str(caught.value)


def test_a_newer_format_is_refused(model_file, registry, monkeypatch) -> None:
    import plugnn.npzfile as npzfile

    arrays = read_npz(model_file, "model")
    monkeypatch.setattr(npzfile, "FORMAT_VERSION", 2)
    write_npz(model_file, "model", arrays)
    monkeypatch.undo()
    with pytest.raises(CorruptFileError, match=r"written by a newer plugnn \(format version 2; .*upgrade plugnn"):
        plugnn.load(model_file, registry)


def test_save_refuses_what_is_not_a_network(tmp_path) -> None:
    with pytest.raises(plugnn.PlugnnError, match=r"plugnn\.save takes a Network"):
        plugnn.save("model", tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()


def test_run_from_a_finished_run_equals_one_longer_run(tmp_path, capsys, monkeypatch, quickstart_run) -> None:
    from plugnn.cli import main

    monkeypatch.chdir(tmp_path)
    quickstart_run(tmp_path / "first")  # 2 epochs
    assert main(["run", "--quiet", "--from", "first", "--epochs", "1", "--out", "more"]) == 0, capsys.readouterr().err
    assert outcome(tmp_path / "more") == stored("quickstart-3")  # parameters and history of one 3-epoch run
    spec = (tmp_path / "more" / "spec.toml").read_text()
    assert "epochs = 3" in spec and "Continued from first after epoch 2." in spec


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--from", "first"], "say how many more epochs to train the run for: --epochs N"),
        (["quickstart", "--from", "first", "--epochs", "1"], "takes no recipe"),
        (["--from", "nowhere", "--epochs", "1"], "nowhere: no checkpoint.npz to continue from"),
        (["--from", "first", "--epochs", "1", "--set", "network.layers[0].units=5"], "keeps its layers"),
        (["--from", "first", "--epochs", "1", "--set", "network.optimizer=sgd"], "keeps its layers"),
        (["--resume", "first", "--from", "first"], "it takes no --from"),
    ],
)
def test_run_from_refuses_what_it_cannot_continue(tmp_path, capsys, monkeypatch, quickstart_run, argv, message) -> None:
    from plugnn.cli import main

    monkeypatch.chdir(tmp_path)
    quickstart_run(tmp_path / "first")
    assert main(["run", "--quiet", *argv]) == 1
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "runs").exists()
