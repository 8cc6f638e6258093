"""Regression end to end: real targets, the mse/mae/huber losses, MAE/RMSE/R², the diabetes recipe."""

from __future__ import annotations

import numpy as np
import pytest
from plugnn_std import MAE, MSE, Adam, Dense, Huber
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

import plugnn
from plugnn.data import load_dataset

REGISTRY = plugnn.default_registry()


@pytest.fixture(scope="module")
def diabetes():
    return load_dataset("diabetes", REGISTRY)


def regressor(loss="mse", units=1) -> plugnn.NetworkSpec:
    return plugnn.NetworkSpec(layers=[Dense(16), "relu", Dense(units)], loss=loss, optimizer=Adam(lr=3e-3), init="he")


@pytest.fixture(scope="module")
def trained(diabetes):
    split = diabetes
    spec = regressor()
    train_spec = plugnn.TrainSpec(epochs=30, batch_size=32)
    return plugnn.train(spec, split.x_train, split.y_train, train_spec, test=(split.x_test, split.y_test))


def test_the_losses_match_their_formulas() -> None:
    rng = np.random.default_rng(0)
    z, t = rng.standard_normal((5, 2)), rng.standard_normal((5, 2)) * 2
    mse, grad = plugnn.build_loss(MSE(), REGISTRY)(z.copy(), t)
    assert mse == pytest.approx(mean_squared_error(t, z)) and np.allclose(grad, 2 * (z - t) / z.size)
    mae, grad = plugnn.build_loss(MAE(), REGISTRY)(z.copy(), t)
    assert mae == pytest.approx(mean_absolute_error(t, z)) and np.allclose(grad, np.sign(z - t) / z.size)
    d = np.abs(z - t)
    huber = np.where(d <= 0.5, 0.5 * d**2, 0.5 * (d - 0.25)).mean()
    value, grad = plugnn.build_loss(Huber(delta=0.5), REGISTRY)(z.copy(), t)
    assert value == pytest.approx(huber) and np.allclose(grad, np.clip(z - t, -0.5, 0.5) / z.size)


def test_diabetes_is_standardised_real_targets(diabetes) -> None:
    assert diabetes.x_train.shape == (331, 10) and diabetes.y_train.dtype == np.float32 and diabetes.classes == ()
    assert abs(diabetes.y_train.mean()) < 1e-5 and diabetes.y_train.std() == pytest.approx(1, rel=1e-5)
    from plugnn_std.datasets.diabetes import Diabetes

    raw = load_dataset(Diabetes(scale_targets=False), REGISTRY)
    assert raw.y_train.min() >= 25 and raw.y_train.max() <= 346


def test_a_regressor_trains_and_reports_mae_rmse_r2(trained, diabetes) -> None:
    history, network = trained.history, trained.network
    assert history.columns == ["epoch", "loss", "test_loss", "test_mae", "test_rmse", "test_r2", "seconds"]
    assert network.targets == "values" and history.column("loss")[-1] < history.column("loss")[0]
    predicted = network.predict(diabetes.x_test)
    assert predicted.shape == (len(diabetes.y_test),)
    scores = plugnn.score(network, diabetes.x_test, diabetes.y_test)
    assert scores["mae"] == pytest.approx(mean_absolute_error(diabetes.y_test, predicted), rel=1e-5)
    assert scores["rmse"] == pytest.approx(np.sqrt(mean_squared_error(diabetes.y_test, predicted)), rel=1e-5)
    assert scores["r2"] == pytest.approx(r2_score(diabetes.y_test, predicted), rel=1e-4) and scores["r2"] > 0.1
    assert scores["loss"] == pytest.approx(scores["rmse"] ** 2, rel=1e-4)
    assert scores["r2"] == pytest.approx(history.column("test_r2")[-1])


def test_the_task_comes_from_the_loss_not_the_data() -> None:
    x = np.random.default_rng(0).random((40, 3), dtype=np.float32)
    integers = np.arange(40) % 3
    classifier = plugnn.train(
        regressor("softmax_cross_entropy", 3), x, integers, plugnn.TrainSpec(epochs=1, batch_size=16)
    )
    as_values = plugnn.train(regressor("mse"), x, integers, plugnn.TrainSpec(epochs=1, batch_size=16))
    assert classifier.network.targets == "labels" and "train_accuracy" in classifier.history.columns
    assert as_values.network.targets == "values" and "train_accuracy" not in as_values.history.columns
    assert as_values.network.predict(x).dtype == np.float32
    two = plugnn.train(
        regressor("huber", 2), x, np.stack([integers, -integers], 1), plugnn.TrainSpec(epochs=1, batch_size=16)
    )
    assert two.network.predict(x).shape == (40, 2)


@pytest.mark.parametrize(
    ("loss", "y", "message"),
    [
        ("mse", np.where(np.arange(40) == 3, np.nan, 1.0), "y: holds NaN or Inf (first at row 3); regression targets"),
        ("mse", np.ones((40, 2)), "y: the network has (1,) outputs per sample, got targets of shape (40, 2)"),
        ("mse", np.ones(39), "y: 39 targets for 40 samples"),
        ("mse", np.array(["a"] * 40), "y: expected real-valued targets, got dtype <U1"),
        ("softmax_cross_entropy", np.linspace(0, 1, 40), "y: expected integer class indices, got dtype float64"),
    ],
)
def test_bad_targets_are_one_line_errors_before_training(loss, y, message) -> None:
    x = np.zeros((40, 3), dtype=np.float32)
    with pytest.raises(plugnn.DataError) as caught:
        plugnn.train(regressor(loss, 1 if loss == "mse" else 3), x, y, plugnn.TrainSpec(epochs=1, batch_size=16))
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_a_regressor_has_no_class_probabilities(trained, diabetes) -> None:
    with pytest.raises(plugnn.PlugnnError, match="predict_proba: this network is a regressor"):
        trained.network.predict_proba(diabetes.x_test)


def test_the_diabetes_recipe_runs_offline(tmp_path, capsys) -> None:
    from plugnn.cli import main

    assert main(["run", "diabetes-mlp", "--epochs", "3", "--quiet", "--out", str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("test mae ") and ", rmse " in out and ", r2 " in out
    files = {p.name for p in (tmp_path / "run").iterdir()}
    assert {"curves.png", "model.npz", "history.csv", "checkpoint.npz"} <= files and "confusion.png" not in files
    assert main(["evaluate", str(tmp_path / "run")]) == 0
    assert capsys.readouterr().out.startswith("test mae ")
