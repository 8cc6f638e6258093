"""Callbacks: a registered kind declared in the spec; early stopping, learning-rate reduction, best checkpoint."""

from __future__ import annotations

import json

import attrs
import numpy as np
import pytest
from interrupt_at import InterruptAt
from plugnn_std import SGD, BestCheckpoint, Dense, EarlyStopping, ReduceLROnPlateau
from spec_files import mlp_layers, spec_toml

import plugnn
from plugnn import NetworkSpec, SpecError, TrainSpec
from plugnn.callbacks import resolve_mode
from plugnn.checkpoint import load_checkpoint
from plugnn.cli import main
from plugnn.data import load_dataset
from plugnn.metrics import evaluate
from plugnn.model_io import load_model
from plugnn.specfile import load_spec
from plugnn.specs import CallbackSpec, RunSpec
from plugnn.train import TrainContext
from plugnn.validation import split_indices

SMALL = NetworkSpec(
    layers=[Dense(16), "relu", Dense(10)], loss="softmax_cross_entropy", optimizer=SGD(lr=0.3), init="he"
)


def context_for(registry) -> TrainContext:
    """A real context around a tiny network, for driving one callback by hand."""
    network = plugnn.build_network(SMALL, 4, rng=0, registry=registry)
    optimizer = plugnn.build_optimizer(SMALL.optimizer, registry)
    return TrainContext(
        network=network,
        optimizer=optimizer,
        spec=TrainSpec(),
        rng=np.random.default_rng(0),
        augment_rng=np.random.default_rng(1),
        registry=registry,
    )


def drive(callback, values, registry, column="val_loss", lr=0.1):
    """Feed ``values`` as successive epochs of ``column``; returns the context and the rate each epoch ends with."""
    context = context_for(registry)
    rates = []
    for epoch, value in enumerate(values, 1):
        context.epoch = epoch
        context.network.params[:] = epoch  # the weights "of" each epoch, to see which are restored
        context.history.append({"epoch": epoch, column: value})
        callback.plugnn_epoch_end(context=context)
        context.optimizer.lr = lr * context.lr_scale
        rates.append(context.optimizer.lr)
        if context.stop:
            break
    return context, rates


VAL_LOSS = [1.0, 0.8, 0.85, 0.79, 0.9, 0.95, 0.97, 0.99]


@pytest.mark.parametrize(
    ("settings", "stopped_at", "best"),
    [
        ({"patience": 2}, 6, "best val_loss 0.79 at epoch 4"),
        ({"patience": 0}, 3, "best val_loss 0.8 at epoch 2"),
        ({"patience": 2, "min_delta": 0.02}, 4, "best val_loss 0.8 at epoch 2"),
        ({"patience": 9}, None, None),
    ],
)
def test_early_stopping_waits_patience_epochs_without_improvement(registry, settings, stopped_at, best) -> None:
    callback = registry.tables["callback"].get("early_stopping").factory(EarlyStopping(**settings))
    context, _ = drive(callback, VAL_LOSS, registry)
    assert context.stop == (stopped_at is not None)
    if stopped_at is not None:
        assert context.epoch == stopped_at
        waited = settings["patience"] or 1
        assert context.stop_reason == (
            f"stopped after epoch {stopped_at}: early_stopping: val_loss did not improve for {waited} epochs ({best})"
        )
        context.finished = True
        callback.plugnn_train_end(context=context)
        assert context.network.params[0] == int(best.rsplit(" ", 1)[1])  # the best epoch's weights are back


def test_early_stopping_maximises_accuracy_columns(registry) -> None:
    callback = (
        registry.tables["callback"].get("early_stopping").factory(EarlyStopping(monitor="val_accuracy", patience=1))
    )
    context, _ = drive(callback, [0.5, 0.7, 0.6, 0.65], registry, column="val_accuracy")
    assert context.epoch == 3 and "best val_accuracy 0.7 at epoch 2" in context.stop_reason


def test_reduce_lr_on_plateau_follows_keras(registry) -> None:
    spec = ReduceLROnPlateau(factor=0.5, patience=1, cooldown=2, min_lr=0.02)
    callback = registry.tables["callback"].get("reduce_lr_on_plateau").factory(spec)
    _, rates = drive(callback, [1.0] * 7, registry)
    # reduced after epochs 2, 4 and 6 (two cooldown epochs in between), never below min_lr
    assert rates == pytest.approx([0.1, 0.05, 0.05, 0.025, 0.025, 0.02, 0.02])


def test_callback_specs_are_validated_with_their_path(registry) -> None:
    with pytest.raises(SpecError, match=r"^invalid spec: callbacks\[0\]\.patience: must be >= 0 \(got -1\)$"):
        plugnn.structure({"callbacks": [{"type": "early_stopping", "patience": -1}]}, TrainSpec, registry)
    with pytest.raises(
        SpecError, match=r"callbacks\[1\]: unknown callback 'early_stoping'; did you mean 'early_stopping'"
    ):
        plugnn.structure({"callbacks": ["early_stopping", "early_stoping"]}, TrainSpec, registry)
    spec = plugnn.structure(
        {"callbacks": ["early_stopping", {"type": "early_stopping", "monitor": "loss"}]}, TrainSpec, registry
    )
    assert spec.callbacks == ("early_stopping", EarlyStopping(monitor="loss"))


@pytest.mark.parametrize(
    ("callback", "validation", "message"),
    [
        (
            EarlyStopping(monitor="val_los"),
            0.2,
            "train.callbacks[0].monitor: no history column 'val_los'; did you mean 'val_loss'? columns: epoch, loss,",
        ),
        (
            ReduceLROnPlateau(monitor="val_accuracy"),
            None,
            "no history column 'val_accuracy'; this run has no validation set (set train.validation); columns: epoch,",
        ),
    ],
)
def test_an_unknown_column_is_refused_before_training(tmp_path, registry, callback, validation, message) -> None:
    run_spec = RunSpec(
        data="digits", network=SMALL, train=TrainSpec(epochs=2, validation=validation, callbacks=[callback])
    )
    with pytest.raises(SpecError) as error:
        plugnn.run(run_spec, out=tmp_path / "run", quiet=True, registry=registry)
    assert message in str(error.value) and "\n" not in str(error.value)
    assert not (tmp_path / "run").exists()  # refused before anything was written


EARLY_STOPPING_TOML = spec_toml(
    "digits with early stopping on the validation loss",
    layers=mlp_layers(64, 10),
    epochs=60,
    batch_size=32,
    train="""validation = 0.2

[[train.callbacks]]
type = "early_stopping"
monitor = "val_loss"
patience = 3
""",
)


@pytest.mark.slow
def test_a_toml_spec_with_early_stopping_stops_keeps_the_best_and_stays_finished(tmp_path, capsys) -> None:
    spec_file = tmp_path / "early.toml"
    spec_file.write_text(EARLY_STOPPING_TOML)
    out = tmp_path / "run"
    assert main(["run", str(spec_file), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    history = json.loads((out / "history.json").read_text())
    stopped, best = len(history["epoch"]), int(np.argmin(history["val_loss"])) + 1
    assert stopped == best + 3 < 60  # stopped 3 epochs after the best, long before 60
    assert f"stopped after epoch {stopped}: early_stopping: val_loss did not improve for 3 epochs" in err
    # model.npz holds the best epoch's weights: their validation loss is the best one recorded
    network, spec = load_model(out / "model.npz", plugnn.default_registry())
    split = load_dataset("digits", plugnn.default_registry())
    val = split_indices(split.y_train, 0.2, spec.train.seed)[1]
    assert evaluate(network, split.x_train[val], split.y_train[val])["loss"] == pytest.approx(min(history["val_loss"]))
    assert main(["run", "--resume", str(out)]) == 1
    assert (
        f"the run already finished: stopped after epoch {stopped}: early_stopping: val_loss did not improve for 3 "
        f"epochs (best val_loss {min(history['val_loss']):.4g} at epoch {best}); nothing to resume"
    ) in capsys.readouterr().err


RESUMED = RunSpec(
    data="digits",
    network=SMALL,
    train=TrainSpec(
        epochs=12,
        batch_size=64,
        validation=0.25,
        callbacks=[
            ReduceLROnPlateau(monitor="loss", patience=0, factor=0.5, min_delta=0.05),
            EarlyStopping(monitor="val_accuracy", patience=2, min_delta=0.01),
            BestCheckpoint(monitor="val_loss", filename="best-loss.npz"),
            BestCheckpoint(monitor="val_accuracy", filename="best-accuracy.npz"),
        ],
    ),
)


@pytest.mark.slow
def test_resume_is_bit_exact_with_callbacks_active(tmp_path, registry) -> None:
    whole = plugnn.run(RESUMED, out=tmp_path / "whole", quiet=True, registry=registry)
    stopped = len(whole.history.records)
    assert 8 < stopped < 12  # early stopping ended it, after reductions of the rate
    with pytest.raises(plugnn.TrainingInterrupted):
        plugnn.run(RESUMED, out=tmp_path / "cut", quiet=True, registry=registry, plugins=[InterruptAt(8, 3)])
    state = load_checkpoint(tmp_path / "cut" / "checkpoint.npz", registry).resume
    assert len(state.callback_states) == 4 and state.lr_scale < 1
    resumed = plugnn.resume(tmp_path / "cut", quiet=True, registry=registry)
    for name in ("model.npz", "best-loss.npz", "best-accuracy.npz"):
        np.testing.assert_array_equal(
            plugnn.load(tmp_path / "cut" / name, registry).params,
            plugnn.load(tmp_path / "whole" / name, registry).params,
        )

    def without_seconds(history):
        return [{k: v for k, v in record.items() if k != "seconds"} for record in history.records]

    assert without_seconds(resumed.history) == without_seconds(whole.history)

    # continued with a callback added, the four go on from their states and the new one starts fresh
    added = EarlyStopping(monitor="loss", patience=50, restore_best=False)
    more = tmp_path / "more"
    plugnn.run(start_from=tmp_path / "whole", epochs=1, callbacks=[added], out=more, quiet=True, registry=registry)
    before = load_checkpoint(tmp_path / "whole" / "checkpoint.npz", registry).resume
    after = load_checkpoint(more / "checkpoint.npz", registry).resume
    assert len(after.callback_states) == 5 and int(after.callback_states[4]["best_epoch"]) == stopped + 1
    assert int(after.callback_states[1]["best_epoch"]) == int(before.callback_states[1]["best_epoch"]) < stopped
    # the best checkpoints of the new folder are its own: written at its first epoch, not left to the old folder
    for index, name in ((2, "best-loss.npz"), (3, "best-accuracy.npz")):
        assert int(after.callback_states[index]["best_epoch"]) == stopped + 1
        assert (more / name).is_file()


def test_a_resumed_run_whose_best_file_was_deleted_keeps_comparing_with_its_best(tmp_path, registry) -> None:
    """Only a run that does not resume its own folder starts comparing afresh (min_delta 10: only
    epoch 1 can improve on the start, so a monitor reset on resuming would move the best to epoch 3)."""
    best = BestCheckpoint(monitor="val_loss", min_delta=10.0)
    spec = RunSpec(
        data="digits", network=SMALL, train=TrainSpec(epochs=4, batch_size=64, validation=0.25, callbacks=[best])
    )
    plugnn.run(spec, out=tmp_path / "whole", quiet=True, registry=registry)
    with pytest.raises(plugnn.TrainingInterrupted):
        plugnn.run(spec, out=tmp_path / "cut", quiet=True, registry=registry, plugins=[InterruptAt(3, 2)])
    (tmp_path / "cut" / "best-model.npz").unlink()
    plugnn.resume(tmp_path / "cut", quiet=True, registry=registry)
    whole, cut = (
        load_checkpoint(tmp_path / n / "checkpoint.npz", registry).resume.callback_states[0] for n in ("whole", "cut")
    )
    assert int(whole["best_epoch"]) == int(cut["best_epoch"]) == 1
    assert float(whole["best"]) == float(cut["best"])
    assert not (tmp_path / "cut" / "best-model.npz").exists()  # deleted by hand, and no epoch improved since


def test_best_checkpoint_needs_a_run_folder(registry, digits) -> None:
    x, _, y, _ = digits
    spec = TrainSpec(epochs=1, validation=0.2, callbacks=["best_checkpoint"])
    with pytest.raises(plugnn.PlugnnError, match=r"best_checkpoint writes best-model\.npz into the run folder"):
        plugnn.train(SMALL, x, y, spec, registry=registry)


def test_the_command_line_adds_callbacks(tmp_path, capsys) -> None:
    out = tmp_path / "run"
    args = ["run", "--epochs", "3", "--set", "train.validation=0.2", "--quiet", "--out", str(out)]
    assert main([*args, "--callback", "early_stopping:monitor=val_loss,patience=0,min_delta=1.0"]) == 0
    history = json.loads((out / "history.json").read_text())
    assert len(history["epoch"]) == 2  # min_delta 1.0: epoch 2 cannot improve enough
    written = load_spec(out / "spec.toml", RunSpec, plugnn.default_registry())
    assert written.train.callbacks == (EarlyStopping(monitor="val_loss", patience=0, min_delta=1.0),)
    assert (
        main(["run", "--epochs", "3", "--callback", "early_stopping:monitor=val_los", "--out", str(tmp_path / "x")])
        == 1
    )
    assert (
        "no history column 'val_los'; this run has no validation set (set train.validation)" in capsys.readouterr().err
    )
    assert main(["run", "--resume", str(out), "--callback", "early_stopping"]) == 1
    assert "it takes no --callback" in capsys.readouterr().err


@attrs.frozen
class CountSpec(CallbackSpec):
    """Counts epochs; a minimal third-party callback."""


class Counter:
    monitors = ()

    def __init__(self, spec: CountSpec) -> None:
        self.epochs = 0

    @plugnn.hookimpl
    def plugnn_epoch_end(self, context):
        self.epochs += 1

    def state_dict(self):
        return {"epochs": np.array(self.epochs)}

    def load_state_dict(self, state):
        self.epochs = int(state["epochs"])


class CounterPlugin:
    @plugnn.hookimpl
    def plugnn_register_callbacks(self, register):
        register("counter", CountSpec, Counter)


def test_a_plugin_registers_a_callback_and_several_instances_run(registry, digits) -> None:
    registry = plugnn.load_registry(strict=True, third_party=False, extra_plugins=[CounterPlugin()])
    seen = []

    class Spy:
        @plugnn.hookimpl
        def plugnn_train_end(self, context):
            seen.extend(callback.epochs for callback in context.callbacks)

    x, _, y, _ = digits
    spec = TrainSpec(epochs=2, batch_size=256, callbacks=["counter", CountSpec(), "counter"])
    plugnn.train(SMALL, x, y, spec, registry=registry, plugins=[Spy()])
    assert seen == [2, 2, 2]


@pytest.mark.parametrize(
    ("column", "mode"),
    [
        ("val_loss", "min"),
        ("loss", "min"),
        ("val_accuracy", "max"),
        ("train_accuracy", "max"),
        ("test_r2", "max"),
        ("val_mae", "min"),
        ("val_rmse", "min"),
    ],
)
def test_auto_mode_maximises_accuracy_and_r2_only(column, mode) -> None:
    assert resolve_mode(column, "auto") == mode
    assert resolve_mode(column, "min") == "min"
