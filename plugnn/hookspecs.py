"""The hooks a plugnn plugin can implement. Each is documented with when it runs and what it means.

There is one registration hook per kind of component (:data:`plugnn.kinds.KINDS` names it), plus one
for recipes. Registration hooks receive a ``register`` callback instead of returning values (as ``llm`` does):
plugnn then sees every registration in one place, names both plugins when two claim a name, and
pluggy's last-registered-first result order does not matter. They run once, when a
:class:`plugnn.Registry` is built.

Training-event hooks receive the live run's context, a :class:`plugnn.TrainContext` (the protocol of
:mod:`plugnn.context`); their return values are ignored. ``context.request_stop(reason)`` ends
training after the current epoch.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from plugnn.context import TrainContext
    from plugnn.registry import Register

PROJECT = "plugnn"
"""pluggy's project name: the prefix of every hook, and the marker's name."""
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def plugnn_register_layers(register: Register) -> None:
    """Register layers: ``register(name, SpecClass, factory)``, ``factory(spec, input_shape, ctx) -> Layer``."""


@hookspec
def plugnn_register_losses(register: Register) -> None:
    """Register losses: ``register(name, SpecClass, factory)``, ``factory(spec) -> Loss``."""


@hookspec
def plugnn_register_optimizers(register: Register) -> None:
    """Register optimizers: ``register(name, SpecClass, factory)``, ``factory(spec) -> Optimizer``."""


@hookspec
def plugnn_register_initializers(register: Register) -> None:
    """Register initializers: ``register(name, SpecClass, factory)``, ``factory(spec) -> Initializer``."""


@hookspec
def plugnn_register_datasets(register: Register) -> None:
    """Register datasets: ``register(name, SpecClass, factory)``, ``factory(spec) -> Dataset``."""


@hookspec
def plugnn_register_schedules(register: Register) -> None:
    """Register learning-rate schedules: ``register(name, SpecClass, factory)``, ``factory(spec) -> Schedule``."""


@hookspec
def plugnn_register_callbacks(register: Register) -> None:
    """Register callbacks: ``register(name, SpecClass, factory)``, ``factory(spec) -> Callback``."""


@hookspec
def plugnn_register_augmentations(register: Register) -> None:
    """Register data augmentations: ``register(name, SpecClass, factory)``,
    ``factory(spec, sample_shape) -> Augmentation``."""


@hookspec
def plugnn_register_recipes(register: Callable[[str, Path], None]) -> None:
    """Register bundled recipes: ``register(name, path_to_toml)``; ``plugnn recipes`` lists them."""


@hookspec
def plugnn_register_onnx_converters(register: Callable[[str, Callable[..., str]], None]) -> None:
    """Register ONNX converters: ``register(layer_name, converter)``, ``converter(layer, spec, x, graph) -> y``
    (:mod:`plugnn.export`); ``plugnn export`` needs one for every layer of a model."""


@hookspec
def plugnn_train_start(context: TrainContext) -> None:
    """Called once before the first epoch, after the network and optimizer are ready."""


@hookspec
def plugnn_batch_end(context: TrainContext) -> None:
    """Called after every optimizer step; ``context.batch_loss`` holds that batch's loss. Keep it cheap."""


@hookspec
def plugnn_epoch_end(context: TrainContext) -> None:
    """Called after each epoch, once its record is appended to ``context.history``."""


@hookspec
def plugnn_train_end(context: TrainContext) -> None:
    """Called once after the last epoch (or after a hook stopped training)."""
