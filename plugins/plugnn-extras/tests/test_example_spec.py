"""The example spec file trains through `plugnn run`, with no change to plugnn itself."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "digits-dropout-adamw.toml"


@pytest.mark.slow
def test_spec_file_with_dropout_and_adamw_trains_on_digits(tmp_path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "plugnn", "run", str(EXAMPLE), "--out", str(tmp_path / "run"), "--quiet"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert len(history["epoch"]) == 40 and history["test_accuracy"][-1] >= 0.97
    spec = (tmp_path / "run" / "spec.toml").read_text()
    assert 'type = "dropout"' in spec and 'type = "adamw"' in spec and 'type = "cosine"' in spec
