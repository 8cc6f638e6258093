"""Where a train loop stands, as data: :class:`LoopState` and :class:`TrainState`.

Checkpoints, model files and ``network.train_state`` keep them; :class:`plugnn.train.TrainContext`
is one with the objects being trained. They sit below the train loop and the network, so the
network can name its train state without importing the loop.
"""

from __future__ import annotations

import attrs
import numpy as np

from plugnn.history import History
from plugnn.protocols import Optimizer
from plugnn.specs import TrainSpec


@attrs.define
class LoopState:
    """Where the train loop stands: everything besides parameters, optimizer and generators a resume needs.

    ``epoch`` counts from 1; ``position`` is how many samples of this epoch's ``order`` have been
    trained on, with ``loss_sum`` (batch losses times batch sizes), ``correct`` and ``seconds`` so
    far. A checkpoint stores one (:meth:`snapshot`) and :func:`fit` continues from it.
    """

    epoch: int = 1
    position: int = 0
    order: np.ndarray | None = None
    loss_sum: float = 0.0
    correct: int = 0
    seconds: float = 0.0
    history: History = attrs.field(factory=History)
    stop: bool = False
    stop_reason: str = ""
    lr_scale: float = 1.0
    callback_states: tuple[dict[str, np.ndarray], ...] = ()
    start_loss: float = float("nan")
    """The run's first batch loss, the reference of the divergence threshold (NaN before it)."""
    blas_threads: int | None = None
    """The BLAS's thread count the run trains with, chosen when it started and kept by every part of it
    (:func:`plugnn.threads.kept_blas_threads`); None before it starts, and in files of plugnn 0.2."""

    def snapshot(self) -> LoopState:
        """This state alone (a :class:`TrainContext` without the objects being trained)."""
        return LoopState(**{field.name: getattr(self, field.name) for field in attrs.fields(LoopState)})

    def next_epoch(self) -> LoopState:
        """The state at the start of the next epoch, once this one is finished and recorded."""
        return attrs.evolve(
            self.snapshot(), epoch=self.epoch + 1, position=0, order=None, loss_sum=0.0, correct=0, seconds=0.0
        )


@attrs.define(kw_only=True, eq=False)
class TrainState(LoopState):
    """A :class:`LoopState` with the optimizer, generators and train spec it goes on with.

    What continuing to train a network needs besides its weights: :func:`train` leaves the state
    its loop ended with in ``network.train_state`` (the start of the next epoch, the callbacks'
    states and ``lr_scale`` included), :func:`plugnn.save` stores it with the model and
    ``train(..., start_from=model)`` continues from it. ``optimizer`` holds its state (Adam's moments
    and step count), ``rng`` is the shuffling generator where the last epoch left it,
    ``augment_rng`` the augmentations' (:mod:`plugnn.augmentation`), ``spec`` the
    train spec the epochs so far ran with (its ``epochs`` counts them all) and ``history`` their
    records. The live :class:`TrainContext` is one too.
    """

    optimizer: Optimizer
    rng: np.random.Generator
    augment_rng: np.random.Generator
    spec: TrainSpec

    @property
    def epochs(self) -> int:
        """How many epochs the network has been trained for."""
        return len(self.history.records)

    @classmethod
    def of(
        cls,
        loop: LoopState,
        *,
        optimizer: Optimizer,
        rng: np.random.Generator,
        augment_rng: np.random.Generator,
        spec: TrainSpec,
    ) -> TrainState:
        """``loop`` with the optimizer, generators and spec that go on from it."""
        fields = {field.name: getattr(loop, field.name) for field in attrs.fields(LoopState)}
        return TrainState(**fields, optimizer=optimizer, rng=rng, augment_rng=augment_rng, spec=spec)
