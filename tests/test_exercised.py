"""Every hook and every installed component is exercised by some test, not merely named in one.

``tests/exercised.py`` records, during the session, the hooks that ran with an implementation and
the components whose factory was called (built, checked by the kit, loaded).
:func:`test_every_hook_and_component_is_exercised` runs last and fails listing what no test
exercised. It checks only a full run, ``python -m pytest`` with no path, ``-k``, ``-m``,
``--deselect`` or ``--lf`` (what CI runs); on a partial run it is skipped, saying why.
"""

from __future__ import annotations

import attrs
import numpy as np
import pytest
from exercised import DESELECTED, HOOKS, SESSION, recording
from plugnn_std import Dense

import plugnn


def partial_run(config: pytest.Config) -> str | None:
    """Why this session is not the full suite, or None."""
    if config.args_source is not pytest.Config.ArgsSource.TESTPATHS:
        return f"tests chosen by path ({' '.join(config.args)})"
    if config.stash.get(DESELECTED, False):
        return "some tests were deselected"
    return None


def test_every_hook_and_component_is_exercised(request) -> None:
    reason = partial_run(request.config)
    if reason:
        pytest.skip(f"checked on a full run only: {reason}")
    missing = SESSION.missing(plugnn.load_registry(strict=True, third_party=True))
    assert not missing, "no test exercises:\n" + "\n".join(missing)


class Untested:
    """A plugin with a layer no test builds."""

    @plugnn.hookimpl
    def plugnn_register_layers(self, register):
        register("untested", attrs.frozen(type("Untested", (plugnn.LayerSpec,), {})), object)


def test_a_component_no_test_builds_is_reported() -> None:
    registry = plugnn.load_registry(strict=True, third_party=False, extra_plugins=[Untested()])
    with recording() as seen:
        loss = registry.tables["loss"].get("softmax_cross_entropy")
        loss.factory(loss.spec())
    missing = seen.missing(registry)
    assert "layer 'untested' from 'Untested'" in missing
    assert "layer 'relu' from 'relu' (plugnn_std.layers.relu from plugnn 0.1.0)" in missing
    assert not any(line.startswith("loss 'softmax_cross_entropy'") for line in missing)
    assert [line for line in missing if line.startswith("hook ")] == [f"hook {name}" for name in HOOKS]


class Counter:
    @plugnn.hookimpl
    def plugnn_batch_end(self, context):
        pass


def test_a_hook_is_exercised_only_when_an_implementation_runs(registry) -> None:
    spec = plugnn.NetworkSpec(layers=[Dense(2)], loss="softmax_cross_entropy", optimizer="sgd", init="he")
    x, y = np.zeros((4, 3), np.float32), np.array([0, 1, 0, 1])
    with recording() as seen:
        plugnn.train(spec, x, y, plugnn.TrainSpec(epochs=1, batch_size=4), registry=registry)
    assert "plugnn_batch_end" not in seen.hooks  # called, but nothing implements it in a bare registry
    with recording() as seen:
        plugnn.train(spec, x, y, plugnn.TrainSpec(epochs=1, batch_size=4), registry=registry, plugins=[Counter()])
    assert "plugnn_batch_end" in seen.hooks
    assert "plugnn_register_layers" not in seen.hooks  # no registry was built inside the block
