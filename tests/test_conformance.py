"""Every registered layer and loss is gradient-checked; a new plugin is checked automatically."""

from __future__ import annotations

import attrs
import numpy as np
import pytest
from buffered_layer import Center, CenterLayer, CenterPlugin, registry_with
from layer_plugin import layer_plugin

import plugnn
from plugnn.testing import Check, ConformanceError, iter_checks, parametrize_with_checks


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


class BrokenLayer(plugnn.ParameterFreeLayer):
    def forward(self, x, *, training=False):
        return 2 * x

    def backward(self, grad_out, *, input_grad=True):
        return grad_out


def checks_of(plugin: object) -> dict[str, Check]:
    """The kit's checks of ``plugin``'s components alone (no entry points), by id."""
    registry = plugnn.load_registry(entry_points_enabled=False, extra_plugins=[plugin])
    return {check.id: check for check in iter_checks(registry)}


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.int64])
def test_softmax_cross_entropy_takes_any_integer_labels_and_refuses_a_class_out_of_range(registry, dtype) -> None:
    loss = plugnn.build_loss("softmax_cross_entropy", registry)
    rng = np.random.default_rng(0)
    for classes in (10, 100):  # the transposed layout and the row-major one
        logits = rng.standard_normal((300, classes)).astype(np.float32)
        labels = rng.integers(0, classes, 300)
        expected_value, expected_grad = loss(logits, labels)
        value, grad = loss(logits, labels.astype(dtype))
        assert value == expected_value
        np.testing.assert_array_equal(grad, expected_grad)
        with pytest.raises(plugnn.DataError, match=rf"^labels: labels must lie in \[0, {classes}\) for a network"):
            loss(logits, np.where(np.arange(300) == 5, classes, labels).astype(dtype))


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


@attrs.frozen
class InPlaceSquare(plugnn.LossSpec):
    """Half the mean squared logit, its gradient computed in the logits' own memory."""


class InPlaceSquareLoss:
    def __init__(self, spec):
        pass

    def __call__(self, logits, labels):
        value = float(0.5 * np.mean(np.sum(logits**2, axis=1)))
        logits /= len(logits)  # the gradient Z / N, written over the caller's logits
        return value, logits


class FlawedPlugin:
    @plugnn.hookimpl
    def plugnn_register_losses(self, register):
        register("in_place", InPlaceSquare, InPlaceSquareLoss)

    @plugnn.hookimpl
    def plugnn_register_layers(self, register):
        register("upcasting", Upcasting, UpcastingLayer)
        register("stale", Stale, StaleLayer)

    @plugnn.hookimpl
    def plugnn_register_optimizers(self, register):
        register("shared", SharedMomentum, SharedMomentumOptimizer)
        register("growing", SharedMomentum, GrowingStateOptimizer)


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


BROKEN = layer_plugin(("broken", Broken, BrokenLayer))
BUFFER_FAULTS = layer_plugin(
    ("stale", attrs.frozen(type("Stale", (Center,), {})), StaleCenterLayer),
    ("leaky", attrs.frozen(type("Leaky", (Center,), {})), LeakyCenterLayer),
    ("strict", Strict, NumpyErrorLayer),
)

# each flaw the kit must catch: (plugin, check id, the message it fails with)
CAUGHT = [
    pytest.param(
        BROKEN,
        "layer:broken[0]-gradients_inference",
        r"^layer 'broken' \(Broken\(\)\) on input \(5,\) \(inference\) d/dX: wrong gradient, "
        r"largest relative error 0\.333 \(tolerance 1e-05\) at index \(\d, \d\): analytic .*, numeric .*",
        id="a wrong gradient, with where and how much",
    ),
    pytest.param(
        FlawedPlugin(),
        "layer:upcasting[0]-dtype",
        r"layer 'upcasting' .* expected float32 throughout, got .*'forward': 'float64'",
        id="an upcast",
    ),
    pytest.param(
        FlawedPlugin(),
        "loss:in_place[0]-inputs_unchanged",
        r"^loss 'in_place' \(InPlaceSquare\(\)\): wrote into its inputs \(batch of 1\): .*read-only",
        id="a loss that overwrites the logits",
    ),
    pytest.param(
        FlawedPlugin(),
        "optimizer:shared[0]-separate_state",
        r"optimizer 'shared' .* moved differently beside another parameter",
        id="state shared between parameters",
    ),
    pytest.param(
        FlawedPlugin(),
        "optimizer:shared[0]-rejects_wrong_types",
        r"field 'lr' accepted \[\[\]\]",
        id="an untyped spec field",
    ),
    pytest.param(
        FlawedPlugin(),
        "optimizer:growing[0]-state_layout",
        r"optimizer 'growing' .* state's names, shapes or dtypes changed",
        id="an optimizer state that grows",
    ),
    pytest.param(
        FlawedPlugin(),
        "layer:stale[0]-parameters_rebound",
        r"layer 'stale' .* forward still computed with the old ones",
        id="a stale reference to the parameters",
    ),
    pytest.param(
        FlawedPlugin(),
        "layer:stale[1]-parameters_rebound",
        r"layer 'stale' .* backward did not write grads\['w'\] into the array",
        id="a stale reference to the gradients",
    ),
    pytest.param(
        BUFFER_FAULTS,
        "layer:stale[0]-buffers_round_trip",
        r"^layer 'stale' .* on input \(4,\): a new layer given the trained parameters and buffers computes "
        r"other outputs .*read it from there$",
        id="a buffer kept outside buffers",
    ),
    pytest.param(
        BUFFER_FAULTS,
        "layer:leaky[0]-inference_mode",
        r"^layer 'leaky' .* on input \(4,\): inference mode changed buffers",
        id="buffers changed in inference mode",
    ),
    pytest.param(
        BUFFER_FAULTS,
        "layer:strict[0]-shape_errors",
        r"^layer 'strict' .* built for input \(6,\): raised ValueError \(.*\) instead of ",
        id="numpy's error for a wrong shape",
    ),
]


@pytest.mark.parametrize(("plugin", "check", "message"), CAUGHT)
def test_the_kit_catches_each_flaw_naming_it(plugin, check, message) -> None:
    with pytest.raises(ConformanceError, match=message):
        checks_of(plugin)[check]()


# the rest of a flawed component's contract holds: each check catches its own flaw only
HOLDS = [
    *(pytest.param(BROKEN, f"layer:broken[0]-{name}", id=f"broken {name}") for name in ("protocol", "shapes")),
    *(
        pytest.param(FlawedPlugin(), f"layer:stale[{i}]-{name}", id=f"stale[{i}] {name}")
        for i in (0, 1)
        for name in ("gradients_inference", "dtype", "shapes")
    ),
    pytest.param(FlawedPlugin(), "optimizer:shared[0]-state_layout", id="shared state_layout"),
    pytest.param(BUFFER_FAULTS, "layer:stale[0]-inference_mode", id="stale buffer inference_mode"),
]


@pytest.mark.parametrize(("plugin", "check"), HOLDS)
def test_the_other_checks_of_a_flawed_component_pass(plugin, check) -> None:
    checks_of(plugin)[check]()


def test_a_layer_declaring_no_invalid_input_shape_has_no_shape_error_check() -> None:
    assert "layer:leaky[0]-shape_errors" not in checks_of(BUFFER_FAULTS)


def test_a_check_marked_not_applicable_is_skipped_with_its_reason() -> None:
    checks = checks_of(BUFFER_FAULTS)
    assert checks["layer:strict[0]-determinism"].not_applicable == "nothing random happens here"
    with pytest.raises(pytest.skip.Exception, match=r"determinism: not applicable: nothing random happens here"):
        checks["layer:strict[0]-determinism"]()


def test_not_applicable_must_name_real_checks() -> None:
    @attrs.frozen
    class Typo(plugnn.LayerSpec):
        @classmethod
        def not_applicable(cls):
            return {"determinsm": "typo"}

    with pytest.raises(
        ConformanceError, match=r"layer 'typo': Typo\.not_applicable\(\) names unknown checks \['determinsm'\]"
    ):
        checks_of(layer_plugin(("typo", Typo, BrokenLayer)))
