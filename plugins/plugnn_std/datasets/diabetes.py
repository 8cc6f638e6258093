"""scikit-learn's bundled diabetes data: 442 patients, 10 features, a real target; offline regression.

The target is a measure of disease progression one year after baseline (25-346). The train/test
split is fixed by ``seed``. Features are standardised with the training part's mean and standard
deviation; so is the target when ``scale_targets`` (the default), which lets a network with a plain
linear output and default initialisation start near the mean. Losses and metrics (MSE, MAE, RMSE)
are then in units of the target's training standard deviation (R² is unchanged by the scaling);
``scale_targets = false`` keeps disease-progression points.
"""

from __future__ import annotations

import attrs
import numpy as np

from plugnn import hookimpl
from plugnn import validators as v
from plugnn.data import DataSplit
from plugnn.registry import Register
from plugnn.specs import DatasetSpec


@attrs.frozen
class Diabetes(DatasetSpec):
    """The diabetes data: ``test_size`` of it held out (split with ``seed``); targets z-scored if ``scale_targets``."""

    test_size: float = attrs.field(default=0.25, validator=v.in_range(0.05, 0.95, include_high=True))
    seed: int = attrs.field(default=0, validator=[v.integer, v.non_negative])
    scale_targets: bool = attrs.field(default=True, validator=v.boolean)

    @classmethod
    def invalid_examples(cls) -> list[dict[str, object]]:
        return [{"test_size": 1.0}, {"seed": -1}, {"scale_targets": 1}]


def _standardise(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean, std = train.mean(axis=0), train.std(axis=0)
    return ((train - mean) / std).astype(np.float32), ((test - mean) / std).astype(np.float32)


class DiabetesDataset:
    def __init__(self, spec: Diabetes) -> None:
        self.spec = spec

    def load(self) -> DataSplit:
        from sklearn.datasets import load_diabetes  # imported here: building a registry stays light
        from sklearn.model_selection import train_test_split

        x, y = load_diabetes(return_X_y=True, scaled=False)
        x_train, x_test, y_train, y_test = train_test_split(
            x, y, test_size=self.spec.test_size, random_state=self.spec.seed
        )
        x_train, x_test = _standardise(x_train, x_test)
        if self.spec.scale_targets:
            y_train, y_test = _standardise(y_train, y_test)
        return DataSplit(x_train, y_train.astype(np.float32), x_test, y_test.astype(np.float32), classes=())


@hookimpl
def plugnn_register_datasets(register: Register) -> None:
    register("diabetes", Diabetes, DiabetesDataset)
