"""The Python code blocks of README.md and docs/*.md run as written, so the docs cannot rot."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def python_blocks(path: Path) -> str:
    return "\n".join(BLOCK.findall(path.read_text()))


@pytest.mark.slow
@pytest.mark.parametrize("path", [p for p in DOCS if python_blocks(p)], ids=lambda p: p.name)
def test_python_blocks_run(path: Path, capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    exec(compile(python_blocks(path), str(path), "exec"), {"__name__": "__docs__"})
    out = capsys.readouterr().out
    if path.name == "README.md":
        accuracy = float(re.search(r"test accuracy: ([0-9.]+)", out).group(1))
        assert accuracy >= 0.95, out
