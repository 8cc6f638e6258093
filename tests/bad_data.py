"""A dataset plugin serving broken data, to drive each bad-input path through the command line."""

from __future__ import annotations

import attrs
import numpy as np

import plugnn
from plugnn.data import DataSplit
from plugnn.specs import DatasetSpec


@attrs.frozen
class Bad(DatasetSpec):
    """``path`` names the problem (``--data bad:nan``)."""

    path: str = "ok"


def _split(problem: str) -> DataSplit:
    rng = np.random.default_rng(0)
    x = rng.random((40, 4)).astype(np.float32)
    y = np.arange(40) % 3
    xt, yt = x[:10].copy(), y[:10].copy()
    if problem == "nan":
        x[5, 2] = np.nan
    elif problem == "inf":
        xt[1, 0] = np.inf
    elif problem == "labels-range":
        y[3] = 12
    elif problem == "labels-float":
        y = y + 0.5
    elif problem == "lengths":
        y = y[:-1]
    elif problem == "empty":
        x, y = x[:0], y[:0]
    elif problem == "uint8":
        x = (x * 255).astype(np.uint8)
    elif problem == "width":
        xt = xt[:, :3]
    return DataSplit(x, y, xt, yt, ("a", "b", "c"))


class BadDataset:
    def __init__(self, spec: Bad) -> None:
        self.problem = spec.path

    def load(self) -> DataSplit:
        return _split(self.problem)


class BadDataPlugin:
    @plugnn.hookimpl
    def plugnn_register_datasets(self, register):
        register("bad", Bad, BadDataset)
