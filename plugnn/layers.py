"""A base for layers without parameters (activations, dropout): the width passes through unchanged.

Subclasses write ``forward`` and ``backward`` only; ``out_features``, ``params`` and ``grads`` are
set here. A subclass with settings calls ``super().__init__(spec, in_features, ctx)`` first.
"""

from __future__ import annotations

from typing import Any

from plugnn.builder import BuildContext
from plugnn.protocols import Array


class ParameterFreeLayer:
    """``(N, D) -> (N, D)`` with no trainable parameters."""

    def __init__(self, spec: Any, in_features: int, ctx: BuildContext) -> None:
        self.spec = spec
        self.out_features = in_features
        self.params: dict[str, Array] = {}
        self.grads: dict[str, Array] = {}
