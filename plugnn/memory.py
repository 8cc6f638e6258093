"""Checking that an allocation fits in memory before making it, instead of a MemoryError after.

What is available is the least of what the machine has free (``MemAvailable``), what the process's
cgroup still allows (``memory.max`` less ``memory.current``, or v1's ``limit_in_bytes`` less
``usage_in_bytes``) and what its address-space limit (``ulimit -v``, ``RLIMIT_AS``) leaves: a
container or a limited shell is refused up front too, not killed or failing half-way.
"""

from __future__ import annotations

import os
import resource
from pathlib import Path

import numpy as np

from plugnn.errors import PlugnnError

CGROUP_FILES = (
    ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
    ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),
)
"""(limit, usage) files of the process's memory cgroup, v2 then v1, as a container sees them."""


class OutOfMemoryError(PlugnnError):
    """An allocation plugnn was about to make needs more memory than the machine has available."""


def _free_memory() -> int:
    """``MemAvailable`` from ``/proc/meminfo``, else free pages, else unbounded."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return 1 << 62  # unknown: do not refuse


def _cgroup_headroom() -> int:
    """What the memory cgroup still allows (unbounded without a limit)."""
    for limit_file, usage_file in CGROUP_FILES:
        try:
            limit = Path(limit_file).read_text().strip()
            usage = int(Path(usage_file).read_text())
        except (OSError, ValueError):
            continue
        if limit.isdigit() and int(limit) < 1 << 60:  # "max", or v1's 2^63 rounded down to a page: no limit
            return max(0, int(limit) - usage)
    return 1 << 62


def _address_space_headroom() -> int:
    """What ``RLIMIT_AS`` leaves above the process's current virtual size (unbounded without a limit)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return 1 << 62
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            used = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        used = 0
    return max(0, soft - used)


def available_bytes() -> int:
    """Memory available to a new allocation: the least of free memory, cgroup and address-space headroom."""
    return min(_free_memory(), _cgroup_headroom(), _address_space_headroom())


def _human(nbytes: float) -> str:
    return f"{nbytes / 2**30:.2f} GiB" if nbytes >= 2**30 else f"{nbytes / 2**20:.1f} MiB"


def ensure_fits(nbytes: int, what: str) -> None:
    """Raise :class:`OutOfMemoryError` naming ``what`` when ``nbytes`` exceed the available memory."""
    available = available_bytes()
    if nbytes > available:
        raise OutOfMemoryError(f"{what} needs {_human(nbytes)} but only {_human(available)} of memory is available")


def converted(array: np.ndarray, dtype: np.dtype | type, what: str) -> np.ndarray:
    """``array.astype(dtype, copy=False)``, its copy (when the dtype differs) checked to fit first."""
    target = np.dtype(dtype)
    if array.dtype != target:
        ensure_fits(array.size * target.itemsize, f"{what} as {target}")
    return array.astype(target, copy=False)
