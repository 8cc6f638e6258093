"""A batch-norm run stopped mid-epoch (Ctrl-C) or killed (SIGKILL) and resumed ends bit-identical,
running statistics included: stopped, for a chain and for a network of composite layers (a residual
block and a concat of branches, batch norm inside both); killed, for the composite network."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from interrupt_at import InterruptAt
from plugnn_process import PLUGNN, run_plugnn
from spec_files import spec_toml

import plugnn
from plugnn.model_io import load_model

CONVNET = """[
    { type = "conv2d", filters = 4, kernel_size = 3, padding = "same", bias = false },
    "batch_norm",
    "relu",
    { type = "max_pool2d", pool_size = 2 },
    { type = "dense", units = 10 },
]"""
COMPOSITE = """[
    { type = "conv2d", filters = 4, kernel_size = 3, padding = "same", bias = false },
    { type = "residual", layers = [
        "batch_norm",
        "relu",
        { type = "conv2d", filters = 4, kernel_size = 3, padding = "same" },
    ] },
    { type = "parallel", merge = "concat", branches = [
        { type = "max_pool2d", pool_size = 2 },
        { type = "sequential", layers = [{ type = "conv2d", filters = 2, kernel_size = 2, stride = 2 }, "batch_norm"] },
    ] },
    { type = "dense", units = 10 },
]"""
NETWORKS = {
    "chain": (CONVNET, {"layers[1].running_mean", "layers[1].running_var"}),
    "composite": (
        COMPOSITE,
        {
            f"{path}.running_{stat}"
            for path in ("layers[1].layers[0]", "layers[2].branches[1].layers[1]")
            for stat in ("mean", "var")
        },
    ),
}


def final_state(folder: Path) -> tuple[np.ndarray, dict[str, np.ndarray], dict]:
    network, _ = load_model(folder / "model.npz", plugnn.default_registry())
    history = json.loads((folder / "history.json").read_text())
    history.pop("seconds")
    return network.params, network.buffer_state(), history


def assert_same(folder: Path, reference: tuple[np.ndarray, dict[str, np.ndarray], dict], network: str) -> None:
    params, buffers, history = final_state(folder)
    np.testing.assert_array_equal(params, reference[0])
    assert buffers.keys() == reference[1].keys() == NETWORKS[network][1]
    for name, value in buffers.items():
        np.testing.assert_array_equal(value, reference[1][name])
    assert history == reference[2]


@pytest.fixture(scope="module", params=sorted(NETWORKS))
def network(request) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory, network) -> Path:
    path = tmp_path_factory.mktemp("spec") / f"tiny-bn-{network}.toml"
    layers = NETWORKS[network][0]
    path.write_text(
        spec_toml("A tiny batch-norm convnet on digits, for the resume tests.", layers=layers, epochs=4, batch_size=64)
    )
    return path


@pytest.fixture(scope="module")
def reference(spec_file, tmp_path_factory):
    folder = tmp_path_factory.mktemp("reference") / "run"
    plugnn.run(spec_file, out=folder, quiet=True)
    return final_state(folder)


def test_interrupted_mid_epoch_and_resumed_is_bit_identical(tmp_path, spec_file, reference, network) -> None:
    registry = plugnn.load_registry(extra_plugins=[InterruptAt(2, 7)])
    with pytest.raises(plugnn.TrainingInterrupted):
        plugnn.run(spec_file, out=tmp_path / "run", quiet=True, registry=registry)
    plugnn.resume(tmp_path / "run", quiet=True)
    assert_same(tmp_path / "run", reference, network)


@pytest.mark.slow
@pytest.mark.parametrize("network", ["composite"], indirect=True)
def test_killed_and_resumed_is_bit_identical(tmp_path, spec_file, reference, network) -> None:
    """On the composite network only (its buffers nest): what a SIGKILL adds to the Ctrl-C test above, an
    epoch-end checkpoint written by another process, does not depend on the network; two cost 10-17 s."""
    run = tmp_path / "run"
    process = subprocess.Popen([*PLUGNN, "run", str(spec_file), "--quiet", "--out", str(run)], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not (run / "checkpoint.npz").exists() and process.poll() is None:
        assert time.monotonic() < deadline, "no checkpoint after 60 s"
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    done = run_plugnn("run", "--resume", str(run), "--quiet", timeout=120)
    assert done.returncode == 0, done.stderr
    assert_same(run, reference, network)
