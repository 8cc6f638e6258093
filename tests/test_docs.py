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
    exec(
        compile(python_blocks(path), str(path), "exec", dont_inherit=True), {"__name__": "__docs__"}
    )  # as a user runs it
    out = capsys.readouterr().out
    if path.name == "README.md":
        accuracy = float(re.search(r"test accuracy: ([0-9.]+)", out).group(1))
        assert accuracy >= 0.95, out


def test_every_hook_is_documented_with_its_signature() -> None:
    import inspect

    from plugnn import hookspecs

    guide = (ROOT / "docs" / "writing-plugins.md").read_text()
    hooks = [name for name in dir(hookspecs) if name.startswith("plugnn_")]
    assert len(hooks) == 14
    for name in hooks:
        params = ", ".join(inspect.signature(getattr(hookspecs, name)).parameters)
        assert f"`{name}({params})`" in guide, f"docs/writing-plugins.md lacks `{name}({params})`"


def test_ci_runs_the_readme_test_command_exactly() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Test", 1)[1]
    command = re.search(r"```bash\n(.*?)\n```", section, re.S).group(1).strip()
    assert command in (ROOT / ".ci" / "run").read_text().splitlines()


def test_readme_layout_names_files_that_exist() -> None:
    readme = (ROOT / "README.md").read_text()
    layout = readme.split("## Layout", 1)[1]
    for path in re.findall(r"`((?:plugnn|plugins|benchmarks)/[^`]*)`", layout):
        assert (ROOT / path).exists(), f"README's layout names {path}, which does not exist"


def test_the_table_of_kinds_is_the_kinds_declared_in_the_code() -> None:
    from plugnn.kinds import KINDS

    rows = [f"| {k.name} | `{k.hook}` | `{k.spec.__name__}` | `{k.factory}` | `{k.protocol.__name__}` |" for k in KINDS]
    table = "\n".join(["| kind | hook | spec base | factory | protocol |", "|---|---|---|---|---|", *rows])
    assert table in (ROOT / "docs" / "writing-plugins.md").read_text(), f"docs/writing-plugins.md lacks:\n{table}"


def test_contributing_names_every_check_ci_runs() -> None:
    guide = (ROOT / "CONTRIBUTING.md").read_text()
    checks = [
        line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line.split(" ")[0] in {"ruff", "mypy"}
    ]
    assert len(checks) == 3
    for command in checks:
        assert command in guide, f"CONTRIBUTING.md does not mention {command!r}, which CI runs"
