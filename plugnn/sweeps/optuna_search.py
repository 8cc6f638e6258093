"""``--search optuna``: trials chosen one round at a time by Optuna's TPE sampler.

The search space is the sweep's random fields, each distribution as Optuna's: ``uniform`` ->
``FloatDistribution(a, b)``, ``log_uniform`` -> ``FloatDistribution(a, b, log=True)``,
``int_uniform`` -> ``IntDistribution(a, b)``, ``choice`` -> ``CategoricalDistribution`` (of plain
values). Each round asks for as many trials as there are workers, runs them as ordinary trial
folders, and tells the study each trial's final metric (a failed trial is told as failed). The
sampler is seeded with the sweep's ``random_seed``, so the same sweep asks the same trials in the
same order: a rerun into the same folder finds the finished ones done, tells their results again,
and goes on where it stopped. Optuna is an optional extra (``pip install 'plugnn[optuna]'``).
"""

from __future__ import annotations

import math
from typing import Any

from plugnn.sweeps.spec import SweepError, SweepSpec, Trial


def require_optuna() -> Any:
    """The ``optuna`` module, or a :class:`SweepError` naming the extra to install."""
    try:
        import optuna
    except ImportError:
        raise SweepError("sweep search optuna needs Optuna: pip install 'plugnn[optuna]'") from None
    return optuna


class OptunaSearch:
    """A study over ``spec.random``, maximising or minimising ``spec.metric`` as ``spec.ranking`` says."""

    def __init__(self, spec: SweepSpec) -> None:
        self.optuna = optuna = require_optuna()
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.spec = spec
        self.space = {path: _distribution(optuna, path, d) for path, d in spec.random.items()}
        sampler = optuna.samplers.TPESampler(seed=spec.random_seed)
        direction = "maximize" if spec.ranking == "max" else "minimize"
        self.study = optuna.create_study(direction=direction, sampler=sampler)
        self.pending: dict[str, Any] = {}  # trial name -> Optuna's trial, asked and not yet told
        self.asked = 0

    def ask(self, count: int) -> list[Trial]:
        """The next ``count`` trials (``trial-NNN`` numbered on from the last)."""
        trials = []
        for _ in range(count):
            asked = self.study.ask(self.space)
            trial = Trial(f"trial-{self.asked:03d}", dict(asked.params), self.spec.seeds[0])
            self.pending[trial.name] = asked
            trials.append(trial)
            self.asked += 1
        return trials

    def tell(self, name: str, value: float) -> None:
        """The finished trial ``name``'s final metric (NaN: it failed)."""
        asked = self.pending.pop(name)
        if math.isfinite(value):
            self.study.tell(asked, value)
        else:
            self.study.tell(asked, state=self.optuna.trial.TrialState.FAIL)


def _distribution(optuna: Any, path: str, distribution: dict[str, Any]) -> Any:
    kind, args = next(iter(distribution.items()))
    if kind == "uniform":
        return optuna.distributions.FloatDistribution(float(args[0]), float(args[1]))
    if kind == "log_uniform":
        return optuna.distributions.FloatDistribution(float(args[0]), float(args[1]), log=True)
    if kind == "int_uniform":
        return optuna.distributions.IntDistribution(int(args[0]), int(args[1]))
    if not all(value is None or isinstance(value, (bool, int, float, str)) for value in args):
        raise SweepError(f"sweep random {path}: Optuna chooses among plain values (numbers, text), got {args!r}")
    return optuna.distributions.CategoricalDistribution(list(args))
