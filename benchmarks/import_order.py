"""Imported first by bench.py and bench_cnn.py, before plugnn: the import order a worker measures.

``plugnn-np1st`` workers (the last two arguments ``--worker plugnn-np1st``) import numpy here, as a
script that imports numpy before plugnn does, so that plugnn's ``OPENBLAS_THREAD_TIMEOUT`` comes
after OpenBLAS has loaded. ``ENVIRONMENT`` is the environment as the user gave it, before plugnn's
import sets that variable: every worker starts from it.
"""

from __future__ import annotations

import os
import sys

ENVIRONMENT = dict(os.environ)
if sys.argv[-2:] == ["--worker", "plugnn-np1st"]:
    import numpy  # noqa: F401
