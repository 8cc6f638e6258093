"""Conformance checks for data augmentations (:class:`plugnn.protocols.Augmentation`).

Each check builds the augmentation for every sample shape its spec class's
``example_input_shapes()`` lists and calls it on standard-normal batches.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from plugnn.protocols import Array, Augmentation, Shape
from plugnn.registry import Component, Registry
from plugnn.testing.build import batch, input_shapes, label
from plugnn.testing.errors import ConformanceError, expect_shape_error

BATCH = 16
"""Samples per batch in the determinism checks: enough for two seeds to draw differently."""


def _build(component: Component, spec: Any, shape: Shape) -> Augmentation:
    augmentation = component.factory(spec, shape)
    if not isinstance(augmentation, Augmentation):
        raise ConformanceError(
            f"{label(component, spec)} for samples {shape}: not a plugnn Augmentation (callable as f(x, rng))"
        )
    return augmentation


def _apply(augmentation: Augmentation, x: Array, seed: int) -> Array:
    """The augmented batch as a copy (the protocol lets an augmentation reuse its output buffer)."""
    return np.array(augmentation(x, np.random.default_rng(seed)))


def check_protocol(component: Component, spec: Any, registry: Registry) -> None:
    """The factory gives a :class:`plugnn.Augmentation` for each example sample shape."""
    for shape in input_shapes(spec):
        _build(component, spec, shape)


def check_shapes_and_dtype(component: Component, spec: Any, registry: Registry) -> None:
    """Batches of 1, 2 and 7 keep their shape and dtype (float32 and float64) and stay finite."""
    for shape in input_shapes(spec):
        augmentation = _build(component, spec, shape)
        for dtype in ("float32", "float64"):
            for n in (1, 2, 7):
                out = augmentation(batch(shape, n, n, dtype), np.random.default_rng(0))
                if out.shape != (n, *shape) or out.dtype != np.dtype(dtype):
                    raise ConformanceError(
                        f"{label(component, spec)}: a batch {dtype}{(n, *shape)} became {out.dtype}{out.shape}; "
                        "an augmentation keeps the shape and dtype"
                    )
                if not np.isfinite(out).all():
                    raise ConformanceError(f"{label(component, spec)}: non-finite values from finite {dtype} input")


def check_input_unchanged(component: Component, spec: Any, registry: Registry) -> None:
    """Read-only input, in C and Fortran order, is accepted and left as it was (it may be the dataset)."""
    for shape in input_shapes(spec):
        augmentation = _build(component, spec, shape)
        for order in ("C", "F"):
            x = np.asarray(batch(shape, 7, 0, "float32"), order=order)
            kept = x.copy()
            x.setflags(write=False)
            try:
                reference = _apply(augmentation, kept, 3)
                got = _apply(augmentation, x, 3)
            except ValueError as exc:
                if "read-only" not in str(exc):
                    raise
                raise ConformanceError(f"{label(component, spec)}: wrote into its input: {exc}") from None
            if not np.array_equal(x, kept):
                raise ConformanceError(f"{label(component, spec)}: changed its input ({order} order)")
            if not np.array_equal(got, reference):
                raise ConformanceError(
                    f"{label(component, spec)}: a batch in {order} order gave other values than in C order"
                )


def check_determinism(component: Component, spec: Any, registry: Registry) -> None:
    """The same generator state gives the same output (also after other calls); another seed another."""
    for shape in input_shapes(spec):
        augmentation = _build(component, spec, shape)
        x = batch(shape, BATCH, 0, "float32")
        first = _apply(augmentation, x, 1)
        _apply(augmentation, x, 2)
        if not np.array_equal(first, _apply(augmentation, x, 1)):
            raise ConformanceError(f"{label(component, spec)} on samples {shape}: the same seed gave different batches")
        if np.array_equal(first, _apply(augmentation, x, 2)):
            raise ConformanceError(
                f"{label(component, spec)} on samples {shape}: seeds 1 and 2 gave the same batch of {BATCH}; "
                "an augmentation draws its randomness from the generator it is given"
            )


def _global_state() -> tuple[Any, ...]:
    """numpy's legacy global random state, comparable with ``==``."""
    state: Any = np.random.get_state()
    name, keys, position, has_gauss, cached = state
    return name, keys.tobytes(), position, has_gauss, cached


def check_generator_only(component: Component, spec: Any, registry: Registry) -> None:
    """It draws from the generator it is given (which advances), never from numpy's global state."""
    for shape in input_shapes(spec):
        augmentation = _build(component, spec, shape)
        rng = np.random.default_rng(0)
        before, global_before = rng.bit_generator.state, _global_state()
        augmentation(batch(shape, BATCH, 0, "float32"), rng)
        if rng.bit_generator.state == before:
            raise ConformanceError(f"{label(component, spec)}: drew nothing from the generator it was given")
        if _global_state() != global_before:
            raise ConformanceError(f"{label(component, spec)}: drew from numpy's global random state")


def check_shape_errors(component: Component, spec: Any, registry: Registry) -> None:
    """Each of ``invalid_input_shapes()`` raises :class:`plugnn.ShapeError`, one line naming the shape."""
    for shape in spec.invalid_input_shapes():
        what = f"{label(component, spec)} built for samples {tuple(shape)}"
        expect_shape_error(what, tuple(shape), partial(component.factory, spec, tuple(shape)))
