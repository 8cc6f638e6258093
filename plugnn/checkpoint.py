"""Checkpoints: everything a run needs to continue exactly, written atomically, read without pickle.

A checkpoint holds the run spec, the input shape, the parameters and the layers' buffers, the
optimizer state, the states of the shuffling and noise generators, the loop position (epoch,
samples done, this epoch's order and running sums) and the history so far, in one ``.npz`` with a
format version and a checksum (:mod:`plugnn.npzfile`). The :class:`Checkpointer` plugin writes one after every
``TrainSpec.checkpoint_every`` epochs, a final one when training ends (after the callbacks'
last word, e.g. early stopping restoring its best weights) and, on Ctrl-C, one between two batches; :func:`restore`
rebuilds the network, optimizer and generators so that :func:`plugnn.fit` continues bit for bit.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from plugnn.builder import build_network, build_optimizer
from plugnn.history import History
from plugnn.hookspecs import hookimpl
from plugnn.model_io import restore_state, shape_and_buffer_arrays, stored_buffers, stored_input_shape
from plugnn.network import Network
from plugnn.npzfile import CorruptFileError, read_npz, write_npz
from plugnn.protocols import Optimizer
from plugnn.registry import Registry
from plugnn.serialize import structure, unstructure
from plugnn.specs import RunSpec
from plugnn.train import LoopState, TrainContext

KIND = "checkpoint"
OPTIMIZER_PREFIX = "optimizer/"
CALLBACK_PREFIX = "callbacks/"


@attrs.frozen(eq=False)
class Checkpoint:
    """A run's complete state between two batches."""

    spec: RunSpec
    input_shape: tuple[int, ...]
    params: np.ndarray
    buffers: dict[str, np.ndarray]
    optimizer_state: dict[str, np.ndarray]
    shuffle_state: Mapping[str, Any]
    noise_state: Mapping[str, Any]
    resume: LoopState


def capture(context: TrainContext, spec: RunSpec, *, epoch_done: bool) -> Checkpoint:
    """The state of a training run as its hooks see it; after a finished epoch, the start of the next."""
    return Checkpoint(
        spec,
        context.network.input_shape,
        context.network.params.copy(),
        context.network.buffer_state(),
        context.optimizer.state_dict(),
        context.rng.bit_generator.state,
        context.network.noise.bit_generator.state,
        context.next_epoch() if epoch_done else context.snapshot(),
    )


def save_checkpoint(path: Path, checkpoint: Checkpoint, registry: Registry) -> None:
    """Write ``checkpoint`` to ``path`` atomically (the previous file stays whole until the rename)."""
    r = checkpoint.resume
    arrays = {
        "spec": np.array(json.dumps(unstructure(checkpoint.spec, registry))),
        "params": checkpoint.params,
        "generators": np.array(json.dumps({"shuffle": checkpoint.shuffle_state, "noise": checkpoint.noise_state})),
        "loop": np.array([r.epoch, r.position, r.correct, r.stop], dtype=np.int64),
        "sums": np.array([r.loss_sum, r.seconds, r.lr_scale], dtype=np.float64),
        "order": r.order if r.order is not None else np.zeros(0, dtype=np.int64),
        "history": np.array(json.dumps(r.history.to_dict())),
        "stop_reason": np.array(r.stop_reason),
    }
    for index, state in enumerate(r.callback_states):
        arrays |= {f"{CALLBACK_PREFIX}{index}/{key}": np.asarray(value) for key, value in state.items()}
    arrays["callbacks"] = np.array(len(r.callback_states), dtype=np.int64)
    arrays |= shape_and_buffer_arrays(checkpoint.input_shape, checkpoint.buffers)
    arrays |= {OPTIMIZER_PREFIX + key: value for key, value in checkpoint.optimizer_state.items()}
    write_npz(path, KIND, arrays)


def load_checkpoint(path: Path, registry: Registry) -> Checkpoint:
    """Read and verify a checkpoint; a truncated, altered or foreign file raises :class:`CorruptFileError`."""
    arrays = read_npz(path, KIND)
    try:
        spec = structure(json.loads(str(arrays["spec"])), RunSpec, registry, source=str(path))
        generators = json.loads(str(arrays["generators"]))
        epoch, position, correct, stop = (int(v) for v in [*arrays["loop"], 0][:4])  # files before callbacks: 3
        loss_sum, seconds, lr_scale = (float(v) for v in [*arrays["sums"], 1.0][:3])
        resume = LoopState(
            epoch,
            position,
            arrays["order"] if arrays["order"].size else None,
            loss_sum,
            correct,
            seconds,
            History.from_dict(json.loads(str(arrays["history"]))),
            stop=bool(stop),
            stop_reason=str(arrays["stop_reason"]) if "stop_reason" in arrays else "",
            lr_scale=lr_scale,
            callback_states=_callback_states(arrays),
        )
        optimizer_state = {
            k.removeprefix(OPTIMIZER_PREFIX): v for k, v in arrays.items() if k.startswith(OPTIMIZER_PREFIX)
        }
        return Checkpoint(
            spec,
            stored_input_shape(arrays, path),
            arrays["params"],
            stored_buffers(arrays),
            optimizer_state,
            generators["shuffle"],
            generators["noise"],
            resume,
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise CorruptFileError(f"{path}: not a complete plugnn checkpoint ({type(exc).__name__}: {exc})") from None


def _callback_states(arrays: Mapping[str, np.ndarray]) -> tuple[dict[str, np.ndarray], ...]:
    """The callbacks' states, ``callbacks/<index>/<key>`` arrays grouped by index."""
    count = int(arrays["callbacks"]) if "callbacks" in arrays else 0
    states: list[dict[str, np.ndarray]] = [{} for _ in range(count)]
    for name, value in arrays.items():
        if name.startswith(CALLBACK_PREFIX):
            index, _, key = name.removeprefix(CALLBACK_PREFIX).partition("/")
            states[int(index)][key] = value
    return tuple(states)


def restore(checkpoint: Checkpoint, registry: Registry) -> tuple[Network, Optimizer, np.random.Generator]:
    """The network, optimizer and shuffling generator exactly as they were when ``checkpoint`` was taken."""
    spec = checkpoint.spec
    network = build_network(spec.network, checkpoint.input_shape, dtype=spec.train.dtype, registry=registry)
    restore_state(network, checkpoint.params, checkpoint.buffers, "checkpoint")
    network.noise.bit_generator.state = checkpoint.noise_state
    optimizer = build_optimizer(spec.network.optimizer, registry)
    if checkpoint.optimizer_state:
        optimizer.load_state_dict(checkpoint.optimizer_state)
    shuffle = np.random.default_rng()
    shuffle.bit_generator.state = checkpoint.shuffle_state
    return network, optimizer, shuffle


class Checkpointer:
    """A training-event plugin: checkpoints every ``every`` epochs, and on Ctrl-C between two batches.

    While training, the first Ctrl-C asks the loop to stop after the current batch (so the state is
    consistent) and saves it; a second one interrupts at once.
    """

    def __init__(
        self, path: Path, spec: RunSpec, registry: Registry, every: int = 1, saved_epoch: int | None = None
    ) -> None:
        self.path, self.spec, self.registry, self.every = path, spec, registry, every
        self.saved_epoch = saved_epoch  # the last whole epoch the file at path holds, if any
        self._previous_handler: Any = None
        self._trained = False  # whether this run trained an epoch (a finished run resumed trains none)

    def save(self, context: TrainContext, *, epoch_done: bool) -> None:
        save_checkpoint(self.path, capture(context, self.spec, epoch_done=epoch_done), self.registry)
        self.saved_epoch = context.epoch if epoch_done else context.epoch - 1

    @hookimpl
    def plugnn_train_start(self, context: TrainContext) -> None:
        for stale in self.path.parent.glob(f".{self.path.name}.*.tmp"):  # left by a write cut short
            stale.unlink()

        def interrupt(signum: int, frame: Any) -> None:
            context.interrupted = True
            signal.signal(signal.SIGINT, signal.default_int_handler)  # a second Ctrl-C stops at once

        try:
            self._previous_handler = signal.signal(signal.SIGINT, interrupt)
        except ValueError:  # not the main thread: leave Ctrl-C alone
            self._previous_handler = None

    @hookimpl(trylast=True)  # after every callback has updated its state for this epoch
    def plugnn_epoch_end(self, context: TrainContext) -> None:
        self._trained = True
        last = context.stop or context.epoch == context.spec.epochs
        if self.every and context.epoch % self.every == 0 and not last:
            self.save(context, epoch_done=True)

    @hookimpl(trylast=True)  # after callbacks that change the network at the end (early stopping's best weights)
    def plugnn_train_end(self, context: TrainContext) -> None:
        if self._previous_handler is not None:
            signal.signal(signal.SIGINT, self._previous_handler)
        if context.interrupted:
            self.save(context, epoch_done=False)
        elif context.finished and self.every and self._trained:
            self.save(context, epoch_done=True)
