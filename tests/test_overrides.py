"""Overrides by dotted path (``plugnn run --set KEY=VALUE`` and :func:`plugnn.apply_overrides`)."""

from __future__ import annotations

from importlib.metadata import version

import pytest

import plugnn
from plugnn import kernels
from plugnn.cli import main
from plugnn.overrides import apply_overrides, flatten, format_path, parse_assignment, parse_path, parse_value
from plugnn.run import load_recipe


@pytest.fixture(scope="module")
def quickstart():
    registry = plugnn.default_registry()
    return load_recipe("quickstart", registry)[1], registry


def test_paths_reach_every_level(quickstart) -> None:
    spec, registry = quickstart
    new = plugnn.apply_overrides(
        spec,
        {
            "train.epochs": 3,
            "network.optimizer.lr": 0.01,
            "data": "digits",
            "network.layers[2].units": 50,
            "network.layers.0.init": "glorot",
            "train.dtype": "float64",
        },
        registry,
    )
    assert new.train.epochs == 3 and new.train.dtype == "float64" and new.network.optimizer.lr == 0.01
    assert new.network.layers[2].units == 50 and new.network.layers[0].init == "glorot"
    assert new.network.optimizer.beta1 == spec.network.optimizer.beta1  # the rest is kept
    assert spec.train.epochs == 30  # the original is untouched


def test_a_bare_name_expands_and_type_swaps_the_component(quickstart) -> None:
    spec, registry = quickstart
    swapped = plugnn.apply_overrides(spec, {"network.optimizer.type": "sgd", "network.optimizer.lr": 0.5}, registry)
    assert plugnn.unstructure(swapped.network.optimizer, registry) == {"type": "sgd", "lr": 0.5}
    inited = plugnn.apply_overrides(spec, {"network.init.distribution": "uniform"}, registry)  # init = "he"
    assert inited.network.init.distribution == "uniform"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"train.epoch": 3},
            "train: unknown key 'epoch' (did you mean 'epochs'?); valid keys: epochs, batch_size, shuffle, seed",
        ),
        ({"network.optimizer.lrr": 1.0}, "network.optimizer: unknown key 'lrr' (did you mean 'lr'?); valid keys: type"),
        ({"nework.layers": []}, "the RunSpec: unknown key 'nework' (did you mean 'network'?); valid keys: data"),
        ({"train.epochs": 3.5}, "train.epochs: expected int, got float 3.5"),
        ({"network.optimizer.lr": "fast"}, "network.optimizer.lr: expected float, got str 'fast'"),
        ({"train.epochs": 0}, "train.epochs: must be > 0 (got 0)"),
        ({"network.layers[9].units": 1}, "network.layers: no entry 9; it has 5: [0], [1], [2], [3], [4]"),
        ({"network.layers[1].units": 1}, "network.layers[1]: unknown key 'units'; valid keys: type"),
        ({"train.epochs.x": 1}, "train.epochs: is int 30, which has no field 'x'"),
        ({"train.schedule.factor": 1}, "train.schedule: is not set; set it whole first"),
        ({"data": "digts"}, "data: unknown dataset 'digts'; did you mean 'digits'"),
        ({"a..b": 1}, "a..b: not a field path"),
    ],
)
def test_bad_overrides_name_the_path(quickstart, overrides, message) -> None:
    spec, registry = quickstart
    with pytest.raises(plugnn.SpecError) as caught:
        plugnn.apply_overrides(spec, overrides, registry)
    assert message in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("train.epochs=3", ("train.epochs", 3)),
        ("network.optimizer.lr=1e-3", ("network.optimizer.lr", 1e-3)),
        ("data=digits", ("data", "digits")),
        ('data="digits"', ("data", "digits")),
        ("train.shuffle=false", ("train.shuffle", False)),
        ("network.optimizer={type = 'sgd', lr = 0.1}", ("network.optimizer", {"type": "sgd", "lr": 0.1})),
        ("description=a = b", ("description", "a = b")),
    ],
)
def test_assignments_read_values_as_toml(text, expected) -> None:
    assert parse_assignment(text) == expected


def test_paths_round_trip() -> None:
    assert parse_path("network.layers[2].units") == ["network", "layers", 2, "units"]
    assert format_path(parse_path("network.layers.2.units")) == "network.layers[2].units"


def test_cli_set_reaches_the_saved_spec(tmp_path, capsys) -> None:
    out = tmp_path / "run"
    argv = ["run", "--quiet", "--out", str(out), "--set", "train.epochs=1", "--set", "network.optimizer.lr=0.01"]
    assert main([*argv, "--set", "network.layers[2].units=20", "--epochs", "2"]) == 0
    saved = (out / "spec.toml").read_text()
    assert "lr = 0.01" in saved and "epochs = 1" in saved and "units = 20" in saved  # --set wins over --epochs


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["run", "--set", "train.epochs"], 2, "plugnn run: error: argument --set: expected KEY=VALUE"),
        (["run", "--set", "train.epochs=x"], 1, "plugnn: error: invalid spec: train.epochs: expected int, got str 'x'"),
        (["run", "--bogus"], 2, "plugnn run: error: unrecognized arguments: --bogus (see plugnn run --help)"),
        (["show", "quick"], 1, "unknown recipe 'quick'; did you mean 'quickstart'?"),
        (
            ["show", "nope"],
            1,
            "mnist-mlp, quickstart, seed-adam, seed-sgd (or give the path",
        ),  # other plugins' recipes may come first
        (["run", "--resume", "x", "--set", "a=1"], 1, "it takes no --set"),
    ],
)
def test_cli_errors_are_one_line(argv, code, message, capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    try:
        assert main(argv) == code
    except SystemExit as exc:
        assert exc.code == code
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "runs").exists()


def test_version_comes_from_the_package_metadata(capsys) -> None:
    assert plugnn.__version__ == version("plugnn")
    with pytest.raises(SystemExit) as caught:
        main(["--version"])
    out = capsys.readouterr().out
    assert caught.value.code == 0 and out == f"plugnn {plugnn.__version__}; kernels: {kernels.describe()}\n"


def test_a_flattened_spec_sets_back_to_itself(registry) -> None:
    spec = load_recipe("quickstart", registry)[1]
    flat = flatten(plugnn.unstructure(spec, registry))
    assert flat["network.optimizer.lr"] == "0.001" and flat["network.layers.1"] == "relu"
    assert flat["train.callbacks"] == "[]" and flat["train.shuffle"] == "true"
    changed = {p: value for p, value in flat.items() if value not in ("[]", "{}") and not p.endswith(".type")}
    assert apply_overrides(spec, {path: parse_value(value) for path, value in changed.items()}, registry) == spec
