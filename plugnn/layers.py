"""A base for layers without parameters (activations, dropout): the shape passes through unchanged.

Subclasses write ``forward`` and ``backward`` only; ``output_shape`` (= ``input_shape``),
``params``, ``grads`` and ``buffers`` (all empty) are set here. A subclass with settings calls
``super().__init__(spec, input_shape, ctx)`` first.
"""

from __future__ import annotations

from typing import Any

from plugnn.builder import BuildContext
from plugnn.protocols import Array, Shape


class ParameterFreeLayer:
    """``(N, *input_shape) -> (N, *input_shape)`` with no parameters and no buffers."""

    def __init__(self, spec: Any, input_shape: Shape, ctx: BuildContext) -> None:
        self.spec = spec
        self.output_shape = input_shape
        self.params: dict[str, Array] = {}
        self.grads: dict[str, Array] = {}
        self.buffers: dict[str, Array] = {}
