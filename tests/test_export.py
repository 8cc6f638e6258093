"""ONNX export: every layer type with a converter matches plugnn under onnxruntime; errors are one line."""

from __future__ import annotations

import sys

import attrs
import numpy as np
import pytest
import scale_layer
from layer_plugin import layer_plugin
from scale_layer import Scale, ScaleLayer

import plugnn
from plugnn.registry import RegistryError

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

TOLERANCE = 1e-5


@attrs.frozen
class Twice(Scale):
    """A layer whose plugin registers no ONNX converter."""


REGISTRY = plugnn.load_registry(strict=True, extra_plugins=[scale_layer, layer_plugin(("twice", Twice, ScaleLayer))])


def run_onnx(path, x) -> dict[str, np.ndarray]:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    return dict(zip(names, session.run(None, {"input": x}), strict=True))


def networks_with(layer: str) -> list[plugnn.Network]:
    """``[layer, dense 3]`` for each of the layer's example specs, on its first example input shape,
    with random parameters and buffers (positive ones: running variances)."""
    spec_class = REGISTRY.tables["layer"].get(layer).spec
    shape = spec_class.example_input_shapes()[0]
    rng = np.random.default_rng(3)
    networks = []
    for example in spec_class.examples():
        layers = [plugnn.unstructure(example, REGISTRY), {"type": "dense", "units": 3}]
        plain = {"layers": layers, "loss": "softmax_cross_entropy", "optimizer": "sgd", "init": "glorot"}
        model = plugnn.build_network(plugnn.structure(plain, plugnn.NetworkSpec, REGISTRY), shape, registry=REGISTRY)
        model.params[:] = rng.standard_normal(model.n_params) * 0.3
        for _, built in model.tree():
            for buffer in built.buffers.values():
                buffer[...] = rng.uniform(0.5, 1.5, buffer.shape)
        networks.append(model)
    return networks


@pytest.mark.parametrize("layer", sorted(REGISTRY.onnx_converters))
def test_every_converted_layer_type_matches_plugnn(layer, tmp_path) -> None:
    for index, model in enumerate(networks_with(layer)):
        x = np.random.default_rng(0).random((7, *model.input_shape), dtype=np.float32)  # pixel-like, in [0, 1)
        path = plugnn.export_onnx(model, tmp_path / f"{layer}-{index}.onnx", registry=REGISTRY)
        onnx.checker.check_model(onnx.load(str(path)), full_check=True)
        outputs = run_onnx(path, x)
        assert np.abs(outputs["output"] - model.logits(x)).max() <= TOLERANCE, model.spec.layers[0]
        assert np.abs(outputs["probabilities"] - model.predict_proba(x)).max() <= TOLERANCE


def test_a_trained_run_exports_from_the_command_line(tmp_path, capsys) -> None:
    from plugnn.cli import main
    from plugnn.data import load_dataset

    run = tmp_path / "run"
    assert main(["run", "quickstart", "--epochs", "2", "--quiet", "--out", str(run)]) == 0
    assert main(["export", str(run), "--format", "onnx", "-o", str(tmp_path / "model.onnx")]) == 0
    assert capsys.readouterr().out.endswith(f"wrote {tmp_path / 'model.onnx'}\n")
    x = load_dataset("digits", plugnn.default_registry()).x_test  # (N, 8, 8, 1) images: Dense flattens them
    outputs = run_onnx(tmp_path / "model.onnx", x)
    model = plugnn.load(run)
    assert np.abs(outputs["output"] - model.logits(x)).max() <= TOLERANCE
    assert (outputs["output"].argmax(axis=1) == model.predict(x)).all()


def test_a_regressor_exports_its_outputs_only(tmp_path) -> None:
    spec = plugnn.structure(
        {
            "layers": [{"type": "dense", "units": 4}, "relu", {"type": "dense", "units": 2}],
            "loss": "mse",
            "optimizer": "sgd",
            "init": "he",
        },
        plugnn.NetworkSpec,
        REGISTRY,
    )
    model = plugnn.build_network(spec, (3,), registry=REGISTRY)
    x = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
    outputs = run_onnx(plugnn.export_onnx(model, tmp_path / "r.onnx", registry=REGISTRY), x)
    assert list(outputs) == ["output"] and np.abs(outputs["output"] - model.predict(x)).max() <= TOLERANCE


def test_a_layer_without_converter_is_named_and_nothing_is_written(tmp_path) -> None:
    plain = {"layers": [{"type": "dense", "units": 2}, "twice"], "loss": "mse", "optimizer": "sgd", "init": "he"}
    spec = plugnn.structure(plain, plugnn.NetworkSpec, REGISTRY)
    model = plugnn.build_network(spec, (3,), registry=REGISTRY)
    with pytest.raises(RegistryError, match=r"^layers\[1\]: layer 'twice' .*has no ONNX converter") as caught:
        plugnn.export_onnx(model, tmp_path / "m.onnx", registry=REGISTRY)
    assert "plugnn_register_onnx_converters" in str(caught.value) and not (tmp_path / "m.onnx").exists()


def test_without_onnx_the_message_names_the_extra(monkeypatch, tmp_path, capsys) -> None:
    from plugnn.cli import main

    monkeypatch.setitem(sys.modules, "onnx", None)  # as if it were not installed
    with pytest.raises(plugnn.PlugnnError, match=r"pip install plugnn\[onnx\]"):
        plugnn.export_onnx(networks_with("relu")[0], tmp_path / "m.onnx", registry=REGISTRY)
    assert main(["export", str(tmp_path), "-o", str(tmp_path / "m.onnx")]) == 1
    assert "ONNX export needs the onnx package: pip install plugnn[onnx]" in capsys.readouterr().err
