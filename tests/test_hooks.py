"""Every hook, exercised by a plugin object: registrations land in the registry, events fire in order."""

from __future__ import annotations

import math

import attrs
import numpy as np
from plugnn_std import Dense

import plugnn
from plugnn.specs import DatasetSpec, ScheduleSpec


@attrs.frozen
class Half(ScheduleSpec):
    pass


@attrs.frozen
class Tiny(DatasetSpec):
    pass


class Everything:
    """Registers one of each kind under test names and records every training event."""

    def __init__(self, recipe_path):
        self.recipe_path = recipe_path
        self.events = []

    @plugnn.hookimpl
    def plugnn_register_layers(self, register):
        register("t_relu", attrs.frozen(type("TRelu", (plugnn.LayerSpec,), {})), object)

    @plugnn.hookimpl
    def plugnn_register_losses(self, register):
        register("t_loss", attrs.frozen(type("TLoss", (plugnn.LossSpec,), {})), object)

    @plugnn.hookimpl
    def plugnn_register_optimizers(self, register):
        register("t_opt", attrs.frozen(type("TOpt", (plugnn.OptimizerSpec,), {})), object)

    @plugnn.hookimpl
    def plugnn_register_initializers(self, register):
        register("t_init", attrs.frozen(type("TInit", (plugnn.InitializerSpec,), {})), object)

    @plugnn.hookimpl
    def plugnn_register_datasets(self, register):
        register("t_data", Tiny, object)

    @plugnn.hookimpl
    def plugnn_register_schedules(self, register):
        register("t_half", Half, lambda spec: lambda epoch, epochs: 0.5)

    @plugnn.hookimpl
    def plugnn_register_recipes(self, register):
        register("t_recipe", self.recipe_path)

    @plugnn.hookimpl
    def plugnn_train_start(self, context):
        self.events.append(("start", context.epoch))

    @plugnn.hookimpl
    def plugnn_batch_end(self, context):
        assert math.isfinite(context.batch_loss)
        self.events.append(("batch", context.epoch, context.batch))

    @plugnn.hookimpl
    def plugnn_epoch_end(self, context):
        self.events.append(("epoch", context.epoch, len(context.history.records)))

    @plugnn.hookimpl
    def plugnn_train_end(self, context):
        self.events.append(("end", context.epoch))


def test_every_registration_hook_lands_in_the_registry(tmp_path) -> None:
    plugin = Everything(tmp_path / "r.toml")
    registry = plugnn.load_registry(strict=True, third_party=False, extra_plugins=[plugin])
    for kind, name in [
        ("layer", "t_relu"),
        ("loss", "t_loss"),
        ("optimizer", "t_opt"),
        ("initializer", "t_init"),
        ("dataset", "t_data"),
        ("schedule", "t_half"),
    ]:
        assert registry.tables[kind].get(name).plugin == "Everything"
    assert registry.recipe("t_recipe").path == tmp_path / "r.toml"


def test_training_events_fire_in_order(tmp_path) -> None:
    plugin = Everything(tmp_path / "r.toml")
    registry = plugnn.load_registry(strict=True, third_party=False, extra_plugins=[plugin])
    spec = plugnn.NetworkSpec(layers=[Dense(2)], loss="softmax_cross_entropy", optimizer="sgd", init="he")
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    result = plugnn.train(
        spec,
        x,
        np.array([0, 1, 0, 1, 1]),
        plugnn.TrainSpec(epochs=2, batch_size=2, schedule="t_half"),
        registry=registry,
    )
    assert plugin.events == [
        ("start", 1),
        ("batch", 1, 0),
        ("batch", 1, 1),
        ("batch", 1, 2),
        ("epoch", 1, 1),
        ("batch", 2, 0),
        ("batch", 2, 1),
        ("batch", 2, 2),
        ("epoch", 2, 2),
        ("end", 2),
    ]
    assert result.optimizer.lr == 0.01 * 0.5
