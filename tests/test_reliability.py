"""Bad input caught at the door, divergence, and what the command line says about each."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import attrs
import numpy as np
import pytest
from bad_data import BadDataPlugin
from layer_plugin import layer_plugin
from plugnn_std import SGD, Dense
from spec_files import mlp_layers, spec_toml

import plugnn
from plugnn import plugins as plugin_module
from plugnn.cli import main
from plugnn.specs import RunSpec

SMALL = spec_toml("a small network for the bad-data plugin", data="bad", layers=mlp_layers(8, 3), batch_size=8)


@pytest.fixture
def cli_with_bad_data(monkeypatch, tmp_path):
    """``plugnn`` with the bad-data plugin installed, run in a temporary folder."""
    original = plugin_module.load_registry
    monkeypatch.setattr(
        plugin_module, "load_registry", lambda **kwargs: original(**kwargs, extra_plugins=[BadDataPlugin()])
    )
    plugin_module.default_registry.cache_clear()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "small.toml").write_text(SMALL)
    yield tmp_path
    plugin_module.default_registry.cache_clear()


@pytest.mark.parametrize(
    ("problem", "message"),
    [
        ("nan", r"X: holds NaN or Inf \(first at row 5, column 2\)"),
        ("inf", r"test X: holds NaN or Inf \(first at row 1, column 0\)"),
        ("labels-range", r"y: labels must lie in \[0, 3\) for a network with 3 outputs, got values in \[0, 12\]"),
        ("labels-float", r"y: expected integer class indices, got dtype float64 \(e.g. 0.5\)"),
        ("lengths", r"y: 39 labels for 40 samples; they must match one to one"),
        ("empty", r"X: no samples \(shape \(0, 4\)\)"),
        ("width", r"test X: the network expects 4 features per sample, got 3"),
    ],
)
def test_bad_data_exits_1_with_the_reason(cli_with_bad_data, capsys, problem, message) -> None:
    assert main(["run", "small.toml", "--data", f"bad:{problem}", "--quiet", "--out", "run"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("plugnn: error: ") and len(err.strip().splitlines()) == 1, err
    assert re.search(message, err), err


def test_unscaled_pixels_warn_and_say_how_to_scale(cli_with_bad_data, capsys) -> None:
    assert main(["run", "small.toml", "--data", "bad:uint8", "--quiet", "--out", "run"]) == 0
    err = capsys.readouterr().err
    assert "plugnn: warning: X looks like unscaled pixels (integer values in [0, 25" in err and "X / 255.0" in err


def test_batch_larger_than_the_data_says_what_happens(cli_with_bad_data, capsys) -> None:
    assert main(["run", "small.toml", "--data", "bad", "--batch-size", "500", "--quiet", "--out", "run"]) == 0
    assert (
        "plugnn: warning: batch_size 500 exceeds the 40 training samples: every epoch is one batch of all 40"
        in capsys.readouterr().err
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (SMALL.replace("batch_size = 8", "batch_size = 8\nbatchsize = 3"), "train: unknown key(s) batchsize"),
        (SMALL.replace("units = 8", 'units = "eight"'), "network.layers[0].units: expected int, got str 'eight'"),
    ],
)
def test_bad_spec_file_exits_1_with_its_path(cli_with_bad_data, capsys, text, message) -> None:
    (cli_with_bad_data / "broken.toml").write_text(text)
    assert main(["run", "broken.toml", "--quiet", "--out", "run"]) == 1
    err = capsys.readouterr().err
    assert "broken.toml" in err and message in err and "Traceback" not in err
    assert not (cli_with_bad_data / "run").exists()


def test_evaluating_on_data_of_another_width(cli_with_bad_data, capsys) -> None:
    assert main(["run", "quickstart", "--epochs", "1", "--quiet", "--out", "digits-run"]) == 0
    assert main(["evaluate", "digits-run", "--data", "bad"]) == 1
    assert (
        "X: the network expects samples of shape (8, 8, 1), got (4,) (array shape (10, 4))" in capsys.readouterr().err
    )


@attrs.frozen
class Explode(plugnn.LayerSpec):
    """Identity until its ``after``-th training forward pass, then infinite."""

    after: int = 10


class ExplodeLayer(plugnn.ParameterFreeLayer):
    def __init__(self, spec, input_shape, ctx):
        super().__init__(spec, input_shape, ctx)
        self.calls = 0

    def forward(self, x, *, training=False):
        self.calls += training
        if training and self.calls > self.spec.after:
            with np.errstate(invalid="ignore", over="ignore"):  # the point of this layer
                return x * np.float32(np.inf)
        return x

    def backward(self, grad_out, *, input_grad=True):
        return grad_out


def test_divergence_stops_at_once_and_keeps_the_last_good_checkpoint(tmp_path) -> None:
    registry = plugnn.load_registry(
        strict=True, third_party=False, extra_plugins=[layer_plugin(("explode", Explode, ExplodeLayer))]
    )
    spec = RunSpec(
        data="digits",
        network=plugnn.NetworkSpec(
            layers=[Explode(after=90), Dense(10)], loss="softmax_cross_entropy", optimizer=SGD(lr=0.1), init="he"
        ),
        train=plugnn.TrainSpec(epochs=5, batch_size=32),
    )
    with pytest.raises(plugnn.DivergenceError) as caught:
        plugnn.run(spec, out=tmp_path / "run", quiet=True, registry=registry)
    message = str(caught.value)  # 1347 samples / 32 = 43 batches per epoch: batch 91 is epoch 3, batch 5
    assert message.startswith("training diverged at epoch 3, batch 5: the loss is nan (last finite loss ")
    assert "lower the learning rate (now 0.1) or scale the inputs to [0, 1]" in message
    assert f"the checkpoint of epoch 2 in {tmp_path / 'run' / 'checkpoint.npz'} is intact" in message
    checkpoint = plugnn.checkpoint.load_checkpoint(tmp_path / "run" / "checkpoint.npz", registry)
    assert checkpoint.resume.epoch == 3 and np.isfinite(checkpoint.params).all()
    assert len(checkpoint.resume.history.records) == 2


WORKER_POOL = {
    ("joblib.externals.loky", "ProcessPoolExecutor"),
    ("joblib.externals.loky.process_executor", "TerminatedWorkerError"),
}
"""The only joblib imports allowed (plugnn/sweeps/backends.py): its worker processes, which exchange
tasks and results that plugnn itself made, between processes it started; never joblib.load of a file."""


def test_no_code_path_unpickles_or_evaluates() -> None:
    core = Path(plugnn.__file__).parent
    for path in [*core.rglob("*.py"), *(core.parent / "plugins").rglob("*.py")]:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                assert name not in {"eval", "exec"}, f"{path}: {ast.unparse(node)}"
                for keyword in node.keywords:
                    if keyword.arg == "allow_pickle":
                        assert ast.literal_eval(keyword.value) is False, f"{path}: {ast.unparse(node)}"
            if isinstance(node, ast.ImportFrom) and (node.module, *[a.name for a in node.names]) in WORKER_POOL:
                continue  # sweeps: a process pool moving our own plain-data tasks; joblib.load stays banned
            if isinstance(node, ast.Import | ast.ImportFrom):
                modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                assert not any(m.split(".")[0] in {"pickle", "cPickle", "dill", "joblib", "shelve"} for m in modules), (
                    path
                )
