"""The kinds of component, declared once.

A kind is what a plugin can register: layers, losses, optimizers, initializers, schedules,
datasets, callbacks and augmentations. Each is one :class:`Kind` entry in :data:`KINDS`; the registry's tables, the spec
serializer, the conformance kit and the docs' table of kinds are all derived from it. Adding a kind
is one entry here plus its registration hook in :mod:`plugnn.hookspecs`.
"""

from __future__ import annotations

from typing import Any

import attrs

from plugnn.errors import RegistryError
from plugnn.protocols import Augmentation, Callback, Dataset, Initializer, Layer, Loss, Optimizer, Schedule
from plugnn.specs import (
    AugmentationSpec,
    CallbackSpec,
    ComponentSpec,
    DatasetSpec,
    InitializerSpec,
    LayerSpec,
    LossSpec,
    OptimizerSpec,
    ScheduleSpec,
)


@attrs.frozen
class Kind:
    """One kind of component.

    Attributes
    ----------
    name : str
        Singular name, e.g. ``"layer"``: the key of its registry table, and the word error messages use.
    hook : str
        The registration hook plugins implement, ``hook(register)``.
    spec : type[ComponentSpec]
        The base class of its specs.
    factory : str
        What its factory is called with and returns, as plugin authors read it.
    protocol : type
        The protocol the factory's result follows (:mod:`plugnn.protocols`).
    checks : str | None
        The module of :mod:`plugnn.testing` with its own conformance checks (None: the spec checks only).
    """

    name: str
    hook: str
    spec: type[ComponentSpec]
    factory: str
    protocol: type
    checks: str | None

    @property
    def ref(self) -> Any:
        """The type of a spec field naming one: ``str | LayerSpec`` (a registered name or a spec)."""
        return str | self.spec


KINDS: tuple[Kind, ...] = (
    Kind(
        "layer", "plugnn_register_layers", LayerSpec, "factory(spec, input_shape, ctx) -> Layer", Layer, "layer_checks"
    ),
    Kind("loss", "plugnn_register_losses", LossSpec, "factory(spec) -> Loss", Loss, "loss_checks"),
    Kind(
        "optimizer",
        "plugnn_register_optimizers",
        OptimizerSpec,
        "factory(spec) -> Optimizer",
        Optimizer,
        "optimizer_checks",
    ),
    Kind(
        "initializer",
        "plugnn_register_initializers",
        InitializerSpec,
        "factory(spec) -> Initializer",
        Initializer,
        "initializer_checks",
    ),
    Kind(
        "schedule", "plugnn_register_schedules", ScheduleSpec, "factory(spec) -> Schedule", Schedule, "schedule_checks"
    ),
    # loading a dataset may need the network or a download; a dataset's own tests load it
    Kind("dataset", "plugnn_register_datasets", DatasetSpec, "factory(spec) -> Dataset", Dataset, None),
    Kind(
        "callback", "plugnn_register_callbacks", CallbackSpec, "factory(spec) -> Callback", Callback, "callback_checks"
    ),
    Kind(
        "augmentation",
        "plugnn_register_augmentations",
        AugmentationSpec,
        "factory(spec, sample_shape) -> Augmentation",
        Augmentation,
        "augmentation_checks",
    ),
)
"""Every kind of component, in the order listings show them."""


def kind(name: str) -> Kind:
    """The kind called ``name`` (``"layer"``, ...)."""
    for entry in KINDS:
        if entry.name == name:
            return entry
    raise RegistryError(f"unknown kind of component {name!r}; known: {', '.join(k.name for k in KINDS)}")


def kind_of(spec: object) -> Kind:
    """The kind whose spec base ``spec`` is an instance of."""
    for entry in KINDS:
        if isinstance(spec, entry.spec):
            return entry
    raise RegistryError(
        f"{type(spec).__qualname__} is not a component spec: derive it from one of "
        f"{', '.join(k.spec.__name__ for k in KINDS)}"
    )
