"""v0.1 spec files train as they did (to float32 rounding); v0.1 model files predict bit for bit.

The fixtures in ``tests/fixtures/v0_1/`` were made by ``tests/fixtures/make_v0_1.py`` with the v0.1
code (before the v0.2 layer protocol: shapes, buffers); its docstring says how to remake them.
"""

from __future__ import annotations

import json

import numpy as np
from fixtures.make_v0_1 import HERE, REGISTRY, prediction_record, train_spec_file, training_record, v0_1_columns

from plugnn.data import load_dataset
from plugnn.model_io import load_model


def test_v0_1_spec_file_trains_to_the_same_history() -> None:
    """Bit for bit within a version (the resume tests); across versions up to float32 rounding.

    Since the unreleased change to the softmax cross-entropy (CHANGELOG), it sums the classes in
    another order than 0.1 did (a faster layout, see its FEW_CLASSES), which moves the losses in
    their last bits; the accuracies are unchanged.
    """
    result, _ = train_spec_file("quickstart-3")
    reference = json.loads((HERE / "quickstart-3.json").read_text())
    record = v0_1_columns(training_record(result), reference)
    assert set(reference["history"]) < set(training_record(result)["history"])  # later columns come on top
    assert record["n_params"] == reference["n_params"]
    history, expected = record["history"], reference["history"]
    assert history.keys() == expected.keys()
    for column in ("epoch", "train_accuracy", "test_accuracy"):
        assert history[column] == expected[column], column
    np.testing.assert_allclose(history["loss"], expected["loss"], rtol=1e-6)


def test_v0_1_model_file_loads_and_predicts_the_same() -> None:
    network, spec = load_model(HERE / "small-model.npz", REGISTRY)
    record = prediction_record(network, load_dataset(spec.data, REGISTRY).x_test)
    assert record == json.loads((HERE / "small-model.json").read_text())
