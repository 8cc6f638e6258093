"""v0.1 spec files train as they did (to float32 rounding); v0.1 model files predict bit for bit (on the
same BLAS kernels: fixtures/regenerate.py's blas_kernels).

The fixtures in ``tests/fixtures/v0_1/`` were made by ``tests/fixtures/make_v0_1.py`` with the v0.1
code (before the v0.2 layer protocol: shapes, buffers); its docstring says how to remake them.
"""

from __future__ import annotations

import json

from fixtures.make_v0_1 import (
    HERE,
    REGISTRY,
    prediction_differences,
    prediction_record,
    train_spec_file,
    training_differences,
    training_record,
)

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
    assert training_differences(training_record(result), reference) == []


def test_v0_1_model_file_loads_and_predicts_the_same() -> None:
    network, spec = load_model(HERE / "small-model.npz", REGISTRY)
    record = prediction_record(network, load_dataset(spec.data, REGISTRY).x_test)
    assert prediction_differences(record, json.loads((HERE / "small-model.json").read_text())) == []
