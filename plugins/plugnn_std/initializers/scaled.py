r"""Draws shared by the fan-scaled initializers (He, Glorot): a normal or a uniform of a given variance.

A uniform on :math:`[-a, a]` has variance :math:`a^2/3`, so variance :math:`\sigma^2` needs
:math:`a = \sqrt{3}\,\sigma`.
"""

from __future__ import annotations

import numpy as np

from plugnn.protocols import Array


def draw(distribution: str, std: float, shape: tuple[int, ...], rng: np.random.Generator, dtype: np.dtype) -> Array:
    """An array of ``shape`` and ``dtype`` with zero mean and standard deviation ``std``."""
    if distribution == "normal":
        values = rng.standard_normal(shape, dtype=dtype)
        values *= std
        return values
    limit = np.sqrt(3.0) * std
    values = rng.random(shape, dtype=dtype)
    values *= 2 * limit
    values -= limit
    return values
