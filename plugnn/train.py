"""The shared train loop: shuffled minibatches, an optimizer step each, a record per epoch.

Training events (start, batch end, epoch end, end) are pluggy hooks (see :mod:`plugnn.hookspecs`),
so progress bars, loggers, checkpoints and early stopping are plugins like any other. All the
loop's state lives in the :class:`TrainContext`, a :class:`LoopState` plus the objects it trains,
so a checkpoint captures it between any two batches and :func:`fit` continues from it exactly.
"""

from __future__ import annotations

import difflib
import math
import time
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from plugnn.augmentation import augment_batch, augmentation_generator, build_augmentations
from plugnn.builder import build_network, build_optimizer, build_schedule, made, resolve
from plugnn.checks import check_features, check_targets
from plugnn.errors import DataError, PlugnnError, SpecError
from plugnn.events import event_relay
from plugnn.history import History
from plugnn.loopstate import LoopState, TrainState
from plugnn.metrics import METRICS, evaluate
from plugnn.network import Network
from plugnn.parallel import take_rows
from plugnn.plugins import default_registry
from plugnn.protocols import Array, Augmentation, Callback, Optimizer, Schedule, Shape
from plugnn.registry import Registry
from plugnn.specs import NetworkSpec, TrainSpec
from plugnn.threads import current_blas_threads, kept_blas_threads, remeasure, thread_budget
from plugnn.validation import split_indices
from plugnn.validators import MAX_EPOCHS

DIVERGENCE_FACTOR = 1e4
"""Training has diverged when a batch loss exceeds this multiple of ``max(first batch loss, 1)``."""


class DivergenceError(PlugnnError):
    """The loss became NaN or infinite, or exploded past :data:`DIVERGENCE_FACTOR` times its start."""


class TrainingInterrupted(PlugnnError):
    """Training was interrupted (Ctrl-C) between two batches; its state is intact."""


@attrs.define(kw_only=True, eq=False)
class TrainContext(TrainState):
    """The loop's live state, as training-event hooks see it: a :class:`TrainState` and what it trains.

    Call :meth:`request_stop` (or set ``stop = True``) to end after the current epoch, set
    ``interrupted = True`` (from a signal handler) to end after the current batch. ``lr_scale``
    multiplies the learning rate from the next epoch on (on top of the spec's rate and schedule).
    ``batch`` is the index of the last batch in its epoch, ``batch_loss`` its loss. ``callbacks``
    are the run's :class:`plugnn.protocols.Callback` objects (from ``spec.callbacks``), ``folder``
    its run folder (None outside ``plugnn run``) and ``registry`` the registry it was built from.
    ``finished`` becomes True when the loop ends normally (not interrupted, not diverged).
    """

    network: Network
    registry: Registry
    callbacks: list[Callback] = attrs.field(factory=list)
    folder: Path | None = None
    batch: int = 0
    n_batches: int = 0
    batch_loss: float = float("nan")
    interrupted: bool = False
    finished: bool = False

    def request_stop(self, reason: str) -> None:
        """End training after this epoch; ``reason`` is shown, and kept for ``plugnn run --resume`` to report."""
        if not self.stop:
            self.stop, self.stop_reason = True, f"stopped after epoch {self.epoch}: {reason}"

    def snapshot(self) -> LoopState:
        """This state alone, the callbacks' states included."""
        return attrs.evolve(super().snapshot(), callback_states=tuple(c.state_dict() for c in self.callbacks))

    def restore(self, state: LoopState) -> None:
        """Continue from ``state`` (a checkpoint's)."""
        for field in attrs.fields(LoopState):
            setattr(self, field.name, getattr(state, field.name))

    def ended(self) -> TrainState:
        """The state a finished loop leaves to continue from: the next epoch's start, with the optimizer."""
        return TrainState.of(
            self.next_epoch(), optimizer=self.optimizer, rng=self.rng, augment_rng=self.augment_rng, spec=self.spec
        )


@attrs.frozen
class TrainResult:
    """What :func:`train` returns: the trained network, its optimizer and the history."""

    network: Network
    optimizer: Optimizer
    history: History


HeldOut = dict[str, tuple[Array, np.ndarray]]
"""Evaluation sets by split name (``"val"``, ``"test"``), checked and ready for :func:`evaluate`."""


def history_columns(targets: str, *, validation: bool, test: bool) -> list[str]:
    """The columns :func:`fit` records for a network of ``targets`` (``"labels"``, ``"values"``), in order."""
    held_out = [split for split, present in (("val", validation), ("test", test)) if present]
    train = ["train_accuracy"] if targets == "labels" else []
    evaluated = [f"{split}_{metric}" for split in held_out for metric in METRICS[targets]]
    return ["epoch", "loss", *train, *evaluated, "seconds"]


def prepare(
    spec: TrainSpec,
    y: np.ndarray,
    targets: str,
    *,
    sample_shape: Shape,
    own_validation: bool,
    test: bool,
    registry: Registry,
) -> tuple[tuple[np.ndarray, np.ndarray] | None, list[Callback], list[Augmentation]]:
    """What :func:`fit` checks and builds before training, from the targets and sample shape (cheap to call first).

    Returns the ``(train, validation)`` row indices of ``spec.validation``'s split (None without
    one), the callbacks ``spec.callbacks`` declares, each checked to monitor only columns the
    run records, and the augmentations ``spec.augment`` declares, built for samples of
    ``sample_shape`` (:func:`plugnn.augmentation.build_augmentations`). ``own_validation``: the
    data comes with a validation split of its own.
    """
    indices = None
    if spec.validation is not None:
        if own_validation:
            raise DataError(
                f"train.validation = {spec.validation:g} and the data's own validation split: choose one "
                "(remove train.validation to use the data's split)"
            )
        indices = split_indices(y, spec.validation, spec.seed)
    columns = history_columns(targets, validation=own_validation or indices is not None, test=test)
    callbacks = build_callbacks(spec, registry, columns)
    return indices, callbacks, build_augmentations(spec, sample_shape, registry)


def build_callbacks(spec: TrainSpec, registry: Registry, columns: list[str]) -> list[Callback]:
    """The callbacks ``spec.callbacks`` declares, each checked to monitor only ``columns`` (before training)."""
    callbacks = []
    for index, ref in enumerate(spec.callbacks):
        path = f"train.callbacks[{index}]"
        component, callback_spec = resolve(ref, "callback", registry, path)
        callback = made(component, component.factory(callback_spec), Callback)
        for column in callback.monitors:
            if column not in columns:
                if column.startswith("val_") and "val_loss" not in columns:
                    hint = "this run has no validation set (set train.validation); "
                else:
                    close = difflib.get_close_matches(column, columns, n=1)
                    hint = f"did you mean {close[0]!r}? " if close else ""
                problem = f"no history column {column!r}; {hint}columns: {', '.join(columns)}"
                raise SpecError([(f"{path}.monitor", problem)])
        callbacks.append(callback)
    return callbacks


def fit(
    network: Network,
    optimizer: Optimizer,
    x: Any,
    y: Any,
    spec: TrainSpec,
    *,
    test: tuple[Any, Any] | None = None,
    validation: tuple[Any, Any] | None = None,
    rng: np.random.Generator | None = None,
    augment_rng: np.random.Generator | None = None,
    registry: Registry,
    resume: LoopState | None = None,
    plugins: Iterable[object] = (),
    folder: Path | None = None,
) -> History:
    """Train ``network`` in place on ``x`` ``(N, *network.input_shape)``, ``y`` ``(N,)``; return its history.

    Each epoch visits every sample once in minibatches of ``spec.batch_size`` (the last one may be
    smaller; no sample is dropped), in a fresh order from ``rng`` when ``spec.shuffle``. The
    training loss and accuracy come from each batch's own forward pass (train accuracy from a full
    pass with ``spec.full_train_accuracy``). After each epoch the loss and accuracy on the
    validation set (``spec.validation``'s fraction of ``x``, or a dataset's own ``validation``
    split; not both) and on ``test`` are recorded as ``val_*`` and ``test_*`` columns of the
    history. Layers run in training mode on the batches and in inference mode for
    every evaluation. ``spec.augment``'s augmentations transform each training batch after it is
    gathered, drawing from ``augment_rng`` (by default the seed's augmentation stream,
    :func:`plugnn.augmentation.augmentation_generator`); ``x`` itself is never changed. ``resume``
    continues an interrupted run (the caller restores the parameters, the optimizer state and the
    generators). Training runs inside the thread budget ``spec.threads``
    (:func:`plugnn.threads.thread_budget`); the BLAS trains with the thread count ``resume.blas_threads``
    records (the count the run started with) unless ``spec.threads`` asks for another
    (:func:`plugnn.threads.kept_blas_threads`). The context's ``blas_threads`` holds the count used,
    which checkpoints keep.

    Before each epoch the optimizer's rate is set to ``optimizer.spec.lr`` times the factor of the
    ``spec.schedule`` named in ``registry`` (1 without one), so calling ``fit`` again starts from the
    spec's rate, times ``context.lr_scale`` (which callbacks may lower). Training events go to a relay
    of this call's own: ``spec.callbacks`` (in their order, first), ``plugins`` (e.g. a checkpointer
    or a progress bar for this run only) and the registry's event plugins. ``folder`` is the run
    folder callbacks may write into (e.g. ``best_checkpoint``).

    Raises :class:`DivergenceError` as soon as a batch's loss is NaN or infinite or exceeds
    :data:`DIVERGENCE_FACTOR` times ``max(first batch loss, 1)``, and
    :class:`TrainingInterrupted` when a hook or signal handler sets ``context.interrupted``.
    """
    return _fit(
        network,
        optimizer,
        x,
        y,
        spec,
        test=test,
        validation=validation,
        rng=rng,
        augment_rng=augment_rng,
        registry=registry,
        resume=resume,
        plugins=plugins,
        folder=folder,
    ).history


def _fit(
    network: Network,
    optimizer: Optimizer,
    x: Any,
    y: Any,
    spec: TrainSpec,
    *,
    test: tuple[Any, Any] | None,
    rng: np.random.Generator | None,
    registry: Registry,
    resume: LoopState | None,
    plugins: Iterable[object],
    augment_rng: np.random.Generator | None = None,
    validation: tuple[Any, Any] | None = None,
    folder: Path | None = None,
) -> TrainContext:
    """:func:`fit`, returning the context the loop ended with."""
    x = check_features(x, network.input_shape, network.dtype, "X")
    y = check_targets(y, len(x), network.targets, network.output_shape, network.dtype, "y")
    indices, callbacks, augmentations = prepare(
        spec,
        y,
        network.targets,
        sample_shape=network.input_shape,
        own_validation=validation is not None,
        test=test is not None,
        registry=registry,
    )
    held_out: HeldOut = {}
    if indices is not None:
        train_index, val_index = indices
        held_out["val"] = (x[val_index], y[val_index])
        x, y = x[train_index], y[train_index]
    for split, data in (("val", validation), ("test", test)):
        if data is not None and (not isinstance(data, (tuple, list)) or len(data) != 2):
            size = f" of length {len(data)}" if hasattr(data, "__len__") else ""
            raise DataError(f"{split}: expected a pair (X_{split}, y_{split}), got a {type(data).__name__}{size}")
        if data is not None:
            x_held = check_features(data[0], network.input_shape, network.dtype, f"{split} X")
            y_held = check_targets(
                data[1], len(x_held), network.targets, network.output_shape, network.dtype, f"{split} y"
            )
            held_out[split] = (x_held, y_held)
    n, size = len(x), spec.batch_size
    if size > n:
        warnings.warn(
            f"batch_size {size} exceeds the {n} training samples: every epoch is one batch of all {n}", stacklevel=2
        )
    context = TrainContext(
        network=network,
        optimizer=optimizer,
        spec=spec,
        rng=rng if rng is not None else np.random.default_rng(spec.seed),
        augment_rng=augment_rng if augment_rng is not None else augmentation_generator(spec.seed),
        registry=registry,
        callbacks=callbacks,
        folder=folder,
        n_batches=-(-n // size),
    )
    if resume is not None:
        _check_resume(resume, n)
        context.restore(resume)
        _load_callback_states(context)
    schedule = build_schedule(spec.schedule, registry) if spec.schedule is not None else None
    base_lr = _base_lr(optimizer)
    # pluggy calls the last registered first: reversed, the callbacks run in the spec's order, before the rest
    hook = event_relay(registry, [*plugins, *reversed(context.callbacks)])
    with thread_budget(spec.threads, blas=kept_blas_threads(spec.threads, context.blas_threads)):
        context.blas_threads = current_blas_threads()
        hook.plugnn_train_start(context=context)
        try:
            # Overflow and invalid values end up in the loss as Inf or NaN, which stops training with a
            # DivergenceError that says where and what to do: numpy's own warnings would only add noise.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                _loop(context, x, y, held_out, schedule, base_lr, augmentations, hook)
            context.finished = True
        finally:
            hook.plugnn_train_end(context=context)
    return context


def _load_callback_states(context: TrainContext) -> None:
    """Give each callback its state from the resumed loop state; an empty one (or none at all) leaves it fresh."""
    states = context.callback_states
    if not states:
        return
    if len(states) != len(context.callbacks):
        raise PlugnnError(
            f"the state to resume holds {len(states)} callback states but train.callbacks declares "
            f"{len(context.callbacks)}; resume with the spec the run was started with"
        )
    for index, (callback, state) in enumerate(zip(context.callbacks, states, strict=True)):
        if not state:
            continue
        try:
            callback.load_state_dict(state)
        except (KeyError, ValueError, TypeError, IndexError) as exc:
            raise PlugnnError(
                f"train.callbacks[{index}]: the saved state does not fit {type(callback).__name__} "
                f"({type(exc).__name__}: {exc})"
            ) from None


def _loop(
    context: TrainContext,
    x: Array,
    y: np.ndarray,
    held_out: HeldOut,
    schedule: Schedule | None,
    base_lr: float,
    augmentations: list[Augmentation],
    hook: Any,
) -> None:
    """The epochs and their batches, from wherever ``context`` stands."""
    network, optimizer, spec = context.network, context.optimizer, context.spec
    labels = network.targets == "labels"  # a classifier: accuracy from the batches
    n, size = len(x), spec.batch_size
    batch_buffer = np.empty((min(size, n), *x.shape[1:]), dtype=x.dtype)  # shuffled batches are gathered here
    while context.epoch <= spec.epochs and not context.stop:
        remeasure()  # an auto budget moves plugnn's own pool with the machine's load; the BLAS's count stays
        scheduled = base_lr * schedule(context.epoch - 1, spec.epochs) if schedule is not None else base_lr
        optimizer.lr = scheduled * context.lr_scale
        if context.position == 0:
            context.order = context.rng.permutation(n) if spec.shuffle else None
            context.loss_sum, context.correct, context.seconds = 0.0, 0, 0.0
        started = time.perf_counter()
        while context.position < n:
            start = context.position
            if context.order is None:
                xb, yb = x[start : start + size], y[start : start + size]
            else:
                index = context.order[start : start + size]
                xb = take_rows(x, index, batch_buffer[: len(index)])
                yb = y[index]
            if augmentations:
                xb = augment_batch(xb, augmentations, context.augment_rng)
            loss, logits = network.train_step(xb, yb, optimizer)
            if math.isnan(context.start_loss) and math.isfinite(loss):
                context.start_loss = loss
            if not math.isfinite(loss) or loss > DIVERGENCE_FACTOR * max(context.start_loss, 1.0):
                raise _diverged(context, loss, start // size)
            context.loss_sum += loss * len(yb)
            if labels:
                context.correct += int(np.count_nonzero(logits.argmax(axis=1) == yb))
            context.position += len(yb)
            context.batch, context.batch_loss = start // size, loss
            hook.plugnn_batch_end(context=context)
            if context.interrupted:
                context.seconds += time.perf_counter() - started
                raise TrainingInterrupted(
                    f"interrupted at epoch {context.epoch}, batch {context.batch + 1} of {context.n_batches}"
                )
        context.seconds += time.perf_counter() - started
        record: dict[str, float | int | None] = {"epoch": context.epoch, "loss": context.loss_sum / n}
        if labels:
            full = spec.full_train_accuracy
            record["train_accuracy"] = evaluate(network, x, y)["accuracy"] if full else context.correct / n
        for split, (x_held, y_held) in held_out.items():
            record |= {f"{split}_{metric}": value for metric, value in evaluate(network, x_held, y_held).items()}
        context.history.append(record | {"seconds": context.seconds})
        hook.plugnn_epoch_end(context=context)
        if context.stop or context.epoch == spec.epochs:
            break
        context.epoch += 1
        context.position = 0


def _base_lr(optimizer: Optimizer) -> float:
    """The optimizer's base learning rate: its spec's, never a rate an earlier fit left behind."""
    try:
        return float(optimizer.spec.lr)
    except (AttributeError, TypeError, ValueError):
        raise PlugnnError(
            f"{type(optimizer).__name__} has no spec.lr: an optimizer keeps the spec it was built from "
            "as .spec, whose lr is its base learning rate (see plugnn.protocols.Optimizer)"
        ) from None


def _check_resume(state: LoopState, n: int) -> None:
    """Refuse a resume state whose position or sample order cannot belong to ``n`` training samples."""
    order = state.order
    if state.position > n or (
        order is not None and (len(order) != n or not np.array_equal(np.sort(order), np.arange(n)))
    ):
        raise DataError(f"the resume state's position and sample order do not fit {n} training samples")


def _diverged(context: TrainContext, loss: float, batch: int) -> DivergenceError:
    # context.batch_loss still holds the previous batch's loss, finite by construction (NaN before the first)
    last = f"{context.batch_loss:.4g}" if math.isfinite(context.batch_loss) else "none yet"
    what = (
        f"the loss is {loss}"
        if not math.isfinite(loss)
        else f"the loss {loss:.4g} exceeds {DIVERGENCE_FACTOR:g} times its starting value {context.start_loss:.4g}"
    )
    return DivergenceError(
        f"training diverged at epoch {context.epoch}, batch {batch + 1}: {what} "
        f"(last finite loss {last}); lower the learning rate (now {context.optimizer.lr:g}) "
        "or scale the inputs to [0, 1]"
    )


def train(
    spec: NetworkSpec,
    x: Any,
    y: Any,
    train_spec: TrainSpec | None = None,
    *,
    test: tuple[Any, Any] | None = None,
    registry: Registry | None = None,
    start_from: Network | None = None,
    plugins: Iterable[object] = (),
) -> TrainResult:
    """Build the network ``spec`` declares for ``x``'s sample shape and train it with :func:`fit`.

    ``x`` is ``(N, *sample_shape)``: ``(N, D)`` features or ``(N, H, W, C)`` images; the network is
    built for ``sample_shape`` (a dense layer flattens whatever it gets).

    ``train_spec.seed`` seeds four independent streams: initial weights, shuffling, run-time
    noise (dropout) and augmentation. The same seed and data give bit-identical weights and history. ``registry``
    defaults to :func:`plugnn.default_registry`; ``plugins`` receive this run's training events.

    ``start_from`` continues a trained network (from :func:`train` or :func:`plugnn.load`) for
    ``train_spec.epochs`` more epochs, in place, from its weights, optimizer state and generators:
    ``n`` epochs then ``m`` more equal ``n + m`` epochs in one call, bit for bit, as long as the
    other settings stay the same (a learning-rate schedule spans the epochs of each call).
    ``spec`` must be the network's own (``start_from.spec``). The loop goes on from the
    :class:`TrainState` the network holds: its learning-rate factor ``lr_scale`` (lowered by
    ``reduce_lr_on_plateau``), its divergence reference and its callbacks' states, so that also
    with callbacks ``n + m`` epochs equal one run. Each callback ``train_spec`` declares continues
    from the state of the callback with equal settings the earlier epochs ran with; any other
    starts fresh, as all do from a model saved before callback states were saved (plugnn 0.2). A
    network that stopped early (``early_stopping``) trains on. Without a saved optimizer state
    (a model saved with ``optimizer=False``) training goes on from the weights with a new optimizer.
    The network's ``train_state`` attribute is set to the state the loop ended with.
    """
    registry = registry or default_registry()
    try:
        shape = np.shape(x)
    except ValueError:
        raise DataError("X: not a rectangular array (rows of different lengths)") from None
    if len(shape) < 2:
        raise DataError(f"X: expected an array of samples, (N, features) or (N, H, W, C), got shape {shape}")
    train_spec = train_spec or TrainSpec()
    if start_from is None:
        network, optimizer, rng, augment_rng = build_for_training(spec, shape[1:], train_spec, registry)
        resume = None
    else:
        network, optimizer, rng, augment_rng, resume = _continued(start_from, spec, train_spec, registry)
    total = more_epochs(train_spec, resume.epoch - 1 if resume is not None else 0)
    context = _fit(
        network,
        optimizer,
        x,
        y,
        total,
        test=test,
        rng=rng,
        augment_rng=augment_rng,
        registry=registry,
        resume=resume,
        plugins=plugins,
    )
    network.train_state = context.ended()
    return TrainResult(network, optimizer, context.history)


def more_epochs(spec: TrainSpec, done: int) -> TrainSpec:
    """``spec`` for a run that continues after ``done`` epochs: ``epochs`` becomes ``done + spec.epochs``.

    The total stays within :data:`plugnn.validators.MAX_EPOCHS`, or a :class:`SpecError` says so.
    """
    total = done + spec.epochs
    if total > MAX_EPOCHS:
        raise SpecError(
            [
                (
                    "train.epochs",
                    f"{done:,} epochs trained and {spec.epochs:,} more make {total:,}, more than "
                    f"{MAX_EPOCHS:,} (plugnn.validators.MAX_EPOCHS)",
                )
            ]
        )
    return attrs.evolve(spec, epochs=total)


def _continued(
    network: Network, spec: NetworkSpec, train_spec: TrainSpec, registry: Registry
) -> tuple[Network, Optimizer, np.random.Generator, np.random.Generator, LoopState | None]:
    """The network, optimizer, shuffling and augmentation generators and loop state ``train(start_from=network)``
    goes on from."""
    if network.spec != spec:
        raise PlugnnError(
            "start_from is a network of another spec; pass its own: train(model.spec, ..., start_from=model)"
        )
    if np.dtype(train_spec.dtype) != network.dtype:
        raise PlugnnError(f"train.dtype is {train_spec.dtype} but start_from's parameters are {network.dtype}")
    state = network.train_state
    if state is None:
        shuffle_seed = np.random.SeedSequence(train_spec.seed).spawn(3)[1]  # the stream build_for_training uses
        shuffle, augment = np.random.default_rng(shuffle_seed), augmentation_generator(train_spec.seed)
        return network, build_optimizer(spec.optimizer, registry), shuffle, augment, None
    resume = attrs.evolve(
        state.snapshot(),
        history=History(list(state.history.records)),  # the new records go to a copy: state stays as it was
        stop=False,
        stop_reason="",
        callback_states=carried_callback_states(state, state.spec, train_spec, registry),
    )
    return network, state.optimizer, state.rng, state.augment_rng, resume


def carried_callback_states(
    loop: LoopState, before: TrainSpec, after: TrainSpec, registry: Registry
) -> tuple[dict[str, np.ndarray], ...]:
    """The callback states a run of ``after`` continues with, from ``loop``, whose callbacks ``before`` declared.

    Each callback ``after`` declares gets the state of one of equal settings in ``before`` (each
    used once), or ``{}``: it starts fresh. Continuing with other callbacks than before is allowed
    (``train(start_from=...)``, ``plugnn run --from``); resuming an interrupted run is not.
    """
    if not loop.callback_states:
        return ()
    declared = [resolve(ref, "callback", registry, "train.callbacks")[1] for ref in before.callbacks]
    unused = list(range(min(len(declared), len(loop.callback_states))))
    carried: list[dict[str, np.ndarray]] = []
    for index, ref in enumerate(after.callbacks):
        wanted = resolve(ref, "callback", registry, f"train.callbacks[{index}]")[1]
        match = next((i for i in unused if declared[i] == wanted), None)
        if match is not None:
            unused.remove(match)
        carried.append(loop.callback_states[match] if match is not None else {})
    return tuple(carried)


def build_for_training(
    spec: NetworkSpec, input_shape: Shape | int, train_spec: TrainSpec, registry: Registry
) -> tuple[Network, Optimizer, np.random.Generator, np.random.Generator]:
    """The network, optimizer, shuffling and augmentation generators :func:`train` starts from, seeded by
    ``train_spec.seed`` (four streams: :mod:`plugnn.augmentation`)."""
    init_seed, shuffle_seed, noise_seed = np.random.SeedSequence(train_spec.seed).spawn(3)
    network = build_network(
        spec,
        input_shape,
        rng=np.random.default_rng(init_seed),
        noise=np.random.default_rng(noise_seed),
        dtype=train_spec.dtype,
        registry=registry,
    )
    shuffle, augment = np.random.default_rng(shuffle_seed), augmentation_generator(train_spec.seed)
    return network, build_optimizer(spec.optimizer, registry), shuffle, augment
