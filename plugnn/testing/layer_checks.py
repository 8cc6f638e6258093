"""Conformance checks for layers, made for every input shape the spec class's ``example_input_shapes()`` lists."""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from plugnn.layertree import children, walk
from plugnn.protocols import Layer, Shape
from plugnn.registry import Component, Registry
from plugnn.testing.build import BATCH, batch, input_shapes, label, make_layer
from plugnn.testing.errors import ConformanceError, expect_shape_error
from plugnn.testing.gradients import assert_gradient_close, numeric_gradient
from plugnn.testing.onnx_checks import check_onnx_converter as check_onnx_converter  # a layer check of its own module

WARM_UP = 3
"""Training-mode passes made before the buffer checks, so that running statistics have moved."""


def _what(component: Component, spec: Any, shape: Shape) -> str:
    return f"{label(component, spec)} on input {shape}"


def _copy(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {key: value.copy() for key, value in arrays.items()}


def _tree(layer: Layer, part: str) -> dict[str, np.ndarray]:
    """``part`` (``"params"``, ``"grads"`` or ``"buffers"``) of ``layer`` and every child layer below it,
    keyed ``<path>.<name>`` (``layer.W``, ``layer.layers[0].W``): a composite layer's children count as its own."""
    return {f"{path}.{key}": value for path, node in walk(layer, "layer") for key, value in getattr(node, part).items()}


def _warm_up(layer: Layer, shape: Shape) -> None:
    """Training-mode passes over float64 batches (the dtype :func:`make_layer` builds by default)."""
    for step in range(WARM_UP):
        layer.forward(batch(shape, 7, seed=10 + step), training=True)


def check_protocol(component: Component, spec: Any, registry: Registry) -> None:
    """A :class:`plugnn.Layer`: a tuple ``output_shape``; ``params``/``grads`` key for key; buffers of its dtype."""
    for shape in input_shapes(spec):
        for dtype in ("float64", "float32"):
            layer, _ = make_layer(component, spec, registry, input_shape=shape, dtype=dtype)
            what = _what(component, spec, shape)
            if not isinstance(layer, Layer):
                names = ("output_shape", "params", "grads", "buffers", "forward", "backward")
                missing = [name for name in names if not hasattr(layer, name)]
                raise ConformanceError(f"{what}: not a plugnn Layer, missing {', '.join(missing)}")
            out = layer.output_shape
            if not (isinstance(out, tuple) and out and all(isinstance(d, int) and d >= 1 for d in out)):
                raise ConformanceError(f"{what}: output_shape must be a tuple of positive ints, got {out!r}")
            for path, node in walk(layer, "layer"):
                _check_node(node, f"{what}: {path}", dtype)


def _check_node(node: Layer, what: str, dtype: str) -> None:
    """One layer of a tree: params and grads key for key, of ``dtype``; buffers a dict of ``dtype`` arrays."""
    if set(node.params) != set(node.grads):
        raise ConformanceError(f"{what}: params keys {sorted(node.params)} but grads keys {sorted(node.grads)}")
    for name, param in node.params.items():
        grad = node.grads[name]
        if grad.shape != param.shape or grad.dtype != param.dtype or param.dtype != dtype:
            raise ConformanceError(
                f"{what}: params[{name!r}] is {param.dtype}{param.shape} and grads[{name!r}] "
                f"{grad.dtype}{grad.shape}, expected both {dtype}{param.shape}"
            )
    if not isinstance(node.buffers, dict):
        raise ConformanceError(f"{what}: buffers must be a dict, got {type(node.buffers).__name__}")
    for name, buffer in node.buffers.items():
        if not isinstance(buffer, np.ndarray) or buffer.dtype != dtype:
            got = buffer.dtype if isinstance(buffer, np.ndarray) else type(buffer).__name__
            raise ConformanceError(f"{what}: buffers[{name!r}] must be a {dtype} array, got {got}")


def _gradients(component: Component, spec: Any, registry: Registry, training: bool) -> None:
    for shape in input_shapes(spec):
        _gradients_on(component, spec, registry, shape, training)


def _gradients_on(component: Component, spec: Any, registry: Registry, shape: Shape, training: bool) -> None:
    rng = np.random.default_rng(1)
    layer, noise = make_layer(component, spec, registry, input_shape=shape)
    start = noise.bit_generator.state
    x = rng.standard_normal((BATCH, *shape))

    def forward() -> np.ndarray:
        noise.bit_generator.state = start  # the same dropout mask on every call
        return layer.forward(x.copy(), training=training)

    upstream = rng.standard_normal(forward().shape)

    def objective() -> float:
        return float(np.sum(forward() * upstream))

    forward()
    grad_x = layer.backward(upstream.copy(), input_grad=True)
    analytic = _copy(_tree(layer, "grads"))
    what = f"{_what(component, spec, shape)} ({'training' if training else 'inference'})"
    if grad_x is None:
        raise ConformanceError(f"{what}: backward(..., input_grad=True) returned None instead of dL/dX")
    assert_gradient_close(grad_x, numeric_gradient(objective, x), f"{what} d/dX")
    for name, param in _tree(layer, "params").items():
        assert_gradient_close(analytic[name], numeric_gradient(objective, param), f"{what} d/d{name}")


def check_gradients_inference(component: Component, spec: Any, registry: Registry) -> None:
    """Input and parameter gradients match central differences in inference mode (float64)."""
    _gradients(component, spec, registry, training=False)


def check_gradients_training(component: Component, spec: Any, registry: Registry) -> None:
    """The same in training mode, with the noise generator replayed so each forward draws alike."""
    _gradients(component, spec, registry, training=True)


def check_dtype(component: Component, spec: Any, registry: Registry) -> None:
    """float32 in gives float32 out: forward, backward, every gradient and buffer (no silent upcast)."""
    for shape in input_shapes(spec):
        layer, _ = make_layer(component, spec, registry, input_shape=shape, dtype="float32")
        x = batch(shape, BATCH, seed=0, dtype="float32")
        what = _what(component, spec, shape)
        for mode in (False, True):
            y = layer.forward(x, training=mode)
            dx = layer.backward(np.ones_like(y), input_grad=True)
            got = {"forward": y.dtype, "backward": getattr(dx, "dtype", None)}
            got |= {f"grads[{k!r}]": g.dtype for k, g in _tree(layer, "grads").items()}
            got |= {f"params[{k!r}]": p.dtype for k, p in _tree(layer, "params").items()}
            got |= {f"buffers[{k!r}]": b.dtype for k, b in _tree(layer, "buffers").items()}
            wrong = {k: str(v) for k, v in got.items() if v != np.float32}
            if wrong:
                raise ConformanceError(f"{what}: expected float32 throughout, got {wrong}")


def check_shapes(component: Component, spec: Any, registry: Registry) -> None:
    """Batches of 1, 2 and 7 give ``(N, *output_shape)`` outputs and ``(N, *input_shape)`` input gradients."""
    for shape in input_shapes(spec):
        layer, _ = make_layer(component, spec, registry, input_shape=shape)
        what = _what(component, spec, shape)
        for n in (1, 2, 7):
            x = batch(shape, n, seed=n)
            for training in (False, True):
                y = layer.forward(x, training=training)
                if y.shape != (n, *layer.output_shape):
                    raise ConformanceError(
                        f"{what}: forward of {x.shape} gave {y.shape}, expected {(n, *layer.output_shape)}"
                    )
                dx = layer.backward(np.ones_like(y), input_grad=True)
                if dx is None or dx.shape != x.shape:
                    raise ConformanceError(
                        f"{what}: backward for a batch of {n} gave {getattr(dx, 'shape', None)}, expected {x.shape}"
                    )


def check_determinism(component: Component, spec: Any, registry: Registry) -> None:
    """The same seeds give the same parameters, buffers and training-mode outputs."""
    for shape in input_shapes(spec):
        x = batch(shape, BATCH, seed=3)
        runs = []
        for _ in range(2):
            layer, _ = make_layer(component, spec, registry, input_shape=shape, seed=5, noise_seed=6)
            out = layer.forward(x.copy(), training=True)
            runs.append(
                (
                    _copy(_tree(layer, "params"))
                    | {f"buffer {k}": v for k, v in _copy(_tree(layer, "buffers")).items()},
                    out,
                )
            )
        (state_a, out_a), (state_b, out_b) = runs
        if not (all(np.array_equal(state_a[k], state_b[k]) for k in state_a) and np.array_equal(out_a, out_b)):
            raise ConformanceError(f"{_what(component, spec, shape)}: two builds with the same seeds differ")


def check_parameters_rebound(component: Component, spec: Any, registry: Registry) -> None:
    """Parameters are read, and gradients written, through ``params`` and ``grads`` after the network re-binds them.

    The network moves every parameter and gradient into two flat buffers by putting new arrays
    (views) into the layer's ``params`` and ``grads`` dicts. Here each parameter is replaced by a new
    array of other values and each gradient by a new NaN-filled array: ``forward`` must use the new
    values (as a twin layer whose arrays were changed in place does) and ``backward`` must fill the
    new gradient arrays themselves. A layer that kept ``self.W = params["W"]`` would train with
    stale weights, and one that writes ``self.grads["W"] = ...`` would leave the network's gradients
    at zero, so that no optimizer ever moved it.
    """
    for shape in input_shapes(spec):
        layer, _ = make_layer(component, spec, registry, input_shape=shape)
        if not _tree(layer, "params"):
            continue
        twin, _ = make_layer(component, spec, registry, input_shape=shape)
        rebound = {}
        for (path, node), (_, twin_node) in zip(walk(layer, "layer"), walk(twin, "layer"), strict=True):
            for key, value in node.params.items():
                moved = value * 0.5 + 0.25  # a new array with other values
                node.params[key] = moved
                twin_node.params[key][...] = moved  # in place: any reference the twin kept sees it too
                rebound[f"{path}.{key}"] = node.grads[key] = np.full_like(value, np.nan)
        what = _what(component, spec, shape)
        x = batch(shape, BATCH, seed=30)
        out, expected = layer.forward(x.copy()), twin.forward(x.copy())
        if not np.array_equal(out, expected):
            raise ConformanceError(
                f"{what}: after params[...] were replaced by new arrays (as the network does), forward still "
                "computed with the old ones; read parameters through self.params[name] every time, never keep "
                "another reference to them"
            )
        upstream = np.random.default_rng(31).standard_normal(out.shape)
        layer.backward(upstream.copy(), input_grad=True)
        twin.backward(upstream.copy(), input_grad=True)
        grads, twin_grads = _tree(layer, "grads"), _tree(twin, "grads")
        for full, array in rebound.items():
            if grads[full] is not array or not np.array_equal(array, twin_grads[full]):
                path, key = full.rsplit(".", 1)
                whose = "" if path == "layer" else f" of {path}"
                raise ConformanceError(
                    f"{what}: backward did not write grads[{key!r}]{whose} into the array the network put there, so "
                    "the network's gradient buffer keeps stale values; write gradients in place "
                    f"(self.grads[{key!r}][...] = ... or out=self.grads[{key!r}]) and keep no other reference"
                )


def check_buffers_round_trip(component: Component, spec: Any, registry: Registry) -> None:
    """Parameters and buffers copied into a new layer (as model files restore them) give identical outputs.

    The layer first makes a few training-mode passes so that its buffers move; the new layer is
    built from another seed, gets the parameters the way the network hands them over (new arrays
    in ``params``) and the buffers the way files restore them (copied into ``buffers`` in place).
    """
    for shape in input_shapes(spec):
        what = _what(component, spec, shape)
        layer, _ = make_layer(component, spec, registry, input_shape=shape, seed=0)
        _warm_up(layer, shape)
        params, buffers = _copy(_tree(layer, "params")), _copy(_tree(layer, "buffers"))
        x = batch(shape, 5, seed=20)
        expected = layer.forward(x.copy(), training=False)
        fresh, _ = make_layer(component, spec, registry, input_shape=shape, seed=1)
        fresh_buffers = _tree(fresh, "buffers")
        if set(fresh_buffers) != set(buffers):
            raise ConformanceError(
                f"{what}: a new layer has buffers {sorted(fresh_buffers)}, a trained one {sorted(buffers)}"
            )
        for path, node in walk(fresh, "layer"):
            for key in node.params:
                node.params[key] = params[f"{path}.{key}"]
        for key, value in buffers.items():
            fresh_buffers[key][...] = value
        got = fresh.forward(x.copy(), training=False)
        if not np.array_equal(got, expected):
            worst = float(np.max(np.abs(got - expected))) if got.shape == expected.shape else got.shape
            raise ConformanceError(
                f"{what}: a new layer given the trained parameters and buffers computes other outputs "
                f"(largest difference {worst}); a layer must keep all untrained state in buffers and read it from there"
            )


def check_inference_mode(component: Component, spec: Any, registry: Registry) -> None:
    """Inference mode is a pure function of the sample: buffers untouched, no noise drawn, batch-independent.

    After a few training-mode passes: two inference passes (with a backward between) give the same
    outputs, change no buffer, draw nothing from the noise generator, and a sample's output does not
    depend on the rest of its batch.
    """
    for shape in input_shapes(spec):
        what = _what(component, spec, shape)
        layer, noise = make_layer(component, spec, registry, input_shape=shape)
        _warm_up(layer, shape)
        buffers, state = _copy(_tree(layer, "buffers")), noise.bit_generator.state
        x = batch(shape, 5, seed=30)
        first = layer.forward(x.copy(), training=False)
        layer.backward(np.ones_like(first), input_grad=True)
        second = layer.forward(x.copy(), training=False)
        now = _tree(layer, "buffers")
        changed = [k for k, v in buffers.items() if not np.array_equal(now[k], v)]
        if changed:
            raise ConformanceError(f"{what}: inference mode changed buffers {changed}; only training may update them")
        if noise.bit_generator.state != state:
            raise ConformanceError(f"{what}: inference mode drew from the noise generator; it must be deterministic")
        if not np.array_equal(first, second):
            raise ConformanceError(f"{what}: two inference passes over the same batch gave different outputs")
        alone = layer.forward(x[:1].copy(), training=False)
        if not np.allclose(alone, first[:1], rtol=1e-10, atol=1e-12):
            raise ConformanceError(
                f"{what}: in inference mode a sample's output depends on the rest of its batch "
                "(batch statistics belong to training mode)"
            )


def check_shape_errors(component: Component, spec: Any, registry: Registry) -> None:
    """Each of ``invalid_input_shapes()`` raises :class:`plugnn.ShapeError`, one line naming the shape."""
    for shape in spec.invalid_input_shapes():
        what = f"{label(component, spec)} built for input {tuple(shape)}"
        expect_shape_error(what, tuple(shape), partial(make_layer, component, spec, registry, input_shape=shape))


def check_grad_out_reuse(component: Component, spec: Any, registry: Registry) -> None:
    """A composite layer's gradients hold when each child overwrites the ``grad_out`` it was given.

    The layer protocol lets ``backward`` reuse ``grad_out``'s memory (ReLU multiplies its mask into
    it), so a composite layer must not read a gradient after handing it to a child (a residual
    block's skip path needs a copy). Here every layer below the one checked is made to fill its
    ``grad_out`` with NaN after its backward (unless it returned that very array); the input and
    parameter gradients must equal those of a twin whose children behave. Leaf layers pass trivially.
    """
    for shape in input_shapes(spec):
        layer, _ = make_layer(component, spec, registry, input_shape=shape)
        if not children(layer):
            continue
        twin, _ = make_layer(component, spec, registry, input_shape=shape)
        for _, node in list(walk(layer, "layer"))[1:]:
            node.backward = _scribbling(node.backward)  # type: ignore[method-assign]
        x = batch(shape, BATCH, seed=40)
        upstream = np.random.default_rng(41).standard_normal(layer.forward(x.copy(), training=True).shape)
        twin.forward(x.copy(), training=True)
        got, expected = layer.backward(upstream.copy()), twin.backward(upstream.copy())
        what = _what(component, spec, shape)
        if got is None or expected is None or not np.array_equal(got, expected):
            raise ConformanceError(
                f"{what}: its input gradient changes when a child layer overwrites the grad_out it was given "
                "(the protocol allows that); give a child a copy of any gradient still needed afterwards"
            )
        expected_grads = _tree(twin, "grads")
        for key, grad in _tree(layer, "grads").items():
            if not np.array_equal(grad, expected_grads[key]):
                raise ConformanceError(
                    f"{what}: the gradient of {key} changes when a child layer overwrites the grad_out it was "
                    "given (the protocol allows that); give a child a copy of any gradient still needed afterwards"
                )


def _scribbling(backward: Any) -> Any:
    """``backward`` that fills its ``grad_out`` with NaN afterwards, as a layer reusing that memory may."""

    def scribble(grad_out: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        result = backward(grad_out, input_grad=input_grad)
        if result is None or not np.shares_memory(result, grad_out):
            grad_out.fill(np.nan)
        return result  # type: ignore[no-any-return]

    return scribble
