"""Typed, frozen specs: what a network and its training are, as plain data.

Component specs (``Dense(units=100)``, ``Adam(lr=1e-3)``) are attrs classes that plugins define by
subclassing one of the bases below. Wherever a spec is expected, a registered name stands for
that component with default settings: ``"relu"`` is ``ReLU()``.

Specs validate on construction; :mod:`plugnn.serialize` turns them into plain dicts (and TOML/JSON)
and back, with error paths such as ``layers[2].units: must be > 0 (got 0)``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, Self, TypeAlias

import attrs
import numpy as np
import numpy.typing as npt

from plugnn import validators as v
from plugnn.errors import FieldError

Float64Array: TypeAlias = npt.NDArray[np.float64]


class ComponentSpec:
    """Base of every component spec. Subclasses are ``@attrs.frozen`` classes of hyper-parameters."""

    @classmethod
    def examples(cls) -> list[Self]:
        """Valid instances the conformance kit (:mod:`plugnn.testing`) checks the component with.

        The default is ``[cls()]``; override it when a field has no default (``Dense`` needs units)
        or when other settings take other code paths.
        """
        return [cls()]

    @classmethod
    def invalid_examples(cls) -> list[dict[str, Any]]:
        """Settings its validators must reject, e.g. ``[{"units": 0}]``; checked by the conformance kit."""
        return []

    @classmethod
    def not_applicable(cls) -> dict[str, str]:
        """Conformance checks that do not apply to this component, by check name, with the reason.

        E.g. ``{"batch_independence": "batch statistics in inference mode are the point"}``; the
        conformance kit reports each as a skipped case showing the reason. Empty by default.
        """
        return {}


class LayerSpec(ComponentSpec):
    """Base of layer specs."""

    @classmethod
    def example_input_shapes(cls) -> list[tuple[int, ...]]:
        """Per-sample input shapes the conformance kit builds and checks the layer with.

        The default is two flat shapes, ``(5,)`` and ``(3,)``; an image layer returns shapes such
        as ``[(5, 4, 2), (6, 6, 1)]`` (channels-last ``(H, W, C)``, small: gradients are checked by
        finite differences over every input value).
        """
        return [(5,), (3,)]

    @classmethod
    def invalid_input_shapes(cls) -> list[tuple[int, ...]]:
        """Input shapes the layer cannot take, e.g. ``[(64,)]`` for a layer that needs ``(H, W, C)``.

        The conformance kit checks that building the layer for each raises :class:`plugnn.ShapeError`
        (one line naming the shape), not a numpy error. Empty by default: the check is not made.
        """
        return []


class LossSpec(ComponentSpec):
    """Base of loss specs.

    ``targets`` says what the loss compares the network's outputs ``(N, C)`` with, and so what task
    the network learns: ``"labels"`` (integer class indices ``(N,)``: a classifier, the default) or
    ``"values"`` (real targets ``(N, C)``, or ``(N,)`` when C = 1: a regressor). Data checks,
    metrics, predictions and plots follow it; nothing is guessed from the data.
    """

    targets: ClassVar[Literal["labels", "values"]] = "labels"


class OptimizerSpec(ComponentSpec):
    """Base of optimizer specs."""

    def reference_step(
        self, param: Float64Array, grad: Float64Array, state: dict[str, Float64Array], *, lr: float, t: int
    ) -> tuple[Float64Array, dict[str, Float64Array]]:
        """The optimizer's update of one parameter as its paper writes it, in plain numpy (float64).

        Given the parameter ``w`` and its gradient ``g`` (any shape, the same), the per-parameter
        ``state`` this function returned at the previous step (``{}`` at the first), the current
        learning rate ``lr`` and the step count ``t`` (from 1), return the new ``w`` and the new
        state; change none of the arguments. Written for clarity, not speed: SGD's is
        ``return param - lr * grad, {}``. The conformance kit's ``reference_step`` check runs the
        optimizer beside it over many steps (random gradients, a changing ``lr``, two parameters)
        and fails at the first step where they differ. Not declared by default: the check is then
        skipped, naming this method.
        """
        raise NotImplementedError(f"{type(self).__name__} declares no reference_step")


class InitializerSpec(ComponentSpec):
    """Base of initializer specs."""


class DatasetSpec(ComponentSpec):
    """Base of dataset specs."""


class ScheduleSpec(ComponentSpec):
    """Base of learning-rate schedule specs."""


class CallbackSpec(ComponentSpec):
    """Base of callback specs (early stopping, learning-rate reduction, ...)."""


class AugmentationSpec(ComponentSpec):
    """Base of data-augmentation specs (random shifts, flips, ...: ``train.augment``)."""

    @classmethod
    def example_input_shapes(cls) -> list[tuple[int, ...]]:
        """Per-sample shapes the conformance kit checks the augmentation on.

        The default is two small channels-last images, ``(6, 5, 2)`` and ``(7, 7, 1)``; an
        augmentation that also takes flat features adds a shape such as ``(5,)``.
        """
        return [(6, 5, 2), (7, 7, 1)]

    @classmethod
    def invalid_input_shapes(cls) -> list[tuple[int, ...]]:
        """Sample shapes the augmentation refuses, e.g. ``[(64,)]`` for one that needs ``(H, W, C)`` images.

        The conformance kit checks that building it for each raises :class:`plugnn.ShapeError`
        naming the shape. Empty by default: the check is not made.
        """
        return []


LayerRef: TypeAlias = str | LayerSpec
LossRef: TypeAlias = str | LossSpec
OptimizerRef: TypeAlias = str | OptimizerSpec
InitializerRef: TypeAlias = str | InitializerSpec
DatasetRef: TypeAlias = str | DatasetSpec
ScheduleRef: TypeAlias = str | ScheduleSpec
CallbackRef: TypeAlias = str | CallbackSpec
AugmentationRef: TypeAlias = str | AugmentationSpec


def component_ref(base: type, *, optional: bool = False) -> v.Validator:
    """Validator for a field holding a component spec of ``base`` or a registered name (or None)."""

    def check(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None and optional:
            return
        if isinstance(value, str):
            if not value:
                raise FieldError(attribute.name, "a component name must not be empty")
        elif not isinstance(value, base):
            raise FieldError(
                attribute.name,
                f"expected a {base.__name__} or a registered name, got {type(value).__name__} {value!r}",
            )

    return check


def component_refs(base: type, *, at_least_one: str | None = None) -> v.Validator:
    """Validator for a tuple of specs of ``base`` or registered names; ``at_least_one``: the message if empty."""
    check = component_ref(base)

    def check_all(_instance: Any, attribute: attrs.Attribute[Any], value: tuple[Any, ...]) -> None:
        if not value and at_least_one:
            raise FieldError(attribute.name, at_least_one)
        for index, item in enumerate(value):
            try:
                check(_instance, attribute, item)
            except FieldError as exc:
                raise FieldError(f"{attribute.name}[{index}]", exc.message) from None

    return check_all


@attrs.frozen
class NetworkSpec:
    """A network: its layers in order, the loss, the optimizer and the default initializer.

    Parameters
    ----------
    layers
        Layer specs or registered names, input to output. Input widths are inferred.
    loss
        The loss on the last layer's output (logits), e.g. ``"softmax_cross_entropy"``.
    optimizer
        The optimizer spec or name, e.g. ``Adam(lr=1e-3)``.
    init
        The initializer for every weight whose layer does not name its own.
    """

    layers: tuple[LayerRef, ...] = attrs.field(
        converter=tuple, validator=component_refs(LayerSpec, at_least_one="a network needs at least one layer")
    )
    loss: LossRef = attrs.field(validator=component_ref(LossSpec))
    optimizer: OptimizerRef = attrs.field(validator=component_ref(OptimizerSpec))
    init: InitializerRef = attrs.field(validator=component_ref(InitializerSpec))


@attrs.frozen
class TrainSpec:
    """How to train: epochs, minibatch size, shuffling, seed and floating-point dtype.

    ``seed`` fixes everything random (initial weights, shuffling, dropout): the same spec and data
    give bit-identical weights and history. ``full_train_accuracy`` measures train accuracy with a
    full pass over the training set after each epoch instead of from the epoch's own minibatches
    (exact, but costs about a third of an epoch). ``schedule`` names a learning-rate schedule that
    scales the optimizer's learning rate at the start of every epoch (none: constant).
    ``checkpoint_every`` is how often (in epochs) a run writes its checkpoint; 0 only on Ctrl-C.
    ``threads`` caps the threads training uses (BLAS and plugnn's own); unset, an enclosing budget,
    ``PLUGNN_THREADS`` or the free cores when the run starts decide (see :mod:`plugnn.threads`).
    plugnn's own threaded work gives the same bits for any count; some BLAS builds' products do not
    (docs/performance.md), so the BLAS's count is chosen once, when a run starts, recorded in its
    checkpoints and model file, and kept by ``plugnn run --resume``, ``--from`` and
    ``train(start_from=...)`` whatever the load then: a run's results do not depend on the load it
    meets. Two runs that started with different counts may differ in the last bits, so give the count
    for runs that must repeat each other bit for bit. ``threads`` given to a run that goes on, other
    than the count it started with, is used, with a warning that the results may then differ in the
    last bits.
    ``validation`` holds out that fraction of the training data (seeded by ``seed``, stratified by
    class) and records ``val_loss`` and ``val_accuracy`` after each epoch; without it a dataset's
    own validation split, if it has one, is used. ``callbacks`` are run in order after every epoch
    (``[[train.callbacks]]`` tables in TOML): early stopping, learning-rate reduction, ...; their
    state goes into the checkpoint. ``augment`` lists data augmentations (``[[train.augment]]``
    tables in TOML, e.g. ``{type = "random_shift", pixels = 2}``) applied in order to every training
    batch, never to validation, test or evaluation data; they draw from a generator of their own,
    seeded by ``seed`` (adding one changes neither the initial weights nor the shuffling) and kept
    in checkpoints and model files.

    ``epochs`` is at most :data:`plugnn.validators.MAX_EPOCHS` (10⁶) and ``batch_size`` at most
    :data:`plugnn.validators.MAX_BATCH_SIZE` (2²⁴); a ``batch_size`` above the number of training
    samples trains one batch of all of them per epoch, with a warning.
    """

    epochs: int = attrs.field(
        default=10,
        validator=[
            v.integer,
            v.positive,
            v.at_most(
                v.MAX_EPOCHS, "plugnn.validators.MAX_EPOCHS; to train until it stops improving, use early_stopping"
            ),
        ],
    )
    batch_size: int = attrs.field(
        default=128, validator=[v.integer, v.positive, v.at_most(v.MAX_BATCH_SIZE, "plugnn.validators.MAX_BATCH_SIZE")]
    )
    shuffle: bool = attrs.field(default=True, validator=v.boolean)
    seed: int = attrs.field(default=0, validator=[v.integer, v.non_negative])
    dtype: str = attrs.field(default="float32", validator=v.one_of(("float32", "float64")))
    full_train_accuracy: bool = attrs.field(default=False, validator=v.boolean)
    schedule: ScheduleRef | None = attrs.field(default=None, validator=component_ref(ScheduleSpec, optional=True))
    checkpoint_every: int = attrs.field(default=1, validator=[v.integer, v.non_negative])
    threads: int | None = attrs.field(default=None, validator=attrs.validators.optional([v.integer, v.positive]))
    validation: float | None = attrs.field(default=None, validator=attrs.validators.optional(v.fraction))
    callbacks: tuple[CallbackRef, ...] = attrs.field(
        default=(), converter=tuple, validator=component_refs(CallbackSpec)
    )
    augment: tuple[AugmentationRef, ...] = attrs.field(
        default=(), converter=tuple, validator=component_refs(AugmentationSpec)
    )


@attrs.frozen
class RunSpec:
    """Everything one training run needs: the data, the network and how to train it.

    This is what a recipe or a spec file holds, and what a run folder's ``spec.toml`` records.
    """

    data: DatasetRef = attrs.field(validator=component_ref(DatasetSpec))
    network: NetworkSpec = attrs.field(validator=attrs.validators.instance_of(NetworkSpec))
    train: TrainSpec = attrs.field(factory=TrainSpec, validator=attrs.validators.instance_of(TrainSpec))
    description: str = ""
