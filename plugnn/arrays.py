"""The array types every layer of plugnn names: float batches, integer labels, per-sample shapes.

The bottom of plugnn's import graph (numpy only), so that the protocols, :class:`plugnn.DataSplit`
and the modules below them share the aliases without importing one another.
"""

from __future__ import annotations

from typing import TypeAlias

import numpy as np
import numpy.typing as npt

Array: TypeAlias = npt.NDArray[np.floating]
"""A floating-point array, float32 by default."""

Labels: TypeAlias = npt.NDArray[np.integer]
"""Integer class labels of shape ``(N,)``."""


Shape: TypeAlias = tuple[int, ...]
"""The shape of one sample, without the batch axis: ``(784,)``, or ``(28, 28, 1)`` for an image."""
