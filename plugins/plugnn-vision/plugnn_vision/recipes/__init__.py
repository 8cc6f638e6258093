"""The vision recipes: every ``*.toml`` beside this file, registered under its file name."""

from __future__ import annotations

from pathlib import Path

from plugnn import hookimpl


@hookimpl
def plugnn_register_recipes(register) -> None:
    for path in sorted(Path(__file__).parent.glob("*.toml")):
        register(path.stem, path)
