"""The unscaled-pixel warning: only on whole numbers reaching 2 or more, naming the range, at the caller's line."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from plugnn_std import Dense
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

import plugnn
from plugnn.sklearn import PlugnnClassifier

SPEC = plugnn.NetworkSpec(layers=[Dense(2)], loss="softmax_cross_entropy", optimizer="sgd", init="he")
ONE_EPOCH = plugnn.TrainSpec(epochs=1, batch_size=4)
Y = np.array([0, 1, 0, 1, 0, 1, 0, 1])


def pixel_warnings(record: list[warnings.WarningMessage]) -> list[warnings.WarningMessage]:
    return [w for w in record if "unscaled pixels" in str(w.message)]


def test_minmax_scaled_held_out_data_overshooting_to_a_whole_number_does_not_warn() -> None:
    # A MinMaxScaler fitted on one fold maps another fold's larger values past 1, here to exactly 4.0.
    x = np.random.default_rng(0).uniform(0, 1, (8, 3))
    x[2, 1] = 4.0
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        plugnn.train(SPEC, x, Y, ONE_EPOCH)
    assert not pixel_warnings(record)


def test_grid_search_over_minmax_scaled_folds_does_not_warn() -> None:
    rng = np.random.default_rng(1)
    x = rng.integers(0, 17, (40, 4)).astype(np.float64)  # digits-like whole numbers, scaled per fold below
    x[::10] = 0  # each fold's minimum is 0, so no scaled value is negative
    x[1, 0] = 64.0  # one fold's outlier: the other fold's scaler maps it to 4.0
    y = np.arange(40) % 2
    pipeline = make_pipeline(MinMaxScaler(), PlugnnClassifier(train=plugnn.TrainSpec(epochs=1, batch_size=8)))
    search = GridSearchCV(pipeline, {"plugnnclassifier__train__epochs": [1]}, cv=2)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        search.fit(x, y)
    assert not pixel_warnings(record)


@pytest.mark.parametrize(
    ("x", "seen"),
    [
        (np.full((8, 3), 200, dtype=np.uint8), "integer values in [200, 200], dtype uint8"),
        (np.arange(24, dtype=np.float32).reshape(8, 3) % 17, "integer values in [0, 16], dtype float32"),
    ],
)
def test_whole_numbers_warn_with_the_range_at_the_callers_line(x, seen) -> None:
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        result = plugnn.train(SPEC, x, Y, ONE_EPOCH)  # the line each warning must name
        result.network.predict(x)
        plugnn.score(result.network, x, Y)
    found = pixel_warnings(record)
    assert len(found) == 3
    for warning in found:
        assert warning.filename == __file__, warning.filename
        assert seen in str(warning.message) and "X / 255.0" in str(warning.message)


def test_binary_and_scaled_data_do_not_warn() -> None:
    for x in (np.eye(8, 3), np.linspace(0, 1, 24).reshape(8, 3), np.arange(24.0).reshape(8, 3) / 23 - 0.5):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            plugnn.train(SPEC, x, Y, ONE_EPOCH)
        assert not pixel_warnings(record), x
