"""Checking that an allocation fits in memory before making it, instead of a MemoryError after."""

from __future__ import annotations

import os

from plugnn.errors import PlugnnError


class OutOfMemoryError(PlugnnError):
    """An allocation plugnn was about to make needs more memory than the machine has available."""


def available_bytes() -> int:
    """Memory available to a new allocation: ``MemAvailable`` from ``/proc/meminfo``, else free pages."""
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


def _human(nbytes: float) -> str:
    return f"{nbytes / 2**30:.2f} GiB" if nbytes >= 2**30 else f"{nbytes / 2**20:.1f} MiB"


def ensure_fits(nbytes: int, what: str) -> None:
    """Raise :class:`OutOfMemoryError` naming ``what`` when ``nbytes`` exceed the available memory."""
    available = available_bytes()
    if nbytes > available:
        raise OutOfMemoryError(f"{what} needs {_human(nbytes)} but only {_human(available)} of memory is available")
