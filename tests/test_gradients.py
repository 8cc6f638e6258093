"""Every registered layer and loss is gradient-checked; a new plugin is checked automatically."""

from __future__ import annotations

import attrs
import numpy as np
import pytest

import plugnn
from plugnn.testing import ConformanceError, iter_checks, parametrize_with_checks


@parametrize_with_checks(plugnn.load_registry(strict=True))
def test_registered_components_conform(check) -> None:
    check()


def test_every_layer_and_loss_has_a_gradient_check(registry) -> None:
    checked = {(c.component.kind, c.component.name) for c in iter_checks(registry) if "gradients" in c.name}
    expected = {(c.kind, c.name) for c in registry.components() if c.kind in ("layer", "loss")}
    assert expected and checked == expected


@attrs.frozen
class Broken(plugnn.LayerSpec):
    """Y = 2X, but claims dX = G."""


class BrokenLayer:
    def __init__(self, spec, in_features, ctx):
        self.out_features, self.params, self.grads = in_features, {}, {}

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
    (check,) = list(iter_checks(registry))
    with pytest.raises(ConformanceError, match=r"layer 'broken' \(Broken\(\)\) d/dX: wrong gradient, "
                       r"largest relative error 0\.333 .* analytic .*, numeric .*"):
        check()


def test_softmax_cross_entropy_is_stable_on_unscaled_logits(registry) -> None:
    loss = plugnn.build_loss("softmax_cross_entropy", registry)
    logits = np.array([[1000.0, 0.0, -1000.0], [255.0 * 784, 0.0, 0.0]], dtype=np.float32)
    value, grad = loss(logits, np.array([0, 1]))
    assert np.isfinite(value) and np.isfinite(grad).all()
    assert grad.dtype == np.float32
    np.testing.assert_allclose(value, (0.0 + 255.0 * 784) / 2, rtol=1e-6)
