r"""The conformance kit: checks any registered component against plugnn's contracts.

Use it from a plugin's own test suite, the way scikit-learn's ``parametrize_with_checks`` is used::

    from plugnn.testing import parametrize_with_checks

    @parametrize_with_checks(plugins=["my_layer"])
    def test_conformance(check):
        check()

Each check is one pytest case named ``<kind>:<name>[<example>]-<check>``; a failure raises
:class:`ConformanceError` naming the component, the check and expected vs got. Each component is
checked with every instance its spec class's ``examples()`` returns; a spec class may also list
``invalid_examples()`` (dicts of bad settings) for the validator check. A layer is built for each
per-sample shape its spec class's ``example_input_shapes()`` lists (two flat shapes by default), and
``invalid_input_shapes()`` lists shapes it must refuse with :class:`plugnn.ShapeError`. A check that
does not apply to a component is named, with the reason, in its spec class's ``not_applicable()``:
the case is reported as skipped with that reason. An error of the component's own inside a check
(numpy's broadcast error, say) fails the case naming the check and what it was fed:
``layer:swish[0]-shapes on input shape (N, 3): ValueError: ...``.

What is checked, by kind:

* every kind: strict spec structuring (unknown keys, wrong types), validators, dict/TOML round trip;
* layers, for each example input shape: the protocol (output shape, params, grads, buffers),
  finite-difference gradients for the input and every parameter in inference and training mode
  (float64), float32 preservation, shapes for batches of 1, 2 and 7, determinism, parameters read
  and gradients written through ``params``/``grads`` after the network re-binds them, buffers restored
  into a new layer giving identical outputs, inference mode leaving buffers and the noise generator
  alone and treating samples independently, ``ShapeError`` for ``invalid_input_shapes()``, and the
  ONNX converter run by onnxruntime giving the inference-mode forward's values (skipped without a
  converter or without onnx and onnxruntime: :mod:`plugnn.testing.onnx_checks`);
* losses: the protocol, finite-difference gradients, float32 preservation, shapes;
* optimizers: the protocol, descent on a convex quadratic, state kept per parameter, state
  export/import resuming bit for bit, float32 preservation, one state layout, and every step equal
  to the spec's ``reference_step`` (the paper's formula in plain numpy; skipped if it declares none);
* initializers: the protocol, shape and dtype, the stated variance, determinism;
* schedules: finite, positive, repeatable factors;
* callbacks: the protocol (``monitors``, state as named arrays), valid training-event hooks (at
  least one), state export/import round trip.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from importlib import import_module
from typing import Any

import attrs

from plugnn.kinds import KINDS
from plugnn.plugins import load_registry
from plugnn.registry import Component, Registry
from plugnn.testing import spec_checks
from plugnn.testing.build import FixedNormal, make_layer
from plugnn.testing.errors import CheckSkipped, ConformanceError, subject, working_on
from plugnn.testing.gradients import assert_gradient_close, numeric_gradient

CheckFunction = Callable[[Component, Any, Registry], None]


def _checks_of(module: Any) -> list[CheckFunction]:
    return [getattr(module, name) for name in dir(module) if name.startswith("check_")]


CHECKS: dict[str, list[CheckFunction]] = {
    kind.name: (_checks_of(import_module(f"plugnn.testing.{kind.checks}")) if kind.checks else [])
    + _checks_of(spec_checks)
    for kind in KINDS
}
"""The checks each kind must pass: its own (:attr:`plugnn.kinds.Kind.checks`), then the spec checks."""


@attrs.frozen
class Check:
    """One (component, example, check) case; call it to run the check."""

    component: Component
    example: int
    spec: Any
    name: str
    function: CheckFunction
    registry: Registry

    @property
    def id(self) -> str:
        return f"{self.component.kind}:{self.component.name}[{self.example}]-{self.name}"

    @property
    def not_applicable(self) -> str | None:
        """Why this check does not apply to the component (its spec class says so), or None."""
        reasons: dict[str, str] = type(self.spec).not_applicable()
        return reasons.get(self.name)

    def __call__(self) -> None:
        """Run the check; one the component marks not applicable, or that cannot run here, is skipped.

        An error of the component's own (anything but a :class:`ConformanceError`, e.g. numpy's
        broadcast error from a layer's forward) becomes a :class:`ConformanceError` naming the check
        and what it was fed: ``layer:scale[0]-shapes on input shape (N, 5): ValueError: ...``.
        """
        if self.not_applicable is not None:
            import pytest

            pytest.skip(f"{self.id}: not applicable: {self.not_applicable}")
        working_on(None)
        try:
            self.function(self.component, self.spec, self.registry)
        except ConformanceError:
            raise
        except CheckSkipped as exc:
            import pytest

            pytest.skip(f"{self.id}: {exc}")
        except Exception as exc:
            where = f" on {subject()}" if subject() else ""
            raise ConformanceError(f"{self.id}{where}: {type(exc).__name__}: {exc}") from exc


def iter_checks(registry: Registry, *, plugins: Iterable[str] | None = None) -> Iterator[Check]:
    """Every (component, example, check) of ``registry``, or of the named plugins' components only."""
    wanted = set(plugins) if plugins is not None else None
    for component in registry.components():
        if wanted is not None and component.plugin not in wanted:
            continue
        names = {function.__name__.removeprefix("check_") for function in CHECKS[component.kind]}
        unknown = sorted(set(component.spec.not_applicable()) - names)  # type: ignore[attr-defined]
        if unknown:
            raise ConformanceError(
                f"{component.kind} {component.name!r}: {component.spec.__name__}.not_applicable() names "
                f"unknown checks {unknown}; the checks are {sorted(names)}"
            )
        for index, spec in enumerate(component.spec.examples()):  # type: ignore[attr-defined]
            for function in CHECKS[component.kind]:
                name = function.__name__.removeprefix("check_")
                if name == "shape_errors" and not spec.invalid_input_shapes():
                    continue  # the spec declares no shape it refuses: nothing to check
                yield Check(component, index, spec, name, function, registry)


def parametrize_with_checks(registry: Registry | None = None, *, plugins: Iterable[str] | None = None) -> Any:
    """A ``pytest.mark.parametrize("check", ...)`` over :func:`iter_checks`, one named case each.

    ``plugins`` restricts the checks to components registered by those plugins (entry-point
    names); the default checks every component in the registry. Without a ``registry``, one is
    built for these checks from every installed plugin.
    """
    import pytest

    checks = list(iter_checks(registry or load_registry(), plugins=plugins))
    if not checks:
        raise ConformanceError(f"no components to check (plugins={plugins!r}); is the plugin installed?")
    return pytest.mark.parametrize("check", checks, ids=[check.id for check in checks])


__all__ = [
    "CHECKS",
    "Check",
    "CheckSkipped",
    "ConformanceError",
    "FixedNormal",
    "assert_gradient_close",
    "iter_checks",
    "make_layer",
    "numeric_gradient",
    "parametrize_with_checks",
]
