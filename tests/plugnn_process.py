"""``plugnn`` in a child process, for the tests that need a real one (exit codes, signals, entry points)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

PLUGNN = [sys.executable, "-m", "plugnn"]
"""The command that runs this interpreter's plugnn."""


def run_plugnn(
    *args: str, cwd: Path | None = None, env: Mapping[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run ``plugnn args`` to its end; the result holds its exit code, stdout and stderr as text."""
    return subprocess.run(
        [*PLUGNN, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout, check=False
    )
