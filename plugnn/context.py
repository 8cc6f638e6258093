"""What a training-event hook receives: the :class:`TrainContext` protocol, the live state of one run.

Hooks (``plugnn_train_start``, ``plugnn_batch_end``, ``plugnn_epoch_end``, ``plugnn_train_end``) and
callbacks receive the loop's context, :class:`plugnn.train.TrainContext`, which implements this
protocol; plugin code annotates with ``plugnn.TrainContext``. This module sits below the train loop
and the hook specifications (it imports only what the protocol names), so neither imports the other
for the type.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from plugnn.history import History
    from plugnn.network import Network
    from plugnn.protocols import Callback, Optimizer
    from plugnn.registry import Registry
    from plugnn.specs import TrainSpec


@runtime_checkable
class TrainContext(Protocol):
    """The live state of one run, as its training-event hooks see it.

    Read
    ----
    network, optimizer : Network, Optimizer
        What is trained; ``network.params`` is one flat array of every parameter.
    spec : TrainSpec
        The run's train spec (``spec.epochs`` counts every epoch of the run, a resumed one's too).
    registry : Registry
        The registry the run was built from (pass it on to :func:`plugnn.save`).
    folder : Path | None
        The run folder (``plugnn run``, :func:`plugnn.run`; ``fit(folder=...)``), or None when there is
        none (:func:`plugnn.train`). A hook writes its files here, and only here.
    history : History
        One record per finished epoch (``history.records[-1]`` is the last: ``epoch``, ``loss``,
        ``val_accuracy``, ...); a resumed run's history holds the epochs before the interruption too.
    epoch : int
        The current epoch, counted from 1.
    batch, n_batches, position : int
        The last batch's index in its epoch (from 0), the epoch's batch count, the samples trained on
        so far this epoch.
    batch_loss : float
        The last batch's loss (``plugnn_batch_end``).
    callbacks : list[Callback]
        The run's callbacks, in the spec's order.
    rng : numpy.random.Generator
        The shuffling generator; a hook must not draw from it (that would change the run).
    finished : bool
        True in ``plugnn_train_end`` when the loop ended normally (not interrupted, not diverged).

    Steer
    -----
    request_stop(reason)
        End training after this epoch; ``reason`` is printed and kept for ``--resume`` to report.
    lr_scale : float
        Multiplies the learning rate from the next epoch on (on top of the spec's rate and schedule).
    interrupted : bool
        Set it to end after the current batch, as Ctrl-C does (the checkpoint keeps the state).
    """

    network: Network
    optimizer: Optimizer
    spec: TrainSpec
    registry: Registry
    folder: Path | None
    history: History
    epoch: int
    batch: int
    n_batches: int
    position: int
    batch_loss: float
    callbacks: list[Callback]
    rng: np.random.Generator
    finished: bool
    stop: bool
    stop_reason: str
    lr_scale: float
    interrupted: bool

    def request_stop(self, reason: str) -> None:
        """End training after this epoch; ``reason`` is shown, and kept for ``plugnn run --resume`` to report."""
        ...
