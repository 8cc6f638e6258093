"""The shared train loop: shuffled minibatches, an optimizer step each, a record per epoch.

Training events (start, batch end, epoch end, end) are pluggy hooks (see :mod:`plugnn.hookspecs`),
so progress bars, loggers and early stopping are plugins like any other.
"""

from __future__ import annotations

import time
from typing import Any

import attrs
import numpy as np

from plugnn.builder import build_network, build_optimizer, build_schedule
from plugnn.checks import check_features, check_labels
from plugnn.errors import DataError
from plugnn.network import Network
from plugnn.plugins import default_registry
from plugnn.protocols import Array, Optimizer
from plugnn.registry import Registry
from plugnn.specs import NetworkSpec, TrainSpec


@attrs.define
class EpochRecord:
    """One epoch's numbers. Accuracies are fractions in [0, 1]; ``test_accuracy`` is None without test data."""

    epoch: int
    loss: float
    train_accuracy: float
    test_accuracy: float | None
    seconds: float


@attrs.define
class History:
    """Per-epoch records of a training run; a plain object that converts to and from dicts."""

    records: list[EpochRecord] = attrs.Factory(list)

    def column(self, name: str) -> list[Any]:
        """One field across epochs, e.g. ``history.column("test_accuracy")``."""
        return [getattr(record, name) for record in self.records]

    def to_dict(self) -> dict[str, list[Any]]:
        """Columns by field name: ``{"epoch": [1, 2], "loss": [...], ...}``."""
        return {field.name: self.column(field.name) for field in attrs.fields(EpochRecord)}

    @classmethod
    def from_dict(cls, data: dict[str, list[Any]]) -> History:
        """Inverse of :meth:`to_dict`."""
        names = [field.name for field in attrs.fields(EpochRecord)]
        return cls([EpochRecord(*row) for row in zip(*(data[name] for name in names))])


@attrs.define
class TrainContext:
    """The live state training-event hooks see. Set ``stop = True`` to end after this epoch."""

    network: Network
    optimizer: Optimizer
    spec: TrainSpec
    history: History
    epoch: int = 0
    batch: int = 0
    n_batches: int = 0
    batch_loss: float = float("nan")
    stop: bool = False


@attrs.frozen
class TrainResult:
    """What :func:`train` returns: the trained network, its optimizer and the history."""

    network: Network
    optimizer: Optimizer
    history: History


def _accuracy(network: Network, x: Array, y: np.ndarray) -> float:
    return float(np.mean(network.predict(x) == y))


def fit(
    network: Network,
    optimizer: Optimizer,
    x: Any,
    y: Any,
    spec: TrainSpec,
    *,
    test: tuple[Any, Any] | None = None,
    rng: np.random.Generator | None = None,
    registry: Registry | None = None,
) -> History:
    """Train ``network`` in place on ``x`` ``(N, D)``, ``y`` ``(N,)`` and return its history.

    Each epoch visits every sample once in minibatches of ``spec.batch_size`` (the last one may be
    smaller; no sample is dropped), in a fresh random order when ``spec.shuffle``. Train accuracy
    comes from each batch's own forward pass unless ``spec.full_train_accuracy``.
    """
    registry = registry or default_registry()
    x = check_features(x, network.in_features, network.dtype, "X")
    y = check_labels(y, len(x), network.out_features, "y")
    if test is not None:
        x_test = check_features(test[0], network.in_features, network.dtype, "test X")
        y_test = check_labels(test[1], len(x_test), network.out_features, "test y")
    rng = rng if rng is not None else np.random.default_rng(spec.seed)
    n, size = len(x), spec.batch_size
    history = History()
    context = TrainContext(network, optimizer, spec, history, n_batches=-(-n // size))
    schedule = build_schedule(spec.schedule, registry) if spec.schedule is not None else None
    base_lr = optimizer.lr
    hook = registry.hook
    hook.plugnn_train_start(context=context)
    batch_buffer = np.empty((min(size, n), x.shape[1]), dtype=x.dtype)  # shuffled batches are gathered here
    for epoch in range(1, spec.epochs + 1):
        context.epoch = epoch
        if schedule is not None:
            optimizer.lr = base_lr * schedule(epoch - 1, spec.epochs)
        started = time.perf_counter()
        order = rng.permutation(n) if spec.shuffle else None
        loss_sum, correct = 0.0, 0
        for batch, start in enumerate(range(0, n, size)):
            if order is None:
                xb, yb = x[start : start + size], y[start : start + size]
            else:
                index = order[start : start + size]
                xb = np.take(x, index, axis=0, out=batch_buffer[: len(index)], mode="clip")
                yb = y[index]
            loss, logits = network.train_step(xb, yb, optimizer)
            loss_sum += loss * len(yb)
            correct += int(np.count_nonzero(logits.argmax(axis=1) == yb))
            context.batch, context.batch_loss = batch, loss
            hook.plugnn_batch_end(context=context)
        seconds = time.perf_counter() - started
        train_accuracy = _accuracy(network, x, y) if spec.full_train_accuracy else correct / n
        test_accuracy = _accuracy(network, x_test, y_test) if test is not None else None
        history.records.append(EpochRecord(epoch, loss_sum / n, train_accuracy, test_accuracy, seconds))
        hook.plugnn_epoch_end(context=context)
        if context.stop:
            break
    hook.plugnn_train_end(context=context)
    return history


def train(
    spec: NetworkSpec,
    x: Any,
    y: Any,
    train_spec: TrainSpec | None = None,
    *,
    test: tuple[Any, Any] | None = None,
    registry: Registry | None = None,
) -> TrainResult:
    """Build the network ``spec`` declares for ``x``'s width and train it with :func:`fit`.

    ``train_spec.seed`` seeds three independent streams: initial weights, shuffling and run-time
    noise (dropout). The same seed and data give bit-identical weights and history.
    """
    train_spec = train_spec or TrainSpec()
    registry = registry or default_registry()
    if np.ndim(x) != 2:
        raise DataError(f"X: expected a 2-D array (samples, features), got shape {np.shape(x)}")
    width = np.shape(x)[1]
    init_seed, shuffle_seed, noise_seed = np.random.SeedSequence(train_spec.seed).spawn(3)
    network = build_network(
        spec, width, rng=np.random.default_rng(init_seed), noise=np.random.default_rng(noise_seed),
        dtype=train_spec.dtype, registry=registry,
    )
    optimizer = build_optimizer(spec.optimizer, registry)
    history = fit(
        network, optimizer, x, y, train_spec,
        test=test, rng=np.random.default_rng(shuffle_seed), registry=registry,
    )
    return TrainResult(network, optimizer, history)
