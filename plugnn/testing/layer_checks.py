"""Conformance checks for layers."""

from __future__ import annotations

from typing import Any

import numpy as np

from plugnn.protocols import Layer
from plugnn.registry import Component, Registry
from plugnn.testing.build import BATCH, IN_FEATURES, label, make_layer
from plugnn.testing.errors import ConformanceError
from plugnn.testing.gradients import assert_gradient_close, numeric_gradient


def check_protocol(component: Component, spec: Any, registry: Registry) -> None:
    """The layer satisfies :class:`plugnn.Layer`; ``params`` and ``grads`` match key for key."""
    layer, _ = make_layer(component, spec, registry)
    what = label(component, spec)
    if not isinstance(layer, Layer):
        missing = [
            name for name in ("out_features", "params", "grads", "forward", "backward") if not hasattr(layer, name)
        ]
        raise ConformanceError(f"{what}: not a plugnn Layer, missing {', '.join(missing)}")
    if not isinstance(layer.out_features, int) or layer.out_features < 1:
        raise ConformanceError(f"{what}: out_features must be a positive int, got {layer.out_features!r}")
    if set(layer.params) != set(layer.grads):
        raise ConformanceError(f"{what}: params keys {sorted(layer.params)} but grads keys {sorted(layer.grads)}")
    for name, param in layer.params.items():
        grad = layer.grads[name]
        if grad.shape != param.shape or grad.dtype != param.dtype:
            raise ConformanceError(
                f"{what}: grads[{name!r}] is {grad.dtype}{grad.shape}, expected {param.dtype}{param.shape}"
            )


def _gradients(component: Component, spec: Any, registry: Registry, training: bool) -> None:
    rng = np.random.default_rng(1)
    layer, noise = make_layer(component, spec, registry)
    start = noise.bit_generator.state
    x = rng.standard_normal((BATCH, IN_FEATURES))

    def forward() -> np.ndarray:
        noise.bit_generator.state = start  # the same dropout mask on every call
        return layer.forward(x.copy(), training=training)

    upstream = rng.standard_normal(forward().shape)

    def objective() -> float:
        return float(np.sum(forward() * upstream))

    forward()
    grad_x = layer.backward(upstream.copy(), input_grad=True)
    analytic = {name: grad.copy() for name, grad in layer.grads.items()}
    what = f"{label(component, spec)} ({'training' if training else 'inference'})"
    assert_gradient_close(grad_x, numeric_gradient(objective, x), f"{what} d/dX")
    for name, param in layer.params.items():
        assert_gradient_close(analytic[name], numeric_gradient(objective, param), f"{what} d/d{name}")


def check_gradients_inference(component: Component, spec: Any, registry: Registry) -> None:
    """Input and parameter gradients match central differences in inference mode (float64)."""
    _gradients(component, spec, registry, training=False)


def check_gradients_training(component: Component, spec: Any, registry: Registry) -> None:
    """The same in training mode, with the noise generator replayed so each forward draws alike."""
    _gradients(component, spec, registry, training=True)


def check_dtype(component: Component, spec: Any, registry: Registry) -> None:
    """float32 in gives float32 out: forward, backward and every gradient (no silent upcast)."""
    layer, _ = make_layer(component, spec, registry, dtype="float32")
    x = np.random.default_rng(0).standard_normal((BATCH, IN_FEATURES)).astype(np.float32)
    what = label(component, spec)
    for mode in (False, True):
        y = layer.forward(x, training=mode)
        dx = layer.backward(np.ones_like(y), input_grad=True)
        got = {"forward": y.dtype, "backward": dx.dtype} | {f"grads[{k!r}]": g.dtype for k, g in layer.grads.items()}
        got |= {f"params[{k!r}]": p.dtype for k, p in layer.params.items()}
        wrong = {k: str(v) for k, v in got.items() if v != np.float32}
        if wrong:
            raise ConformanceError(f"{what}: expected float32 throughout, got {wrong}")


def check_shapes(component: Component, spec: Any, registry: Registry) -> None:
    """Batches of 1, 2 and 7 rows give ``(N, out_features)`` outputs and ``(N, in_features)`` input gradients."""
    layer, _ = make_layer(component, spec, registry)
    what = label(component, spec)
    for n in (1, 2, 7):
        x = np.random.default_rng(n).standard_normal((n, IN_FEATURES))
        for training in (False, True):
            y = layer.forward(x, training=training)
            if y.shape != (n, layer.out_features):
                raise ConformanceError(
                    f"{what}: forward of {x.shape} gave {y.shape}, expected {(n, layer.out_features)}"
                )
            dx = layer.backward(np.ones_like(y), input_grad=True)
            if dx is None or dx.shape != x.shape:
                raise ConformanceError(
                    f"{what}: backward for a batch of {n} gave {getattr(dx, 'shape', None)}, expected {x.shape}"
                )


def check_determinism(component: Component, spec: Any, registry: Registry) -> None:
    """The same seeds give the same parameters and the same training-mode outputs."""
    x = np.random.default_rng(3).standard_normal((BATCH, IN_FEATURES))
    runs = []
    for _ in range(2):
        layer, _ = make_layer(component, spec, registry, seed=5, noise_seed=6)
        runs.append(({k: v.copy() for k, v in layer.params.items()}, layer.forward(x.copy(), training=True)))
    (params_a, out_a), (params_b, out_b) = runs
    same = all(np.array_equal(params_a[k], params_b[k]) for k in params_a) and np.array_equal(out_a, out_b)
    if not same:
        raise ConformanceError(f"{label(component, spec)}: two builds with the same seeds differ")
