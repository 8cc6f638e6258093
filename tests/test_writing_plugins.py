"""docs/writing-plugins.md, followed word for word in a fresh folder: its files, install, kit, run.

The one liberty: the plugin is installed with ``pip install --target`` into a temporary folder
(offline, no build isolation) instead of into this environment, and used through PYTHONPATH.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parent.parent / "docs" / "writing-plugins.md"
FILE_BLOCK = re.compile(r"^```\w+ file=(\S+)\n(.*?)^```", re.S | re.M)
SHELL_BLOCK = re.compile(r"^```bash\n(.*?)^```", re.S | re.M)


def command(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return done


@pytest.mark.slow
def test_following_the_guide_gives_a_working_plugin(tmp_path) -> None:
    text = DOC.read_text()
    for name, body in FILE_BLOCK.findall(text):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
    shell = "\n".join(SHELL_BLOCK.findall(text))
    for step in (
        "pip install ./my-plugin",
        "plugnn plugins",
        "pytest my-plugin/tests",
        "plugnn run my-plugin/swish-digits.toml",
    ):
        assert step in shell, f"the guide no longer says {step!r}"

    site = tmp_path / "site"
    env = {**os.environ, "PYTHONPATH": str(site), "PLUGNN_STRICT_PLUGINS": "1"}
    command(
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-deps",
        "--no-build-isolation",
        "--target",
        str(site),
        "./my-plugin",
        cwd=tmp_path,
        env=env,
    )

    plugins = command(sys.executable, "-m", "plugnn", "plugins", cwd=tmp_path, env=env).stdout
    assert re.search(r"^swish\s+plugnn-swish 0\.1\.0\s+layer swish \(no ONNX converter\)$", plugins, re.M), plugins

    kit = command(
        sys.executable, "-m", "pytest", "my-plugin/tests", "-q", "-p", "no:cacheprovider", cwd=tmp_path, env=env
    ).stdout
    assert re.search(r"(\d+) passed", kit) and int(re.search(r"(\d+) passed", kit).group(1)) >= 10, kit

    command(
        sys.executable,
        "-m",
        "plugnn",
        "run",
        "my-plugin/swish-digits.toml",
        "--out",
        "run",
        "--quiet",
        cwd=tmp_path,
        env=env,
    )
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert history["test_accuracy"][-1] > 0.9
