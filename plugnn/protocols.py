r"""The component protocols, one per kind of component (:mod:`plugnn.kinds`). The core programs against
these and knows no implementation.

Shapes are row-major batches: inputs ``(N, *sample_shape)`` (``(N, D)`` or channels-last images
``(N, H, W, C)``), logits ``(N, C)``, labels ``(N,)`` integers.
Every array a component returns has the dtype of its input (float32 unless asked otherwise).

Runtime split
-------------
* a :class:`Layer` computes its output and, given the upstream gradient, its gradients;
* an :class:`Optimizer` alone changes parameters;
* a :class:`Loss` turns logits and labels into a value and its gradient;
* an :class:`Initializer` fills a new parameter array;
* a :class:`Schedule` scales the learning rate from epoch to epoch;
* a :class:`Dataset` loads a fixed train/test split;
* an :class:`Augmentation` randomly transforms training batches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from plugnn.arrays import Array, Labels, Shape
from plugnn.datasplit import DataSplit

if TYPE_CHECKING:
    from plugnn.specs import LayerRef

__all__ = [  # the array types and DataSplit are re-exported: plugins import them from here
    "Array",
    "Callback",
    "DataSplit",
    "Dataset",
    "Initializer",
    "Labels",
    "Layer",
    "LayerBuilder",
    "LearningRateSpec",
    "Loss",
    "Optimizer",
    "Schedule",
    "Shape",
]


@runtime_checkable
class Layer(Protocol):
    r"""One differentiable step of a network: ``(N, *input_shape) -> (N, *output_shape)``.

    A layer is built by its factory, ``factory(spec, input_shape, ctx)``, for one per-sample
    ``input_shape`` (a tuple, e.g. ``(784,)`` or ``(28, 28, 1)``; images are channels-last
    ``(H, W, C)``). A factory that cannot take that shape raises :class:`plugnn.ShapeError`.

    Attributes
    ----------
    output_shape : tuple[int, ...]
        The shape of one output sample; the builder feeds it to the next layer as its input shape.
    params : dict[str, Array]
        Trainable parameters by name (empty for a parameter-free layer). The network may replace
        each entry with a view into one flat buffer, so a layer must always read its parameters
        through this dict and never keep another reference to them.
    grads : dict[str, Array]
        The gradient of the loss with respect to each parameter; same keys, shapes and dtypes as
        ``params``. :meth:`backward` overwrites it (never accumulates) and the same rule about
        views applies.
    buffers : dict[str, Array]
        State that is not trained (running mean and variance, counters), arrays of the network's
        dtype; empty for most layers. Saved in model files and checkpoints beside the parameters
        and restored bit for bit by copying into these arrays in place, so a layer reads and writes
        its buffers through this dict (``self.buffers["mean"][...] = ...``), never rebinding them.
        Only training-mode forward passes may change them.

    A layer that needs run-time randomness (dropout) draws it from the ``noise`` generator of its
    :class:`plugnn.BuildContext` only, so that a seed and a checkpoint fix it.
    """

    output_shape: Shape
    params: dict[str, Array]
    grads: dict[str, Array]
    buffers: dict[str, Array]

    def forward(self, x: Array, *, training: bool = False) -> Array:
        r"""Compute ``Y = f(X)`` for ``x`` of shape ``(N, *input_shape)``; returns ``(N, *output_shape)``.

        Keeps what :meth:`backward` needs. ``training`` is True only inside the train loop (dropout
        draws masks, batch norm uses and updates batch statistics); evaluation and prediction run in
        inference mode, which must leave ``buffers`` unchanged.
        """
        ...

    def backward(self, grad_out: Array, *, input_grad: bool = True) -> Array | None:
        r"""Given :math:`G = \partial L / \partial Y` of shape ``(N, *output_shape)``, fill ``grads``.

        Returns :math:`\partial L / \partial X` of shape ``(N, *input_shape)``, or ``None`` when
        ``input_grad`` is False (the network asks for none below its first layer). May reuse
        ``grad_out``'s memory. Valid only after a :meth:`forward` on the same batch.
        """
        ...


class LayerBuilder(Protocol):
    """What a composite layer's factory needs of its build context (:class:`plugnn.BuildContext` is one)."""

    def build(self, ref: LayerRef, input_shape: Shape, at: str) -> Layer:
        """Build the child layer ``ref`` for ``input_shape``, at ``at`` in the parent's spec."""
        ...


@runtime_checkable
class Loss(Protocol):
    r"""A scalar objective of logits ``Z`` ``(N, C)`` and integer labels ``y`` ``(N,)`` — or, when its
    spec declares ``targets = "values"`` (:class:`plugnn.LossSpec`), real targets ``(N, C)``."""

    def __call__(self, logits: Array, labels: Labels) -> tuple[float, Array]:
        r"""Return the mean loss over the batch and :math:`\partial L / \partial Z`, shape ``(N, C)``."""
        ...


class LearningRateSpec(Protocol):
    """An optimizer's spec as the train loop sees it: it holds the base learning rate."""

    @property
    def lr(self) -> float: ...


@runtime_checkable
class Optimizer(Protocol):
    r"""Updates parameters in place from their gradients.

    ``params`` and ``grads`` are parallel sequences of arrays; the i-th gradient belongs to the
    i-th parameter, and the optimizer keeps separate state for each index. The network usually
    passes one flat buffer of all parameters, so element-wise optimizers update everything in one
    pass.

    Attributes
    ----------
    spec : LearningRateSpec
        The spec the optimizer was built from; ``spec.lr`` is the base learning rate, read only.
    lr : float
        The learning rate of the next steps. It starts at ``spec.lr``; the train loop sets it to
        ``spec.lr * schedule(epoch, epochs)`` before every epoch. The optimizer reads it and never
        writes it.
    """

    @property
    def spec(self) -> LearningRateSpec: ...

    lr: float

    def step(self, params: Sequence[Array], grads: Sequence[Array]) -> None:
        """Apply one update to every parameter, in place."""
        ...

    def state_dict(self) -> dict[str, np.ndarray]:
        """Export the full state (step count, moments, ...) as named arrays; no objects, no pickle."""
        ...

    def load_state_dict(self, state: Mapping[str, np.ndarray]) -> None:
        """Restore a state exported by :meth:`state_dict`; the next step continues exactly.

        Before a saved state reaches this method, plugnn checks it against the state a new optimizer
        of the same spec exports after one step on the same parameters (names, shapes, dtypes, finite
        floats; :mod:`plugnn.optimizer_state`), so the state's layout must not change after that step.
        """
        ...


@runtime_checkable
class Initializer(Protocol):
    r"""Draws the initial value of a parameter array."""

    def __call__(
        self,
        shape: tuple[int, ...],
        *,
        fan_in: int,
        fan_out: int,
        rng: np.random.Generator,
        dtype: np.dtype,
    ) -> Array:
        """Return a new array of ``shape`` and ``dtype``, drawn from ``rng`` only."""
        ...

    def variance(self, fan_in: int, fan_out: int) -> float:
        """The variance each drawn value has (the conformance kit checks draws against it)."""
        ...


@runtime_checkable
class Schedule(Protocol):
    r"""A learning-rate schedule: the factor on the optimizer's initial learning rate per epoch."""

    def __call__(self, epoch: int, epochs: int) -> float:
        """The factor for ``epoch`` (counted from 0) of ``epochs``; the loop sets ``lr = lr_0 * factor``."""
        ...


@runtime_checkable
class Dataset(Protocol):
    """A source of a :class:`plugnn.DataSplit`; ``load`` raises :class:`plugnn.DataError` when unavailable."""

    def load(self) -> DataSplit:
        """Read (or download and cache) the data and return its fixed train/test split."""
        ...


@runtime_checkable
class Callback(Protocol):
    """A training-event plugin built from a spec (``train.callbacks``), whose state a checkpoint keeps.

    Besides the methods below it implements any of the training-event hooks
    (``plugnn_epoch_end(self, context)``, ...) with ``@plugnn.hookimpl``; it steers training through
    the context (``context.request_stop(reason)``, ``context.lr_scale``).
    """

    monitors: tuple[str, ...]
    """The history columns it reads; a column the run does not record is refused before training."""

    def state_dict(self) -> dict[str, np.ndarray]:
        """Its state as named arrays (scalars as 0-d arrays), for the checkpoint; no objects."""
        ...

    def load_state_dict(self, state: Mapping[str, np.ndarray]) -> None:
        """Continue from a :meth:`state_dict`, so that a resumed run goes on exactly."""
        ...


@runtime_checkable
class Augmentation(Protocol):
    r"""A random transformation of training batches: ``(N, *sample_shape) -> (N, *sample_shape)``.

    Built by ``factory(spec, sample_shape)`` for the shape of one training sample (``(H, W, C)``
    for channels-last images, ``(D,)`` for flat features); a factory that cannot take that shape,
    or whose settings do not fit it, raises :class:`plugnn.ShapeError` (or a
    :class:`plugnn.errors.FieldError` naming the setting) before any training. The train loop calls
    it on every training batch, after the batch is gathered, in the order ``train.augment`` lists;
    validation, test and evaluation data are never augmented.
    """

    def __call__(self, x: Array, rng: np.random.Generator) -> Array:
        """Return the augmented batch: ``x``'s shape and dtype, new values drawn from ``rng`` only.

        ``x`` ``(N, *sample_shape)`` is read only (it may be the dataset's own array). The result
        may be a buffer the augmentation reuses, valid until its next call.
        """
        ...
