"""The builder: a :class:`NetworkSpec` and an input width become a runnable :class:`Network`.

Names are resolved through the registry, each layer's input width is the previous layer's
``out_features`` (nobody repeats a size by hand), initial values come from one
``np.random.Generator`` and run-time noise (dropout) from another.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from plugnn.errors import PlugnnError, SpecError
from plugnn.network import Network
from plugnn.plugins import default_registry
from plugnn.protocols import Initializer, Loss, Optimizer, Schedule
from plugnn.registry import Component, Registry
from plugnn.specs import ComponentSpec, InitializerRef, NetworkSpec


def resolve(ref: str | ComponentSpec, kind: str, registry: Registry, path: str) -> tuple[Component, Any]:
    """The registered component behind ``ref`` and its spec (a bare name gets default settings)."""
    table = registry.tables[kind]
    try:
        if isinstance(ref, str):
            component = table.get(ref)
            try:
                return component, component.spec()
            except TypeError:
                required = [f.name for f in attrs.fields(component.spec) if f.default is attrs.NOTHING]
                raise SpecError(
                    [
                        (
                            path,
                            f"{kind} {ref!r} needs settings ({', '.join(required)}): "
                            f"write {{type = {ref!r}, {required[0]} = ...}} or {component.spec.__name__}(...)",
                        )
                    ]
                ) from None
        return table.get(table.name_of(type(ref))), ref
    except SpecError:
        raise
    except PlugnnError as exc:
        raise SpecError([(path, str(exc))]) from None


@attrs.frozen
class BuildContext:
    """What a layer factory gets besides its spec and input width.

    Attributes
    ----------
    rng : numpy.random.Generator
        The only source of randomness for initial values.
    dtype : numpy.dtype
        The dtype of every parameter.
    default_init : Initializer
        The network's default initializer.
    registry : Registry
        To resolve a layer's own initializer.
    noise : numpy.random.Generator
        The only source of run-time randomness (dropout masks), shared by all layers of a network
        and saved with its checkpoints.
    path : str
        Where the layer sits in the spec (``layers[3]``), for error messages.
    """

    rng: np.random.Generator
    dtype: np.dtype
    default_init: Initializer
    registry: Registry
    noise: np.random.Generator
    path: str = ""

    def initializer(self, ref: InitializerRef | None) -> Initializer:
        """The initializer ``ref`` names, or the network default when ``ref`` is None."""
        if ref is None:
            return self.default_init
        component, spec = resolve(ref, "initializer", self.registry, f"{self.path}.init")
        return component.factory(spec)


def build_loss(ref: str | ComponentSpec, registry: Registry | None = None) -> Loss:
    """Instantiate the loss ``ref`` names."""
    component, spec = resolve(ref, "loss", registry or default_registry(), "loss")
    return component.factory(spec)


def build_optimizer(ref: str | ComponentSpec, registry: Registry | None = None) -> Optimizer:
    """Instantiate the optimizer ``ref`` names."""
    component, spec = resolve(ref, "optimizer", registry or default_registry(), "optimizer")
    return component.factory(spec)


def build_schedule(ref: str | ComponentSpec, registry: Registry | None = None) -> Schedule:
    """Instantiate the learning-rate schedule ``ref`` names."""
    component, spec = resolve(ref, "schedule", registry or default_registry(), "train.schedule")
    return component.factory(spec)


def build_network(
    spec: NetworkSpec,
    in_features: int,
    *,
    rng: np.random.Generator | int = 0,
    noise: np.random.Generator | int | None = None,
    dtype: str | np.dtype = "float32",
    registry: Registry | None = None,
) -> Network:
    """Assemble the network ``spec`` declares for inputs of width ``in_features``.

    Parameters
    ----------
    spec
        The network.
    in_features
        Width ``D`` of the inputs ``(N, D)``.
    rng
        A generator or a seed for the initial weights.
    noise
        A generator or a seed for run-time randomness (dropout); by default seeded from ``rng``.
    dtype
        Parameter dtype, float32 by default.
    registry
        Where names are looked up; the default registry when omitted.
    """
    registry = registry or default_registry()
    if not isinstance(in_features, (int, np.integer)) or in_features < 1:
        raise SpecError([("in_features", f"must be a positive integer (got {in_features!r})")])
    generator = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    noise = generator.spawn(1)[0] if noise is None else np.random.default_rng(noise)
    dtype = np.dtype(dtype)
    loss = build_loss(spec.loss, registry)
    init_component, init_spec = resolve(spec.init, "initializer", registry, "init")
    resolved = [resolve(ref, "layer", registry, f"layers[{i}]") for i, ref in enumerate(spec.layers)]

    layers = []
    width = int(in_features)
    for index, (component, layer_spec) in enumerate(resolved):
        ctx = BuildContext(generator, dtype, init_component.factory(init_spec), registry, noise, f"layers[{index}]")
        layer = component.factory(layer_spec, width, ctx)
        layers.append(layer)
        width = layer.out_features
    names = [component.name for component, _ in resolved]
    return Network(layers, loss, in_features=int(in_features), dtype=dtype, names=names, spec=spec, noise=noise)
