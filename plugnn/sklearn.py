"""scikit-learn estimators: :class:`PlugnnClassifier` and :class:`PlugnnRegressor`.

They follow scikit-learn's estimator contract (``fit``/``predict``/``score``, ``get_params``/
``set_params``, input validation through scikit-learn's own ``validate_data``, ``ValueError`` on bad
input), so they work in a ``Pipeline``, ``GridSearchCV`` and ``cross_val_score``::

    from plugnn.sklearn import PlugnnClassifier
    clf = PlugnnClassifier(train=plugnn.TrainSpec(epochs=20, batch_size=32))
    GridSearchCV(clf, {"network__optimizer__lr": [1e-3, 3e-3]}, n_jobs=2).fit(X, y)

``network`` is a :class:`plugnn.NetworkSpec` (or a list of its layers) *without* its output layer:
the estimator adds a ``dense`` layer with one unit per class (per target) when it sees the data.
Nested parameters reach every spec field by its path, with ``__`` for the dots of
:mod:`plugnn.overrides`: ``network__optimizer__lr``, ``network__layers__0__units``, ``train__epochs``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from plugnn.builder import resolve
from plugnn.errors import PlugnnError
from plugnn.model_io import load, save
from plugnn.network import Network
from plugnn.overrides import set_field
from plugnn.plugins import default_registry
from plugnn.registry import Registry
from plugnn.serialize import structure, unstructure
from plugnn.specs import NetworkSpec, TrainSpec
from plugnn.train import train

EXPECTED_FAILED_CHECKS = {
    "check_methods_subset_invariance": (
        "float32 (plugnn's default dtype): the BLAS rounds a row's float32 dot products differently "
        "for different batch sizes, so predictions on a subset may differ from those on the whole "
        "batch by about 1e-7 relative, the check's tolerance; with train.dtype = 'float64' it passes"
    ),
}
"""The scikit-learn estimator checks these estimators are known to fail (or may fail), with the reason."""

NESTED = ("network", "train")
"""The parameters whose fields ``get_params(deep=True)`` lists and ``set_params`` sets as ``name__field``."""


class _PlugnnEstimator(BaseEstimator):  # type: ignore[misc]  # scikit-learn ships no type hints
    """What the classifier and the regressor share; see the module docstring."""

    _loss: str  # the loss of the default network
    _targets: str  # what the network's loss must take: "labels" or "values"

    def __init__(self, network: NetworkSpec | Sequence[Any] | None = None, train: TrainSpec | None = None) -> None:
        self.network = network
        self.train = train

    # -- parameters ------------------------------------------------------------------------------

    def network_spec(self, registry: Registry | None = None) -> NetworkSpec:
        """The network without its output layer: ``network``, or the default (ReLU 100, Adam, He)."""
        registry = registry or default_registry()
        if isinstance(self.network, NetworkSpec):
            return self.network
        if not (self.network is None or isinstance(self.network, (list, tuple))):
            raise ValueError(
                f"network: expected a plugnn.NetworkSpec, a list of layers or None, got {type(self.network).__name__}"
            )
        layers = [{"type": "dense", "units": 100}, "relu"] if self.network is None else list(self.network)
        plain = {"layers": layers, "loss": self._loss, "optimizer": {"type": "adam", "lr": 1e-3}, "init": "he"}
        return structure(unstructure(plain, registry), NetworkSpec, registry)

    def train_spec(self) -> TrainSpec:
        """``train``, or ``TrainSpec()``."""
        if not (self.train is None or isinstance(self.train, TrainSpec)):
            raise ValueError(
                f"train: expected a plugnn.TrainSpec or None, got {type(self.train).__name__} {self.train!r}"
            )
        return self.train if self.train is not None else TrainSpec()

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        params: dict[str, Any] = super().get_params(deep=False)
        if deep:
            for name, make in (("network", self.network_spec), ("train", self.train_spec)):
                try:
                    spec = make()
                except (PlugnnError, TypeError, ValueError):  # an invalid setting: fit says what is wrong
                    continue
                params |= {f"{name}__{key}": value for key, value in _fields(spec)} if attrs.has(type(spec)) else {}
        return params

    def set_params(self, **params: Any) -> _PlugnnEstimator:
        nested = {key: value for key, value in params.items() if "__" in key and key.split("__")[0] in NESTED}
        super().set_params(**{key: value for key, value in params.items() if key not in nested})
        for key, value in sorted(nested.items(), key=lambda item: item[0].count("__")):
            name, _, path = key.partition("__")
            spec = self.network_spec() if name == "network" else self.train_spec()
            try:
                setattr(self, name, set_field(spec, path.replace("__", "."), value, default_registry()))
            except PlugnnError as exc:
                raise ValueError(f"{key}: {exc}") from None
        return self

    # -- fitting ---------------------------------------------------------------------------------

    def _full_spec(self, n_outputs: int, registry: Registry) -> NetworkSpec:
        """The network with its output layer, checked to take this estimator's kind of targets."""
        spec = self.network_spec(registry)
        _, loss = resolve(spec.loss, "loss", registry, "network.loss")
        if type(loss).targets != self._targets:
            kind = "class labels" if self._targets == "labels" else "real values"
            raise ValueError(f"{type(self).__name__} needs a loss that takes {kind}; network.loss is {spec.loss!r}")
        plain = unstructure(spec, registry)
        plain["layers"] = [*plain["layers"], {"type": "dense", "units": n_outputs}]
        return structure(plain, NetworkSpec, registry)

    def _fit(self, x: np.ndarray, y: np.ndarray, n_outputs: int, *, more: bool) -> None:
        """Train a new network (``train.epochs`` epochs) or, with ``more``, one epoch more of ``model_``."""
        registry = default_registry()
        try:
            spec = self._full_spec(n_outputs, registry)
            train_spec = self.train_spec()
            start = self.model_ if more and hasattr(self, "model_") else None
            epochs = 1 if more else train_spec.epochs
            result = train(spec, x, y, attrs.evolve(train_spec, epochs=epochs), registry=registry, start_from=start)
        except PlugnnError as exc:
            raise ValueError(str(exc)) from None
        self.model_: Network = result.network

    def _validated(self, x: Any) -> np.ndarray:
        check_is_fitted(self, "model_")
        checked: np.ndarray = validate_data(self, x, reset=False, dtype=(np.float64, np.float32))
        return checked

    def __getstate__(self) -> dict[str, Any]:
        """Pickling (joblib, ``GridSearchCV(n_jobs=2)``) stores a fitted model as plugnn's own ``.npz`` bytes."""
        state = self.__dict__.copy()
        if "model_" in state:
            with tempfile.TemporaryDirectory() as folder:
                path = save(state["model_"], Path(folder) / "model.npz", registry=default_registry())
                state["model_"] = path.read_bytes()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        if isinstance(state.get("model_"), bytes):
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "model.npz"
                path.write_bytes(state["model_"])
                state["model_"] = load(path, default_registry())
        self.__dict__.update(state)


def _fields(spec: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """``(path, value)`` of every field of ``spec`` and of the component specs inside it (``optimizer__lr``)."""
    found = []
    for field in attrs.fields(type(spec)):
        value = getattr(spec, field.name)
        found.append((prefix + field.name, value))
        if attrs.has(type(value)):
            found += _fields(value, f"{prefix}{field.name}__")
    return found


class PlugnnClassifier(ClassifierMixin, _PlugnnEstimator):  # type: ignore[misc]
    """A plugnn network as a scikit-learn classifier (softmax cross-entropy by default).

    Parameters
    ----------
    network : NetworkSpec or list of layer specs, optional
        The network without its output layer, which the estimator adds (``dense``, one unit per
        class). A list of layers gets the default loss, optimizer (Adam, lr 1e-3) and He init.
        Default: one hidden ReLU layer of 100 units.
    train : TrainSpec, optional
        Epochs, batch size, seed, ... (``TrainSpec()`` by default). ``train.seed`` fixes every
        random choice, so ``fit`` is deterministic.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted; predictions are among them.
    n_features_in_ : int
        Features seen in ``fit``.
    model_ : plugnn.Network
        The trained network (``plugnn.save(clf.model_, path)`` exports it).
    """

    _loss = "softmax_cross_entropy"
    _targets = "labels"

    def fit(self, X: Any, y: Any) -> PlugnnClassifier:
        """Train a new network on ``X`` ``(n_samples, n_features)`` and class labels ``y``."""
        x, labels = self._check_fit(X, y, None, reset=True)
        self._fit(x, labels, len(self.classes_), more=False)
        return self

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> PlugnnClassifier:
        """One more epoch on ``X``, ``y``, continuing exactly (optimizer state, shuffling); ``classes``
        (every label there will be) is required on the first call."""
        first = not hasattr(self, "model_")
        if first and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit (every label that can occur)")
        x, labels = self._check_fit(X, y, classes if first else None, reset=first)
        self._fit(x, labels, len(self.classes_), more=True)
        return self

    def _check_fit(self, X: Any, y: Any, classes: Any, *, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        x, y = validate_data(self, X, y, reset=reset, dtype=(np.float64, np.float32))
        check_classification_targets(y)
        if reset:
            self.classes_ = np.unique(y) if classes is None else np.unique(classes)
        unknown = np.setdiff1d(y, self.classes_)
        if len(unknown):
            raise ValueError(f"y holds labels not in classes: {unknown[:5].tolist()}; classes are {self.classes_}")
        return x, np.searchsorted(self.classes_, y)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row of ``X``, among ``classes_``."""
        x = self._validated(X)
        predicted: np.ndarray = self.classes_[self.model_.predict(x)]
        return predicted

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(n_samples, n_classes)``, columns in the order of ``classes_``."""
        x = self._validated(X)
        return self.model_.predict_proba(x).astype(np.float64)


class PlugnnRegressor(RegressorMixin, _PlugnnEstimator):  # type: ignore[misc]
    """A plugnn network as a scikit-learn regressor (mean squared error by default).

    Parameters are those of :class:`PlugnnClassifier`; the output layer has one unit per target
    (``y`` of shape ``(n_samples,)`` or ``(n_samples, n_targets)``), and ``network.loss`` must take
    real values (``mse``, ``mae``, ``huber``).

    Attributes
    ----------
    n_features_in_ : int
        Features seen in ``fit``.
    model_ : plugnn.Network
        The trained network.
    """

    _loss = "mse"
    _targets = "values"

    def fit(self, X: Any, y: Any) -> PlugnnRegressor:
        """Train a new network on ``X`` ``(n_samples, n_features)`` and real targets ``y``."""
        x, values = self._check_fit(X, y, reset=True)
        self._fit(x, values, values.shape[1], more=False)
        return self

    def partial_fit(self, X: Any, y: Any) -> PlugnnRegressor:
        """One more epoch on ``X``, ``y``, continuing exactly (optimizer state, shuffling)."""
        first = not hasattr(self, "model_")
        x, values = self._check_fit(X, y, reset=first)
        self._fit(x, values, values.shape[1], more=True)
        return self

    def _check_fit(self, X: Any, y: Any, *, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        x, y = validate_data(self, X, y, reset=reset, dtype=(np.float64, np.float32), y_numeric=True, multi_output=True)
        if reset:
            self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
            self._one_d = y.ndim == 1
        y2 = y.reshape(len(y), -1)
        if y2.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {y2.shape[1]} targets per sample, but this regressor was fit with {self.n_outputs_}"
            )
        return x, y2

    def predict(self, X: Any) -> np.ndarray:
        """Predicted targets: ``(n_samples,)`` when fit on 1-D ``y``, else ``(n_samples, n_targets)``."""
        x = self._validated(X)
        outputs = self.model_.logits(x).astype(np.float64)
        return outputs[:, 0] if self._one_d else outputs

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
