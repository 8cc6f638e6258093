"""``plugnn new-plugin``: the distributions it writes install, and pass their own kit as generated.

Two kinds go end to end (written by the command, installed with pip, their generated tests run by
pytest in a child process, as a plugin author would); the other kinds' modules are loaded here and
checked by the kit in this process, which is much faster. Installation follows
tests/test_writing_plugins.py: ``pip install --target`` a temporary folder, offline, no build
isolation, used through PYTHONPATH, so this environment's plugins do not change.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from scaffolded import scaffolded

import plugnn
from plugnn.cli import main
from plugnn.scaffold import KINDS
from plugnn.testing import iter_checks


def run(*args: str, cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.mark.slow
def test_generated_plugins_install_and_pass_their_generated_tests(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    for kind in ("layer", "dataset"):
        assert main(["new-plugin", f"my_{kind}", "--kind", kind]) == 0
        assert f"wrote plugnn-my-{kind}; then: cd plugnn-my-{kind}" in capsys.readouterr().out
    pyproject = (tmp_path / "plugnn-my-layer" / "pyproject.toml").read_text()
    assert 'my_layer = "plugnn_my_layer"' in pyproject and 'test = ["plugnn[kit]>=' in pyproject

    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site"), "PLUGNN_STRICT_PLUGINS": "1"}
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation"]
    run(*pip, "--target", "site", "./plugnn-my-layer", "./plugnn-my-dataset", cwd=tmp_path, env=env)
    out = run(
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "plugnn-my-layer", "plugnn-my-dataset",
        cwd=tmp_path, env=env,
    )  # fmt: skip
    passed = re.search(r"(\d+) passed", out)
    assert passed and int(passed.group(1)) >= 25 and "failed" not in out, out


@pytest.mark.parametrize("kind", ["optimizer", "loss", "callback"])
def test_each_kind_passes_the_kit_as_generated(tmp_path, kind) -> None:
    module = scaffolded(kind, tmp_path / "p", f"fresh_{kind}")
    assert (tmp_path / f"p/tests/test_fresh_{kind}_kit.py").read_text().count(f'plugins=["fresh_{kind}"]') == 1
    registry = plugnn.load_registry(extra_plugins=[module])
    assert registry.tables[kind].get(f"fresh_{kind}").plugin == f"plugnn_fresh_{kind}"
    checks = list(iter_checks(registry, plugins=[f"plugnn_fresh_{kind}"]))
    assert len(checks) >= 5
    for check in checks:
        check()  # a skip (pytest.skip.Exception) would fail here too: every check runs


def test_every_kind_is_offered(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["new-plugin", "--help"])
    assert "{layer,optimizer,loss,callback,dataset}" in capsys.readouterr().out
    assert list(KINDS) == ["layer", "optimizer", "loss", "callback", "dataset"]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("My-Layer", r"plugin name 'My-Layer': expected a lowercase Python identifier"),
        ("2fast", r"plugin name '2fast': expected a lowercase Python identifier"),
        ("class", r"plugin name 'class': expected a lowercase Python identifier"),
        ("adam", r"plugin name 'adam' is taken by an installed plugin \(plugnn_std\.optimizers\.adam\)"),
        ("leaky_relu", r"plugin name 'leaky_relu': a layer 'leaky_relu' is already registered by plugin 'activations'"),
        ("std", r"plugin name 'std': a module plugnn_std is already installed"),
    ],
)
def test_a_bad_or_taken_name_is_one_line_and_writes_nothing(tmp_path, monkeypatch, capsys, name, message) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["new-plugin", name]) == 1
    err = capsys.readouterr().err
    assert err.startswith("plugnn: error: ") and len(err.strip().splitlines()) == 1, err
    assert re.search(message, err), err
    assert not any(tmp_path.iterdir())


def test_an_existing_folder_is_refused_unless_empty(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "plugnn-mine").mkdir()
    (tmp_path / "plugnn-mine" / "notes.txt").write_text("mine")
    (tmp_path / "a-file").write_text("mine")
    for folder in ("plugnn-mine", "a-file"):
        with pytest.raises(plugnn.PlugnnError, match=rf"^{folder}: already exists and is not an empty folder"):
            plugnn.new_plugin("mine", folder=folder)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a-file", "notes.txt", "plugnn-mine"]
    (tmp_path / "empty").mkdir()
    assert plugnn.new_plugin("mine", folder="empty") == Path("empty")
    assert (tmp_path / "empty" / "plugnn_mine.py").is_file()
