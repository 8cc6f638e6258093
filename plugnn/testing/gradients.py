r"""Finite-difference gradients and their comparison with analytic ones.

Central differences :math:`\partial f/\partial a_i \approx (f(a + h e_i) - f(a - h e_i)) / 2h`, in float64.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from plugnn.protocols import Array
from plugnn.testing.errors import ConformanceError

STEP = 1e-6
"""Central-difference step ``h``."""
RTOL = 1e-5
"""Largest allowed error ``|a - n| / max(|a| + |n|, FLOOR)`` between analytic and numeric gradients."""
FLOOR = 1e-3
"""Below this magnitude an entry is judged by absolute error (``RTOL * FLOOR``): central differences
carry a round-off of about ``1e-10`` that would swamp a purely relative test on tiny entries."""


def numeric_gradient(objective: Callable[[], float], array: Array, step: float = STEP) -> Array:
    """Central-difference gradient of ``objective()`` with respect to ``array``, perturbed in place."""
    grad = np.zeros(array.shape, dtype=np.float64)
    flat, out = array.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        saved = flat[i]
        flat[i] = saved + step
        plus = objective()
        flat[i] = saved - step
        minus = objective()
        flat[i] = saved
        out[i] = (plus - minus) / (2 * step)
    return grad


def assert_gradient_close(analytic: Array, numeric: Array, what: str, rtol: float = RTOL) -> None:
    """Raise :class:`ConformanceError` with the largest relative error and where it is."""
    analytic = np.asarray(analytic, dtype=np.float64)
    if analytic.shape != numeric.shape:
        raise ConformanceError(f"{what}: gradient shape {analytic.shape}, expected {numeric.shape}")
    if not analytic.size:
        return
    error = np.abs(analytic - numeric) / np.maximum(np.abs(analytic) + np.abs(numeric), FLOOR)
    worst = np.unravel_index(np.argmax(error), error.shape)
    if error[worst] > rtol:
        raise ConformanceError(
            f"{what}: wrong gradient, largest relative error {error[worst]:.3g} (tolerance {rtol:g}) "
            f"at index {tuple(int(i) for i in worst)}: analytic {analytic[worst]:.6g}, numeric {numeric[worst]:.6g}"
        )
