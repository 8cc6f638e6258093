"""The builder: a :class:`NetworkSpec` and a per-sample input shape become a runnable :class:`Network`.

Names are resolved through the registry, each layer is built for the previous layer's
``output_shape`` (nobody repeats a size by hand, and a shape that does not fit is reported before
any training), initial values come from one ``np.random.Generator`` and run-time noise (dropout)
from another.
"""

from __future__ import annotations

from typing import Any, TypeVar

import attrs
import numpy as np

from plugnn.errors import PlugnnError, ShapeError, SpecError
from plugnn.network import Network
from plugnn.protocols import Initializer, Layer, Loss, Optimizer, Schedule, Shape
from plugnn.registry import Component, Registry
from plugnn.shapes import as_shape, check_built
from plugnn.specs import ComponentSpec, InitializerRef, LayerRef, NetworkSpec

T = TypeVar("T")


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


def made(component: Component, result: object, protocol: type[T]) -> T:
    """``result`` of ``component``'s factory, checked against its kind's protocol (a clear error if not)."""
    if not isinstance(result, protocol):
        raise PlugnnError(
            f"{component.kind} {component.name!r} (plugin {component.plugin!r}): its factory returned "
            f"{type(result).__name__}, which is not a {protocol.__name__} (see plugnn.protocols.{protocol.__name__})"
        )
    return result


MAX_NESTING = 12
"""Most levels of layers inside layers (a block in a block in ...); deeper specs are refused. Each
level nests its spec file two levels deeper (a table and its list of layers), and spec files may
nest :data:`plugnn.readers.MAX_DEPTH` (32) levels: a network plugnn builds can always be saved and read."""


@attrs.frozen
class BuildContext:
    """What a layer factory gets besides its spec and input shape.

    Attributes
    ----------
    rng : numpy.random.Generator
        The only source of randomness for initial values.
    dtype : numpy.dtype
        The dtype of every parameter.
    default_init : Initializer
        The network's default initializer.
    registry : Registry
        To resolve a layer's own initializer and its child layers.
    noise : numpy.random.Generator
        The only source of run-time randomness (dropout masks), shared by all layers of a network
        and saved with its checkpoints.
    path : str
        Where the layer sits in the spec (``layers[3]``, ``layers[3].layers[0]``), for error messages.
    depth : int
        How many composite layers the layer sits in (0 at the top level); at most :data:`MAX_NESTING`.
    built : dict[str, str]
        Every layer built so far for this network, path to registered name (shared by all contexts
        of one build; the network's summary reads it).
    """

    rng: np.random.Generator
    dtype: np.dtype
    default_init: Initializer
    registry: Registry
    noise: np.random.Generator
    path: str = ""
    depth: int = 0
    built: dict[str, str] = attrs.field(factory=dict, eq=False, repr=False)

    def initializer(self, ref: InitializerRef | None) -> Initializer:
        """The initializer ``ref`` names, or the network default when ``ref`` is None."""
        if ref is None:
            return self.default_init
        component, spec = resolve(ref, "initializer", self.registry, f"{self.path}.init")
        return made(component, component.factory(spec), Initializer)

    def build(self, ref: LayerRef, input_shape: Shape, at: str) -> Layer:
        """Build a child layer: what a composite layer's factory calls for each layer its spec holds.

        ``ref`` is a layer spec or registered name from the parent's spec, ``input_shape`` the
        per-sample shape the child gets, and ``at`` the child's place in the parent's spec
        (``"layers[0]"``, ``"projection"``): its path becomes ``<parent path>.<at>``, which errors
        name and under which the network saves the child's buffers. The parent lists the child in
        its ``children`` dict under the same ``at`` (:mod:`plugnn.layertree`). The child draws from
        the same generators, dtype and default initializer as every other layer of the network.
        Raises :class:`ShapeError` (the child cannot take ``input_shape``), :class:`SpecError` (an
        unknown name, or nesting deeper than :data:`MAX_NESTING`) or :class:`PlugnnError`.
        """
        path = f"{self.path}.{at}" if self.path else at
        if self.depth >= MAX_NESTING:
            too_deep = f"layers nested more than {MAX_NESTING} deep (plugnn.builder.MAX_NESTING); flatten the spec"
            raise SpecError([(path, too_deep)])
        return build_layer(ref, input_shape, attrs.evolve(self, path=path, depth=self.depth + 1))


def build_layer(ref: LayerRef, input_shape: Shape, ctx: BuildContext) -> Layer:
    """Resolve ``ref`` and build it for ``input_shape`` at ``ctx.path``; errors name the path and the plugin."""
    component, layer_spec = resolve(ref, "layer", ctx.registry, ctx.path)
    where = f"{ctx.path} ({component.name})"
    try:
        layer = component.factory(layer_spec, input_shape, ctx)
    except ShapeError as exc:
        message = str(exc)
        raise ShapeError(message if message.startswith(ctx.path) else f"{where}: {message}") from None
    except PlugnnError:
        raise
    except Exception as exc:
        raise PlugnnError(
            f"{where}, from plugin {component.plugin!r}: building it for input shape {input_shape} failed with "
            f"{type(exc).__name__}: {exc} (plugnn 0.2 factories get input_shape, a tuple)"
        ) from exc
    check_built(layer, where, component.plugin)
    ctx.built[ctx.path] = component.name
    return made(component, layer, Layer)


def build_loss(ref: str | ComponentSpec, registry: Registry) -> Loss:
    """Instantiate the loss ``ref`` names."""
    component, spec = resolve(ref, "loss", registry, "loss")
    return made(component, component.factory(spec), Loss)


def build_optimizer(ref: str | ComponentSpec, registry: Registry) -> Optimizer:
    """Instantiate the optimizer ``ref`` names."""
    component, spec = resolve(ref, "optimizer", registry, "optimizer")
    return made(component, component.factory(spec), Optimizer)


def build_schedule(ref: str | ComponentSpec, registry: Registry) -> Schedule:
    """Instantiate the learning-rate schedule ``ref`` names."""
    component, spec = resolve(ref, "schedule", registry, "train.schedule")
    return made(component, component.factory(spec), Schedule)


def build_network(
    spec: NetworkSpec,
    input_shape: Shape | int,
    *,
    rng: np.random.Generator | int = 0,
    noise: np.random.Generator | int | None = None,
    dtype: str | np.dtype = "float32",
    registry: Registry,
) -> Network:
    """Assemble the network ``spec`` declares for samples of shape ``input_shape``.

    Each layer's factory gets the previous layer's ``output_shape``; a layer that cannot take it
    raises :class:`ShapeError`, reported as ``layers[3] (conv2d): got input shape (64,), needs ...``.
    The last layer must give flat logits ``(C,)``.

    Parameters
    ----------
    spec
        The network.
    input_shape
        The shape of one input sample: ``(D,)`` for inputs ``(N, D)``, ``(H, W, C)`` for
        channels-last images ``(N, H, W, C)``. An int ``D`` means ``(D,)``.
    rng
        A generator or a seed for the initial weights.
    noise
        A generator or a seed for run-time randomness (dropout); by default seeded from ``rng``.
    dtype
        Parameter dtype, float32 by default.
    registry
        Where names are looked up (:func:`plugnn.default_registry` for every installed plugin).
    """
    input_shape = as_shape(input_shape)
    generator = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    noise = generator.spawn(1)[0] if noise is None else np.random.default_rng(noise)
    dtype = np.dtype(dtype)
    loss_component, loss_spec = resolve(spec.loss, "loss", registry, "loss")
    loss = loss_component.factory(loss_spec)
    init_component, init_spec = resolve(spec.init, "initializer", registry, "init")
    default_init = made(init_component, init_component.factory(init_spec), Initializer)
    built: dict[str, str] = {}
    layers: list[Layer] = []
    shape = input_shape
    for index, ref in enumerate(spec.layers):
        ctx = BuildContext(generator, dtype, default_init, registry, noise, f"layers[{index}]", built=built)
        try:
            layer = build_layer(ref, shape, ctx)
        except ShapeError as exc:
            data = f" (the data's samples have shape {shape})" if index == 0 else ""
            raise ShapeError(f"{exc}{data}") from None
        shape = as_shape(layer.output_shape)
        layers.append(layer)
    if len(shape) != 1:
        raise ShapeError(
            f"layers[{len(layers) - 1}] ({built[f'layers[{len(layers) - 1}]']}): the network must end in flat "
            f"logits (C,), got output shape {shape}; end with a dense layer (it flattens its input)"
        )
    return Network(
        layers,
        loss,
        input_shape=input_shape,
        dtype=dtype,
        names=built,
        spec=spec,
        noise=noise,
        targets=type(loss_spec).targets,
    )
