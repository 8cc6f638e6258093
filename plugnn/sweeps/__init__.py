"""Hyper-parameter sweeps: a grid and/or random search over run-spec fields × seeds.

:mod:`~plugnn.sweeps.spec` declares a sweep, :mod:`~plugnn.sweeps.trial` runs one trial in a worker,
:mod:`~plugnn.sweeps.backends` runs them on joblib processes or Dask, :mod:`~plugnn.sweeps.results`
tabulates and plots them, :mod:`~plugnn.sweeps.runner` ties it together as :func:`sweep`.
"""

from plugnn.sweeps.runner import SweepResult, describe_best, sweep
from plugnn.sweeps.spec import SweepError, SweepSpec, Trial

__all__ = ["SweepError", "SweepResult", "SweepSpec", "Trial", "describe_best", "sweep"]
