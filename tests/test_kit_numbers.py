"""The kit compares numbers: an optimizer with its reference step, and names what a failing check was fed.

The optimizer checked is Lion as ``plugnn new-plugin --kind optimizer`` writes it.
"""

from __future__ import annotations

import attrs
import numpy as np
import pytest
from layer_plugin import layer_plugin
from plugnn_std.optimizers.adam import Adam, AdamOptimizer
from scaffolded import scaffolded

import plugnn
from plugnn.testing import Check, ConformanceError, iter_checks


def checks_of(plugin: object) -> dict[str, Check]:
    """The kit's checks of ``plugin``'s components alone (no entry points), by id."""
    registry = plugnn.load_registry(entry_points_enabled=False, extra_plugins=[plugin])
    return {check.id: check for check in iter_checks(registry)}


def swapped(optimizer: type) -> type:
    """``optimizer`` with its spec's beta1 and beta2 swapped in every update."""

    class Swapped(optimizer):
        def update(self, param, grad, buffers, scratch):
            spec = self.spec
            self.spec = attrs.evolve(spec, beta1=spec.beta2, beta2=spec.beta1)
            try:
                super().update(param, grad, buffers, scratch)
            finally:
                self.spec = spec

    return Swapped


@pytest.fixture(scope="module")
def optimizer_checks(tmp_path_factory) -> dict[str, Check]:
    """The scaffold's Lion; Lion and Adam with their betas swapped; Lion without a reference step."""
    lion = scaffolded("optimizer", tmp_path_factory.mktemp("lion"), "lion")
    unreferenced = {"reference_step": plugnn.OptimizerSpec.reference_step}  # the base class's: none

    class Optimizers:
        @plugnn.hookimpl
        def plugnn_register_optimizers(self, register):
            register("lion", lion.Lion, lion.LionOptimizer)
            register("swapped_lion", attrs.frozen(type("SwappedLion", (lion.Lion,), {})), swapped(lion.LionOptimizer))
            register("swapped_adam", attrs.frozen(type("SwappedAdam", (Adam,), {})), swapped(AdamOptimizer))
            register("unreferenced", attrs.frozen(type("Unreferenced", (lion.Lion,), unreferenced)), lion.LionOptimizer)

    return checks_of(Optimizers())


@pytest.mark.parametrize("example", [0, 1])
def test_an_optimizer_matching_its_reference_step_passes(optimizer_checks, example) -> None:
    optimizer_checks[f"optimizer:lion[{example}]-reference_step"]()


@pytest.mark.parametrize(
    ("name", "step"),
    [("swapped_lion", 2), ("swapped_adam", 2)],  # both agree with the formula at step 1, where m and v start at 0
)
def test_an_optimizer_with_its_betas_swapped_fails_its_reference_step_only(optimizer_checks, name, step) -> None:
    for check in optimizer_checks.values():
        if check.component.name == name and check.name != "reference_step":
            check()  # the shape-level checks cannot tell
    with pytest.raises(
        ConformanceError,
        match=rf"^optimizer '{name}' .*: step {step} \(lr .*\) of parameter \d \(.*\) differs from "
        rf"Swapped\w+\.reference_step: at index .* it moved by .*, the reference by .* \(relative error .*, "
        r"tolerance 1e-06\)$",
    ):
        optimizer_checks[f"optimizer:{name}[0]-reference_step"]()


def test_an_optimizer_without_a_reference_step_is_skipped_naming_it(optimizer_checks) -> None:
    with pytest.raises(pytest.skip.Exception, match=r"Unreferenced declares no reference_step"):
        optimizer_checks["optimizer:unreferenced[0]-reference_step"]()


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
