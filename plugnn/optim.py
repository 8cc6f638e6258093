"""A base for element-wise optimizers: a step count and named buffers per parameter, exportable.

Subclasses name their buffers (Adam: ``("m", "v")``) and implement :meth:`update` for one
parameter; this class creates the buffers on the first step and turns them into a flat
``state_dict`` of plain arrays (``{"t": 3, "m.0": ..., "v.0": ...}``) and back. Each parameter
also gets a scratch array for temporaries, so that an update allocates nothing.

Because the update is element-wise, a contiguous parameter (the network's flat buffer) is updated
by :func:`plugnn.parallel.for_rows`: one share per thread of the run's budget, each in blocks that
stay in the core's cache across the update's several passes. Every element sees the same operations
in the same order, so the result is bit-identical to a single-threaded update.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from plugnn.parallel import for_rows
from plugnn.protocols import Array


class BufferedOptimizer:
    """Element-wise optimizer with per-parameter buffers; see the module docstring."""

    buffer_names: tuple[str, ...] = ()

    def __init__(self, spec: Any) -> None:
        """``spec`` is the optimizer's spec; its ``lr`` is the starting learning rate."""
        self.spec = spec
        self.lr = float(spec.lr)
        self.t = 0
        self.buffers: list[dict[str, Array]] = []
        self._scratch: list[Array] = []

    def step(self, params: Sequence[Array], grads: Sequence[Array]) -> None:
        """Count the step (``t`` starts at 1), then :meth:`update` each parameter in place."""
        if not self.buffers:
            self.buffers = [{name: np.zeros_like(p) for name in self.buffer_names} for p in params]
        if len(self.buffers) != len(params):
            raise ValueError(f"{type(self).__name__} holds state for {len(self.buffers)} parameters, got {len(params)}")
        if not self._scratch:
            self._scratch = [np.empty_like(p) for p in params]
        self.t += 1
        for param, grad, buffers, scratch in zip(params, grads, self.buffers, self._scratch, strict=True):
            arrays = [param, grad, scratch, *buffers.values()]
            if not all(a.flags.c_contiguous for a in arrays):
                self.update(param, grad, buffers, scratch)
                continue
            flat = [a.reshape(-1) for a in arrays]  # views: contiguous arrays reshape without copying
            for_rows(self._updater(flat, tuple(buffers)), param.size, param.itemsize)

    def _updater(self, flat: list[Array], names: tuple[str, ...]) -> Callable[[slice], None]:
        """``update`` of the elements ``rows`` of the flat ``[param, grad, scratch, *buffers]``."""

        def update(rows: slice) -> None:
            param, grad, scratch, *buffers = (a[rows] for a in flat)
            self.update(param, grad, dict(zip(names, buffers, strict=True)), scratch)

        return update

    def update(self, param: Array, grad: Array, buffers: dict[str, Array], scratch: Array) -> None:
        """Update one parameter in place from its gradient and its buffers (also updated in place).

        ``scratch`` is an uninitialised array shaped like ``param`` for temporaries.
        """
        raise NotImplementedError

    def state_dict(self) -> dict[str, np.ndarray]:
        state: dict[str, np.ndarray] = {"t": np.array(self.t, dtype=np.int64)}
        for index, buffers in enumerate(self.buffers):
            state.update({f"{name}.{index}": value.copy() for name, value in buffers.items()})
        return state

    def load_state_dict(self, state: Mapping[str, np.ndarray]) -> None:
        """Take a :meth:`state_dict` back; refuses other names or a step count that is not an integer >= 0.

        Shapes and dtypes are checked against the parameters by :mod:`plugnn.optimizer_state` before.
        """
        count = len({key.split(".")[1] for key in state if "." in key})
        expected = {"t"} | {f"{name}.{i}" for name in self.buffer_names for i in range(count)}
        if set(state) != expected:
            raise ValueError(f"{type(self).__name__} state needs keys {sorted(expected)}, got {sorted(state)}")
        t = np.asarray(state["t"])
        if t.shape != () or t.dtype.kind not in "iu" or int(t) < 0:
            raise ValueError(f"{type(self).__name__} state 't' must be a step count >= 0, got {t!r}")
        self.t = int(t)
        self.buffers = [{name: np.array(state[f"{name}.{i}"]) for name in self.buffer_names} for i in range(count)]
