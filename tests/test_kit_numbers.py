"""The kit compares numbers: an optimizer with its reference step, and names what a failing check was fed."""

from __future__ import annotations

import attrs
import numpy as np
import pytest
from layer_plugin import layer_plugin
from plugnn_std.optimizers.adam import Adam, AdamOptimizer

import plugnn
from plugnn import validators as v
from plugnn.testing import Check, ConformanceError, iter_checks


def checks_of(plugin: object) -> dict[str, Check]:
    """The kit's checks of ``plugin``'s components alone (no entry points), by id."""
    registry = plugnn.load_registry(entry_points_enabled=False, extra_plugins=[plugin])
    return {check.id: check for check in iter_checks(registry)}


@attrs.frozen
class Lion(plugnn.OptimizerSpec):
    """Lion (Chen et al. 2023, Algorithm 2): ``lr`` > 0, ``0 <= beta1, beta2 < 1``, ``weight_decay`` λ >= 0."""

    lr: float = attrs.field(default=1e-4, validator=v.positive)
    beta1: float = attrs.field(default=0.9, validator=v.in_range(0.0, 1.0))
    beta2: float = attrs.field(default=0.99, validator=v.in_range(0.0, 1.0))
    weight_decay: float = attrs.field(default=0.0, validator=v.non_negative)

    @classmethod
    def examples(cls) -> list[Lion]:
        return [cls(), cls(weight_decay=0.1)]

    def reference_step(self, param, grad, state, *, lr, t):
        """c = β1·m + (1 − β1)·g; w ← w − lr·(sign(c) + λ·w); m ← β2·m + (1 − β2)·g."""
        m = state.get("m", np.zeros_like(param))
        c = self.beta1 * m + (1 - self.beta1) * grad
        return param - lr * (np.sign(c) + self.weight_decay * param), {"m": self.beta2 * m + (1 - self.beta2) * grad}


class LionOptimizer(plugnn.BufferedOptimizer):
    buffer_names = ("m",)
    swapped = False

    def update(self, param, grad, buffers, scratch):
        beta1, beta2 = (self.spec.beta2, self.spec.beta1) if self.swapped else (self.spec.beta1, self.spec.beta2)
        m = buffers["m"]
        np.sign(beta1 * m + (1 - beta1) * grad, out=scratch)
        scratch += self.spec.weight_decay * param
        param -= self.lr * scratch
        m *= beta2
        m += (1 - beta2) * grad


class SwappedLionOptimizer(LionOptimizer):
    """beta1 and beta2 swapped: passes every other optimizer check."""

    swapped = True


class SwappedAdamOptimizer(AdamOptimizer):
    """Adam with beta1 and beta2 swapped."""

    def update(self, param, grad, buffers, scratch):
        spec = self.spec
        self.spec = attrs.evolve(spec, beta1=spec.beta2, beta2=spec.beta1)
        try:
            super().update(param, grad, buffers, scratch)
        finally:
            self.spec = spec


@attrs.frozen
class Unreferenced(Lion):
    """Lion without a reference step (the base class's)."""

    reference_step = plugnn.OptimizerSpec.reference_step


class Optimizers:
    @plugnn.hookimpl
    def plugnn_register_optimizers(self, register):
        register("lion", Lion, LionOptimizer)
        register("swapped_lion", attrs.frozen(type("SwappedLion", (Lion,), {})), SwappedLionOptimizer)
        register("swapped_adam", attrs.frozen(type("SwappedAdam", (Adam,), {})), SwappedAdamOptimizer)
        register("unreferenced", Unreferenced, LionOptimizer)


OPTIMIZER_CHECKS = checks_of(Optimizers())


@pytest.mark.parametrize("example", [0, 1])
def test_an_optimizer_matching_its_reference_step_passes(example) -> None:
    OPTIMIZER_CHECKS[f"optimizer:lion[{example}]-reference_step"]()


@pytest.mark.parametrize(
    ("name", "step"),
    [("swapped_lion", 2), ("swapped_adam", 2)],  # both agree with the formula at step 1, where m and v start at 0
)
def test_an_optimizer_with_its_betas_swapped_fails_its_reference_step_only(name, step) -> None:
    for check in OPTIMIZER_CHECKS.values():
        if check.component.name == name and check.name != "reference_step":
            check()  # the shape-level checks cannot tell
    with pytest.raises(
        ConformanceError,
        match=rf"^optimizer '{name}' .*: step {step} \(lr .*\) of parameter \d \(.*\) differs from "
        rf"Swapped\w+\.reference_step: at index .* it moved by .*, the reference by .* \(relative error .*, "
        r"tolerance 1e-06\)$",
    ):
        OPTIMIZER_CHECKS[f"optimizer:{name}[0]-reference_step"]()


def test_an_optimizer_without_a_reference_step_is_skipped_naming_it() -> None:
    with pytest.raises(pytest.skip.Exception, match=r"Unreferenced declares no reference_step"):
        OPTIMIZER_CHECKS["optimizer:unreferenced[0]-reference_step"]()


def test_every_installed_optimizer_declares_its_reference_step() -> None:
    optimizers = plugnn.load_registry(strict=True).tables["optimizer"]
    missing = [c.name for c in optimizers if c.spec.reference_step is plugnn.OptimizerSpec.reference_step]
    assert not missing and {"sgd", "adam", "momentum", "rmsprop", "adamw"} <= set(optimizers.names())


@attrs.frozen
class FiveWide(plugnn.LayerSpec):
    """Adds a constant of 5 features: a broadcast bug on any other width."""


class FiveWideLayer(plugnn.ParameterFreeLayer):
    def forward(self, x, *, training=False):
        return x + np.arange(5, dtype=x.dtype)

    def backward(self, grad_out, *, input_grad=True):
        return grad_out if input_grad else None


def test_a_numpy_error_inside_a_check_names_the_check_and_the_input_shape() -> None:
    check = checks_of(layer_plugin(("five_wide", FiveWide, FiveWideLayer)))["layer:five_wide[0]-gradients_inference"]
    with pytest.raises(
        ConformanceError,
        match=r"^layer:five_wide\[0\]-gradients_inference on input shape \(N, 3\): ValueError: operands could "
        r"not be broadcast together",
    ) as caught:
        check()
    assert isinstance(caught.value.__cause__, ValueError)  # the layer's own traceback stays reachable
