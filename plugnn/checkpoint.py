"""Checkpoints: everything a run needs to continue exactly, written atomically, read without pickle.

A checkpoint holds the run spec, the input shape, the parameters and the layers' buffers, the
optimizer state, the states of the shuffling, noise and augmentation generators, the loop position (epoch,
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

from plugnn.augmentation import augmentation_generator
from plugnn.builder import build_network
from plugnn.hookspecs import hookimpl
from plugnn.loopfile import CALLBACK_PREFIX, LOOP_ARRAYS, loop_arrays, stored_loop
from plugnn.loopstate import LoopState
from plugnn.model_io import (
    BUFFER_PREFIX,
    GENERATORS,
    STORED_ARRAYS,
    refuse_unknown_keys,
    restore_state,
    shape_and_buffer_arrays,
    stored_buffers,
    stored_input_shape,
)
from plugnn.network import Network
from plugnn.npzfile import CorruptFileError, member, member_json, read_npz, refuse_unknown_members, write_npz
from plugnn.optimizer_state import restore_optimizer
from plugnn.protocols import Optimizer
from plugnn.registry import Registry
from plugnn.serialize import structure, unstructure
from plugnn.specs import RunSpec
from plugnn.train import TrainContext

CHECKPOINT = "checkpoint.npz"
"""A run folder's checkpoint file."""

KIND = "checkpoint"
OPTIMIZER_PREFIX = "optimizer/"


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
    fingerprint: str = ""
    """The digest of the run folder's fingerprint (:mod:`plugnn.fingerprint`) this checkpoint belongs to."""
    source: str = "checkpoint"
    """Where it was read from, for messages."""
    augment_state: Mapping[str, Any] | None = None
    """The augmentation generator's state (None in checkpoints of plugnn 0.2: the seed's fresh stream is used)."""


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
        augment_state=context.augment_rng.bit_generator.state,
    )


def save_checkpoint(path: Path, checkpoint: Checkpoint, registry: Registry) -> None:
    """Write ``checkpoint`` to ``path`` atomically (the previous file stays whole until the rename)."""
    generators = {"shuffle": checkpoint.shuffle_state, "noise": checkpoint.noise_state}
    if checkpoint.augment_state is not None:
        generators["augment"] = checkpoint.augment_state
    arrays = {
        "spec": np.array(json.dumps(unstructure(checkpoint.spec, registry))),
        "params": checkpoint.params,
        "generators": np.array(json.dumps(generators)),
        "fingerprint": np.array(checkpoint.fingerprint),
    }
    arrays |= loop_arrays(checkpoint.resume)
    arrays |= shape_and_buffer_arrays(checkpoint.input_shape, checkpoint.buffers)
    arrays |= {OPTIMIZER_PREFIX + key: value for key, value in checkpoint.optimizer_state.items()}
    write_npz(path, KIND, arrays)


def load_checkpoint(path: Path, registry: Registry) -> Checkpoint:
    """Read and verify a checkpoint; a truncated, altered, malformed or foreign file raises :class:`CorruptFileError`.

    After the checksum, every array is checked for presence, dimensions, dtype and finite values,
    the loop position for consistency (:func:`plugnn.loopfile.stored_loop`), and the JSON parts for
    their structure.
    """
    arrays = read_npz(path, KIND)
    refuse_unknown_members(
        path,
        arrays,
        ("spec", "generators", "fingerprint", *STORED_ARRAYS, *LOOP_ARRAYS),
        (BUFFER_PREFIX, OPTIMIZER_PREFIX, CALLBACK_PREFIX),
    )
    spec_data = member_json(path, arrays, "spec")
    generators = member_json(path, arrays, "generators")
    resume = stored_loop(path, arrays)
    params = member(path, arrays, "params", "f", 1)
    input_shape = stored_input_shape(arrays, path)
    buffers = stored_buffers(arrays, path)
    fingerprint = str(member(path, arrays, "fingerprint", "U", 0)) if "fingerprint" in arrays else ""
    optimizer_state = {
        k.removeprefix(OPTIMIZER_PREFIX): member(path, arrays, k, "fiu", arrays[k].ndim)
        for k in arrays
        if k.startswith(OPTIMIZER_PREFIX)
    }
    if params.dtype not in (np.float32, np.float64):
        raise CorruptFileError(f"{path}: parameters of dtype {params.dtype}; plugnn stores float32 or float64")
    if not (
        isinstance(generators, dict)
        and all(isinstance(generators.get(k), dict) for k in ("shuffle", "noise"))
        and isinstance(generators.get("augment", {}), dict)
    ):
        raise CorruptFileError(f"{path}: 'generators' is not a set of generator states")
    refuse_unknown_keys(f"{path}: 'generators'", generators, GENERATORS)
    spec = structure(spec_data, RunSpec, registry, source=str(path))
    return Checkpoint(
        spec,
        input_shape,
        params,
        buffers,
        optimizer_state,
        generators["shuffle"],
        generators["noise"],
        resume,
        fingerprint,
        str(path),
        generators.get("augment"),
    )


def restore(
    checkpoint: Checkpoint, registry: Registry
) -> tuple[Network, Optimizer, np.random.Generator, np.random.Generator]:
    """The network, optimizer, shuffling and augmentation generators exactly as they were when ``checkpoint``
    was taken."""
    spec = checkpoint.spec
    network = build_network(spec.network, checkpoint.input_shape, dtype=spec.train.dtype, registry=registry)
    restore_state(network, checkpoint.params, checkpoint.buffers, "checkpoint")
    shuffle, augment = np.random.default_rng(), augmentation_generator(spec.train.seed)
    try:
        network.noise.bit_generator.state = checkpoint.noise_state
        shuffle.bit_generator.state = checkpoint.shuffle_state
        if checkpoint.augment_state is not None:
            augment.bit_generator.state = checkpoint.augment_state
    except (KeyError, ValueError, TypeError, IndexError) as exc:
        raise CorruptFileError(f"checkpoint state does not fit its spec ({type(exc).__name__}: {exc})") from None
    optimizer = restore_optimizer(
        spec.network.optimizer,
        registry,
        checkpoint.optimizer_state,
        [network.params],  # what Network.train_step gives the optimizer
        checkpoint.source,
        OPTIMIZER_PREFIX,
    )
    return network, optimizer, shuffle, augment


class Checkpointer:
    """A training-event plugin: checkpoints every ``every`` epochs, and on Ctrl-C between two batches.

    While training, the first Ctrl-C asks the loop to stop after the current batch (so the state is
    consistent) and saves it; a second one interrupts at once.
    """

    def __init__(
        self,
        path: Path,
        spec: RunSpec,
        registry: Registry,
        every: int = 1,
        saved_epoch: int | None = None,
        fingerprint: str = "",
    ) -> None:
        self.path, self.spec, self.registry, self.every, self.fingerprint = path, spec, registry, every, fingerprint
        self.saved_epoch = saved_epoch  # the last whole epoch the file at path holds, if any
        self._previous_handler: Any = None
        self._trained = False  # whether this run trained an epoch (a finished run resumed trains none)

    def save(self, context: TrainContext, *, epoch_done: bool) -> None:
        checkpoint = attrs.evolve(capture(context, self.spec, epoch_done=epoch_done), fingerprint=self.fingerprint)
        save_checkpoint(self.path, checkpoint, self.registry)
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
