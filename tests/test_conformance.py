"""Every registered layer and loss is gradient-checked; a new plugin is checked automatically."""

from __future__ import annotations

import attrs
import numpy as np
import pytest
from buffered_layer import Center, CenterLayer, CenterPlugin, registry_with

import plugnn
from plugnn.testing import ConformanceError, iter_checks, parametrize_with_checks


@parametrize_with_checks(plugnn.load_registry(strict=True))
def test_registered_components_conform(check) -> None:
    check()


def test_every_layer_and_loss_has_a_gradient_check(registry) -> None:
    checked = {(c.component.kind, c.component.name) for c in iter_checks(registry) if c.name.startswith("gradients")}
    expected = {(c.kind, c.name) for c in registry.components() if c.kind in ("layer", "loss")}
    assert expected and checked == expected


@attrs.frozen
class Broken(plugnn.LayerSpec):
    """Y = 2X, but claims dX = G."""


class BrokenLayer:
    def __init__(self, spec, input_shape, ctx):
        self.output_shape, self.params, self.grads, self.buffers = input_shape, {}, {}, {}

    def forward(self, x, *, training=False):
        return 2 * x

    def backward(self, grad_out, *, input_grad=True):
        return grad_out


class BrokenPlugin:
    @plugnn.hookimpl
    def plugnn_register_layers(self, register):
        register("broken", Broken, BrokenLayer)


def test_a_wrong_gradient_is_caught_with_where_and_how_much() -> None:
    registry = plugnn.load_registry(entry_points_enabled=False, extra_plugins=[BrokenPlugin()])
    checks = {check.name: check for check in iter_checks(registry)}
    with pytest.raises(
        ConformanceError,
        match=r"^layer 'broken' \(Broken\(\)\) on input \(5,\) \(inference\) d/dX: wrong gradient, "
        r"largest relative error 0\.333 \(tolerance 1e-05\) at index \(\d, \d\): analytic .*, numeric .*",
    ):
        checks["gradients_inference"]()
    checks["protocol"]()  # the rest of its contract holds: only the gradient is wrong
    checks["shapes"]()


def test_softmax_cross_entropy_is_stable_on_unscaled_logits(registry) -> None:
    loss = plugnn.build_loss("softmax_cross_entropy", registry)
    logits = np.array([[1000.0, 0.0, -1000.0], [255.0 * 784, 0.0, 0.0]], dtype=np.float32)
    value, grad = loss(logits, np.array([0, 1]))
    assert np.isfinite(value) and np.isfinite(grad).all()
    assert grad.dtype == np.float32
    np.testing.assert_allclose(value, (0.0 + 255.0 * 784) / 2, rtol=1e-6)


@attrs.frozen
class Upcasting(plugnn.LayerSpec):
    """Computes in float64 whatever it is given."""


class UpcastingLayer(BrokenLayer):
    def forward(self, x, *, training=False):
        return x.astype(np.float64)

    def backward(self, grad_out, *, input_grad=True):
        return grad_out.astype(np.float64)


@attrs.frozen
class SharedMomentum(plugnn.OptimizerSpec):
    lr = attrs.field(default=0.1)  # no type: structuring would accept anything


class SharedMomentumOptimizer:
    """Keeps one velocity scalar for all parameters: the kit must notice."""

    def __init__(self, spec):
        self.lr, self.velocity = spec.lr, 0.0

    def step(self, params, grads):
        for param, grad in zip(params, grads, strict=True):
            self.velocity = 0.9 * self.velocity + float(np.mean(grad))
            param -= self.lr * (grad + self.velocity)

    def state_dict(self):
        return {"velocity": np.array(self.velocity)}

    def load_state_dict(self, state):
        self.velocity = float(state["velocity"])


class GrowingStateOptimizer(SharedMomentumOptimizer):
    """Also records every step's gradient norm, so its state grows: the kit must notice."""

    def __init__(self, spec):
        super().__init__(spec)
        self.norms = np.zeros(0)

    def step(self, params, grads):
        super().step(params, grads)
        self.norms = np.append(self.norms, sum(float(np.linalg.norm(g)) for g in grads))

    def state_dict(self):
        return super().state_dict() | {"norms": self.norms.copy()}

    def load_state_dict(self, state):
        super().load_state_dict(state)
        self.norms = np.array(state["norms"])


@attrs.frozen
class Stale(plugnn.LayerSpec):
    """A scale per feature, ``Y = X * w``, written as a v0.1 plugin author might have."""

    reference: str = attrs.field(default="params", validator=attrs.validators.in_(("params", "grads")))

    @classmethod
    def examples(cls) -> list[Stale]:
        return [cls("params"), cls("grads")]


class StaleLayer:
    """Keeps its own reference to ``params["w"]`` (or to ``grads["w"]``), which the network re-binds."""

    def __init__(self, spec, input_shape, ctx):
        self.output_shape, self.buffers = input_shape, {}
        self.params = {"w": (1 + ctx.rng.standard_normal(input_shape)).astype(ctx.dtype)}
        self.grads = {"w": np.zeros(input_shape, dtype=ctx.dtype)}
        self.w, self.dw, self.spec = self.params["w"], self.grads["w"], spec

    def forward(self, x, *, training=False):
        self._x = x
        return x * (self.w if self.spec.reference == "params" else self.params["w"])

    def backward(self, grad_out, *, input_grad=True):
        target = self.dw if self.spec.reference == "grads" else self.grads["w"]
        np.sum(grad_out * self._x, axis=0, out=target)
        return grad_out * self.params["w"] if input_grad else None


class FlawedPlugin:
    @plugnn.hookimpl
    def plugnn_register_layers(self, register):
        register("upcasting", Upcasting, UpcastingLayer)
        register("stale", Stale, StaleLayer)

    @plugnn.hookimpl
    def plugnn_register_optimizers(self, register):
        register("shared", SharedMomentum, SharedMomentumOptimizer)
        register("growing", SharedMomentum, GrowingStateOptimizer)


def test_the_kit_catches_upcasts_and_shared_state() -> None:
    registry = plugnn.load_registry(entry_points_enabled=False, extra_plugins=[FlawedPlugin()])
    checks = {check.id: check for check in iter_checks(registry)}
    with pytest.raises(
        ConformanceError, match=r"layer 'upcasting' .* expected float32 throughout, got .*'forward': 'float64'"
    ):
        checks["layer:upcasting[0]-dtype"]()
    with pytest.raises(ConformanceError, match=r"optimizer 'shared' .* moved differently beside another parameter"):
        checks["optimizer:shared[0]-separate_state"]()
    with pytest.raises(ConformanceError, match=r"field 'lr' accepted \[\[\]\]"):
        checks["optimizer:shared[0]-rejects_wrong_types"]()
    with pytest.raises(ConformanceError, match=r"optimizer 'growing' .* state's names, shapes or dtypes changed"):
        checks["optimizer:growing[0]-state_layout"]()
    checks["optimizer:shared[0]-state_layout"]()


def test_the_kit_catches_stale_references_to_parameters_and_gradients() -> None:
    registry = plugnn.load_registry(entry_points_enabled=False, extra_plugins=[FlawedPlugin()])
    checks = {check.id: check for check in iter_checks(registry)}
    with pytest.raises(ConformanceError, match=r"layer 'stale' .* forward still computed with the old ones"):
        checks["layer:stale[0]-parameters_rebound"]()
    with pytest.raises(ConformanceError, match=r"layer 'stale' .* backward did not write grads\['w'\] into the array"):
        checks["layer:stale[1]-parameters_rebound"]()
    for name in ("gradients_inference", "dtype", "shapes"):  # correct maths: only the references are wrong
        checks[f"layer:stale[0]-{name}"]()
        checks[f"layer:stale[1]-{name}"]()


@parametrize_with_checks(registry_with(CenterPlugin()), plugins=["CenterPlugin"])
def test_a_layer_with_buffers_and_image_shapes_conforms(check) -> None:
    check()


class StaleCenterLayer(CenterLayer):
    """Keeps its running mean in a private array as well: restoring ``buffers`` does not reach it."""

    def __init__(self, spec, input_shape, ctx):
        super().__init__(spec, input_shape, ctx)
        self._private = self.buffers["mean"].copy()

    def forward(self, x, *, training=False):
        out = super().forward(x, training=training)
        if training:
            self._private = self.buffers["mean"].copy()
            return out
        return x - self._private


class LeakyCenterLayer(CenterLayer):
    """Updates its running mean in inference mode too."""

    def forward(self, x, *, training=False):
        out = super().forward(x, training=training)
        if not training:
            self.buffers["mean"] += 1
        return out


@attrs.frozen
class Strict(plugnn.LayerSpec):
    """Declares that it refuses flat inputs and skips a check."""

    @classmethod
    def invalid_input_shapes(cls):
        return [(6,)]

    @classmethod
    def not_applicable(cls):
        return {"determinism": "nothing random happens here"}


class NumpyErrorLayer(BrokenLayer):
    """Fails on a flat shape with numpy's error instead of a ShapeError."""

    def __init__(self, spec, input_shape, ctx):
        super().__init__(spec, input_shape, ctx)
        np.zeros(3).reshape(input_shape)


class BufferFaultsPlugin:
    @plugnn.hookimpl
    def plugnn_register_layers(self, register):
        register("stale", attrs.frozen(type("Stale", (Center,), {})), StaleCenterLayer)
        register("leaky", attrs.frozen(type("Leaky", (Center,), {})), LeakyCenterLayer)
        register("strict", Strict, NumpyErrorLayer)


def test_the_kit_catches_unrestored_buffers_mutating_inference_and_numpy_shape_errors() -> None:
    registry = plugnn.load_registry(entry_points_enabled=False, extra_plugins=[BufferFaultsPlugin()])
    checks = {check.id: check for check in iter_checks(registry)}
    with pytest.raises(
        ConformanceError,
        match=r"^layer 'stale' .* on input \(4,\): a new layer given the trained parameters and buffers computes "
        r"other outputs .*read it from there$",
    ):
        checks["layer:stale[0]-buffers_round_trip"]()
    checks["layer:stale[0]-inference_mode"]()  # the rest of its contract holds
    with pytest.raises(ConformanceError, match=r"^layer 'leaky' .* on input \(4,\): inference mode changed buffers"):
        checks["layer:leaky[0]-inference_mode"]()
    with pytest.raises(
        ConformanceError, match=r"^layer 'strict' .* built for input \(6,\): raised ValueError \(.*\) instead of "
    ):
        checks["layer:strict[0]-shape_errors"]()
    assert "layer:leaky[0]-shape_errors" not in checks  # declares no invalid input shape: nothing to check


def test_a_check_marked_not_applicable_is_skipped_with_its_reason() -> None:
    registry = plugnn.load_registry(entry_points_enabled=False, extra_plugins=[BufferFaultsPlugin()])
    checks = {check.id: check for check in iter_checks(registry)}
    assert checks["layer:strict[0]-determinism"].not_applicable == "nothing random happens here"
    with pytest.raises(pytest.skip.Exception, match=r"determinism: not applicable: nothing random happens here"):
        checks["layer:strict[0]-determinism"]()


def test_not_applicable_must_name_real_checks() -> None:
    @attrs.frozen
    class Typo(plugnn.LayerSpec):
        @classmethod
        def not_applicable(cls):
            return {"determinsm": "typo"}

    class TypoPlugin:
        @plugnn.hookimpl
        def plugnn_register_layers(self, register):
            register("typo", Typo, BrokenLayer)

    registry = plugnn.load_registry(entry_points_enabled=False, extra_plugins=[TypoPlugin()])
    with pytest.raises(
        ConformanceError, match=r"layer 'typo': Typo\.not_applicable\(\) names unknown checks \['determinsm'\]"
    ):
        list(iter_checks(registry))
