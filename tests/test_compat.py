"""v0.1 spec files and model files keep working bit for bit.

The fixtures in ``tests/fixtures/v0_1/`` were made by ``tests/fixtures/make_v0_1.py`` with the v0.1
code (before the v0.2 layer protocol: shapes, buffers); its docstring says how to remake them.
"""

from __future__ import annotations

import json

from fixtures.make_v0_1 import HERE, REGISTRY, prediction_record, train_spec_file, training_record, v0_1_columns

from plugnn.data import load_dataset
from plugnn.model_io import load_model


def test_v0_1_spec_file_trains_bit_for_bit() -> None:
    result, _ = train_spec_file("quickstart-3")
    reference = json.loads((HERE / "quickstart-3.json").read_text())
    record = training_record(result)
    assert set(reference["history"]) < set(record["history"])  # later columns (test_loss) come on top
    assert v0_1_columns(record, reference) == reference


def test_v0_1_model_file_loads_and_predicts_the_same() -> None:
    network, spec = load_model(HERE / "small-model.npz", REGISTRY)
    record = prediction_record(network, load_dataset(spec.data, REGISTRY).x_test)
    assert record == json.loads((HERE / "small-model.json").read_text())
