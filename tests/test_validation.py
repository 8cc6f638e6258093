"""The validation split (a seeded, stratified fraction or a dataset's own), its history columns and their checks."""

from __future__ import annotations

import csv

import attrs
import numpy as np
import pytest
from plugnn_std import SGD, Dense

import plugnn
from plugnn import DataError, NetworkSpec, SpecError, TrainSpec
from plugnn.data import DataSplit
from plugnn.metrics import evaluate
from plugnn.specs import DatasetSpec, RunSpec
from plugnn.validation import split_indices

SMALL = NetworkSpec(
    layers=[Dense(16), "relu", Dense(10)], loss="softmax_cross_entropy", optimizer=SGD(lr=0.3), init="he"
)

COLUMNS = ["epoch", "loss", "train_accuracy", "val_loss", "val_accuracy", "test_loss", "test_accuracy", "seconds"]
"""The history columns of a run with validation and a test set, in order."""


def test_the_fraction_must_lie_strictly_between_0_and_1(registry) -> None:
    for bad in (0.0, 1.0, -0.2, 1.5):
        with pytest.raises(SpecError, match=rf"^invalid spec: validation: must be in \(0, 1\) \(got {bad}\)$"):
            plugnn.structure({"validation": bad}, TrainSpec, registry)
    assert plugnn.structure({"validation": 0.2}, TrainSpec, registry).validation == 0.2


def test_hold_out_is_seeded_stratified_and_a_partition(digits) -> None:
    _, _, y, _ = digits
    train, val = split_indices(y, 0.2, seed=3)
    assert len(val) == int(np.ceil(0.2 * len(y))) and np.array_equal(np.sort(np.r_[train, val]), np.arange(len(y)))
    np.testing.assert_allclose(np.bincount(y[val]) / len(val), np.bincount(y) / len(y), atol=0.01)
    np.testing.assert_array_equal(split_indices(y, 0.2, seed=3)[1], val)
    assert not np.array_equal(split_indices(y, 0.2, seed=4)[1], val)


@pytest.mark.parametrize(
    ("labels", "fraction", "message"),
    [
        ([0] * 50 + [1] * 50 + [2] * 50, 0.01, r"holds out 2, fewer than the 3 classes; choose a larger fraction"),
        ([0] * 50 + [1] * 50 + [2] * 50, 0.99, r"keeps 1 for training, fewer than the 3 classes"),
        ([0] * 50 + [1], 0.5, r"class 1 has a single sample"),
        ([0] * 200 + [1] * 3 + [2] * 3, 0.03, r"leaves class \d \(3 samples\) with no validation samples"),
    ],
)
def test_a_fraction_leaving_a_class_empty_is_refused_before_training(
    registry, monkeypatch, labels, fraction, message
) -> None:
    steps = []
    monkeypatch.setattr(plugnn.Network, "train_step", lambda *args: steps.append(1))
    y = np.array(labels)
    x = np.random.default_rng(0).random((len(y), 4), dtype=np.float32)
    spec = NetworkSpec(layers=[Dense(3)], loss="softmax_cross_entropy", optimizer="sgd", init="he")
    with pytest.raises(DataError, match=rf"^train.validation = {fraction:g} of {len(y)} training samples.*{message}"):
        plugnn.train(spec, x, y, TrainSpec(epochs=1, validation=fraction), registry=registry)
    assert steps == []


def test_history_records_validation_and_test_loss_and_accuracy(train_on_digits, digits) -> None:
    x_train, x_test, y_train, y_test = digits
    result = train_on_digits(SMALL, TrainSpec(epochs=2, batch_size=32, validation=0.2))
    history = result.history
    assert history.columns == COLUMNS
    val = split_indices(y_train, 0.2, seed=0)[1]
    assert history.records[-1]["val_loss"] == pytest.approx(
        evaluate(result.network, x_train[val], y_train[val])["loss"]
    )
    assert history.records[-1]["test_accuracy"] == pytest.approx(np.mean(result.network.predict(x_test) == y_test))
    assert 0 < history.records[-1]["val_loss"] < history.records[0]["val_loss"]


def test_evaluation_in_chunks_equals_one_pass(registry, digits, monkeypatch) -> None:
    x, _, y, _ = digits
    network = plugnn.build_network(SMALL, x.shape[1], rng=0, dtype="float64", registry=registry)
    whole = evaluate(network, x.astype(np.float64), y)
    monkeypatch.setattr("plugnn.network.PREDICT_CHUNK", 100)  # what Network.predict_chunk caps at
    chunked = evaluate(network, x.astype(np.float64), y)
    assert chunked["loss"] == pytest.approx(whole["loss"], rel=1e-12) and chunked["accuracy"] == whole["accuracy"]
    logits = network.forward(x.astype(np.float64))
    assert whole["loss"] == pytest.approx(network.loss(logits, y)[0], rel=1e-12)


@attrs.frozen
class WithValidation(DatasetSpec):
    """Digits with a validation split of their own."""


class WithValidationDataset:
    def __init__(self, spec: WithValidation) -> None:
        pass

    def load(self) -> DataSplit:
        from plugnn.data import load_dataset

        split = load_dataset("digits", plugnn.default_registry())
        n = len(split.y_train) // 5
        return DataSplit(
            split.x_train[n:],
            split.y_train[n:],
            split.x_test,
            split.y_test,
            split.classes,
            x_val=split.x_train[:n],
            y_val=split.y_train[:n],
        )


class OwnSplitPlugin:
    @plugnn.hookimpl
    def plugnn_register_datasets(self, register):
        register("digits_with_validation", WithValidation, WithValidationDataset)


@pytest.mark.slow
def test_a_dataset_s_own_split_is_used_and_written(tmp_path) -> None:
    registry = plugnn.load_registry(strict=True, third_party=False, extra_plugins=[OwnSplitPlugin()])
    spec = plugnn.structure(
        {
            "data": "digits_with_validation",
            "network": plugnn.unstructure(SMALL, registry),
            "train": {"epochs": 2, "batch_size": 64},
        },
        RunSpec,
        registry,
    )
    result = plugnn.run(spec, out=tmp_path / "run", quiet=True, registry=registry)
    with (result.out / "history.csv").open() as handle:
        header = next(csv.reader(handle))
    assert header == COLUMNS
    both = attrs.evolve(spec, train=attrs.evolve(spec.train, validation=0.1))
    with pytest.raises(DataError, match=r"^train.validation = 0.1 and the data's own validation split: choose one"):
        plugnn.run(both, out=tmp_path / "both", quiet=True, registry=registry)


def test_a_dataset_split_needs_both_arrays() -> None:
    x, y = np.zeros((2, 1), np.float32), np.zeros(2, int)
    with pytest.raises(DataError, match="needs both x_val and y_val"):
        DataSplit(x, y, x, y, ("a",), x_val=x)
