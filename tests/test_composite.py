"""Composite layers: children built through BuildContext, one flat parameter buffer, buffers by path,
error paths into nested specs, nesting limits, the grad_out rule, ONNX through children."""

from __future__ import annotations

import attrs
import numpy as np
import pytest
from buffered_layer import Center, CenterLayer
from layer_plugin import layer_plugin
from plugnn_std import Adam, Dense, Parallel, Residual, Sequential

import plugnn
from plugnn.builder import MAX_NESTING
from plugnn.composite import Chain
from plugnn.testing import ConformanceError, iter_checks

REGISTRY = plugnn.load_registry(
    strict=True, third_party=False, extra_plugins=[layer_plugin(("center", Center, CenterLayer))]
)


def network(*layers: object) -> plugnn.NetworkSpec:
    return plugnn.NetworkSpec(layers=list(layers), loss="softmax_cross_entropy", optimizer=Adam(), init="he")


def test_children_parameters_live_in_the_network_buffer_and_buffers_are_keyed_by_path() -> None:
    spec = network(
        Dense(6),
        Residual(layers=(Dense(6), "center", "relu"), projection=None),
        Parallel(branches=(Dense(2), Sequential(layers=("center", Dense(3))))),
        Dense(4),
    )
    model = plugnn.build_network(spec, (5,), registry=REGISTRY)
    nodes = dict(model.tree())
    assert list(nodes) == [
        "layers[0]",
        "layers[1]",
        "layers[1].layers[0]",
        "layers[1].layers[1]",
        "layers[1].layers[2]",
        "layers[2]",
        "layers[2].branches[0]",
        "layers[2].branches[1]",
        "layers[2].branches[1].layers[0]",
        "layers[2].branches[1].layers[1]",
        "layers[3]",
    ]
    params = [p for node in nodes.values() for p in node.params.values()]
    assert sum(p.size for p in params) == model.n_params == 36 + 42 + 14 + 21 + 24
    assert all(np.shares_memory(p, model.params) for p in params)
    assert sorted(model.buffer_state()) == ["layers[1].layers[1].mean", "layers[2].branches[1].layers[0].mean"]
    assert model.layer_names["layers[2].branches[1].layers[1]"] == "dense"
    summary = model.summary()
    assert "1: residual" in summary and "    layers[0] center" in summary and "(N, 5)" in summary


def test_training_mode_reaches_children_and_buffers_round_trip(tmp_path) -> None:
    spec = network(Sequential(layers=(Dense(4), Residual(layers=("center",)))), Dense(3))
    x = np.random.default_rng(0).standard_normal((40, 5)).astype(np.float32)
    y = np.arange(40) % 3
    result = plugnn.train(spec, x, y, plugnn.TrainSpec(epochs=2, batch_size=8), registry=REGISTRY)
    moved = result.network.buffer_state()["layers[0].layers[1].layers[0].mean"]
    assert np.any(moved != 0)  # only training-mode passes move it
    plugnn.save(result.network, tmp_path / "m.npz", registry=REGISTRY)
    loaded = plugnn.load(tmp_path / "m.npz", registry=REGISTRY)
    np.testing.assert_array_equal(loaded.logits(x), result.network.logits(x))


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        (
            [Dense(4), Residual(layers=(Dense(3),))],
            r"^layers\[1\] \(residual\): its layers turn input shape \(4,\) into \(3,\) but the skip path gives "
            r"\(4,\); add a projection",
        ),
        (
            [Residual(layers=(Dense(3),), projection=Dense(2))],
            r"^layers\[0\] \(residual\): .* the skip path gives \(2,\); its projection must give the same shape",
        ),
        (
            [Parallel(branches=(Dense(3), Dense(2)), merge="add")],
            r"^layers\[0\] \(parallel, merge = 'add'\): the branches give output shapes \(3,\), \(2,\)",
        ),
    ],
)
def test_shape_errors_name_the_block(layers, message) -> None:
    with pytest.raises(plugnn.ShapeError, match=message) as caught:
        plugnn.build_network(network(*layers, Dense(2)), (5,), registry=REGISTRY)
    assert "\n" not in str(caught.value)


def test_errors_inside_blocks_name_the_full_path() -> None:
    spec = network(Sequential(layers=(Dense(4), Sequential(layers=("relu", Dense(2), "no_such")))), Dense(2))
    with pytest.raises(plugnn.SpecError, match=r"layers\[0\]\.layers\[1\]\.layers\[2\]: unknown layer 'no_such'"):
        plugnn.build_network(spec, (5,), registry=REGISTRY)
    plain = plugnn.unstructure(network(Residual(layers=(Dense(4), Sequential(layers=(Dense(3),)))), Dense(2)), REGISTRY)
    plain["layers"][0]["layers"][1]["layers"][0]["units"] = 0
    with pytest.raises(plugnn.SpecError, match=r"layers\[0\]\.layers\[1\]\.layers\[0\]\.units: must be > 0"):
        plugnn.structure(plain, plugnn.NetworkSpec, REGISTRY)


def test_concat_of_images_needs_equal_spatial_shapes() -> None:
    @attrs.frozen
    class Shrink(plugnn.LayerSpec):
        """Drops the first row of an image: (H, W, C) -> (H - 1, W, C)."""

    class ShrinkLayer(plugnn.ParameterFreeLayer):
        def __init__(self, spec, input_shape, ctx) -> None:
            super().__init__(spec, input_shape, ctx)
            self.output_shape = (input_shape[0] - 1, *input_shape[1:])

        def forward(self, x, *, training=False):
            return x[:, 1:]

        def backward(self, grad_out, *, input_grad=True):
            return np.pad(grad_out, [(0, 0), (1, 0), (0, 0), (0, 0)]) if input_grad else None

    registry = plugnn.load_registry(
        strict=True, third_party=False, extra_plugins=[layer_plugin(("shrink", Shrink, ShrinkLayer))]
    )
    spec = network(Parallel(branches=("identity", "shrink")), Dense(2))
    with pytest.raises(plugnn.ShapeError, match=r"output shapes \(4, 4, 2\), \(3, 4, 2\); a concat on the last axis"):
        plugnn.build_network(spec, (4, 4, 2), registry=registry)
    concat = plugnn.build_network(
        network(Parallel(branches=("identity", "relu")), Dense(2)), (4, 4, 2), registry=registry
    )
    assert concat.layers[0].output_shape == (4, 4, 4)


def test_empty_blocks_are_refused_with_their_path() -> None:
    plain = {"layers": [{"type": "parallel", "branches": []}, {"type": "residual", "layers": []}], "loss": "mse"}
    plain |= {"optimizer": "sgd", "init": "he"}
    with pytest.raises(plugnn.SpecError) as caught:
        plugnn.structure(plain, plugnn.NetworkSpec, REGISTRY)
    paths = dict(caught.value.problems)
    assert "needs at least one branch" in paths["layers[0].branches"]
    assert "needs at least one layer" in paths["layers[1].layers"]


def nested(levels: int) -> Sequential:
    block: object = "relu"
    for _ in range(levels):
        block = Sequential(layers=(block,))
    return block  # type: ignore[return-value]


def test_nesting_is_limited_without_recursion_errors(tmp_path) -> None:
    plugnn.build_network(network(nested(MAX_NESTING), Dense(2)), (3,), registry=REGISTRY)  # the deepest allowed
    with pytest.raises(plugnn.SpecError, match=rf"nested more than {MAX_NESTING} deep"):
        plugnn.build_network(network(nested(MAX_NESTING + 1), Dense(2)), (3,), registry=REGISTRY)
    deep: object = "relu"
    for _ in range(1000):
        deep = {"type": "sequential", "layers": [deep]}
    plain = {"layers": [deep], "loss": "mse", "optimizer": "sgd", "init": "he"}
    with pytest.raises(plugnn.SpecError, match="nested more than 32 levels deep"):
        plugnn.structure(plain, plugnn.NetworkSpec, REGISTRY)
    text = 'data = "digits"\n[network]\nloss = "mse"\noptimizer = "sgd"\ninit = "he"\nlayers = ['
    text += '{type = "sequential", layers = [' * 1000 + '"relu"' + "]}" * 1000 + "]\n"
    (tmp_path / "deep.toml").write_text(text)
    with pytest.raises(plugnn.PlugnnError, match="nested more than 32 levels deep"):
        plugnn.run(tmp_path / "deep.toml", out=tmp_path / "run", quiet=True)
    assert not (tmp_path / "run").exists()


@attrs.frozen
class Careless(Residual):
    """A residual block that forgets the grad_out rule."""

    @classmethod
    def examples(cls) -> list[Careless]:
        return [cls(layers=(Dense(units=5),)), cls(layers=(Dense(units=5), "relu"))]


class CarelessLayer:
    """``x + f(x)`` whose backward reads ``grad_out`` after handing it to ``f``."""

    def __init__(self, spec: Careless, input_shape, ctx) -> None:
        self.body = Chain(spec.layers, input_shape, ctx)
        self.children = self.body.children
        self.output_shape = input_shape
        self.params, self.grads, self.buffers = {}, {}, {}

    def forward(self, x, *, training=False):
        return self.body.forward(x, training=training) + x

    def backward(self, grad_out, *, input_grad=True):
        return self.body.backward(grad_out, input_grad=True) + grad_out  # wrong when f overwrites grad_out


def test_the_kit_catches_a_composite_that_reads_grad_out_after_a_child() -> None:
    registry = plugnn.load_registry(
        strict=True, third_party=False, extra_plugins=[layer_plugin(("careless", Careless, CarelessLayer))]
    )
    checks = {check.id: check for check in iter_checks(registry) if check.component.name == "careless"}
    # with a dense child alone, which leaves grad_out alone, its gradients are right: only this check sees it
    checks["layer:careless[0]-gradients_training"]()
    with pytest.raises(ConformanceError, match=r"its input gradient changes when a child layer overwrites"):
        checks["layer:careless[0]-grad_out_reuse"]()
    with pytest.raises(ConformanceError, match=r"d/dX"):  # a ReLU child does overwrite it: wrong gradients
        checks["layer:careless[1]-gradients_training"]()


def test_a_composite_network_exports_and_matches_onnxruntime(tmp_path) -> None:
    ort = pytest.importorskip("onnxruntime")
    spec = network(
        Dense(6),
        Residual(layers=(Dense(6), "relu", Dense(6))),
        "relu",
        Parallel(branches=(Dense(2), Sequential(layers=(Dense(3), "relu")), "identity")),
        Parallel(branches=(Dense(4), Residual(layers=(Dense(4),), projection=Dense(4))), merge="add"),
        Dense(3),
    )
    model = plugnn.build_network(spec, (5,), registry=REGISTRY)
    model.params[:] = np.random.default_rng(1).standard_normal(model.n_params) * 0.3
    x = np.random.default_rng(2).standard_normal((7, 5)).astype(np.float32)
    path = plugnn.export_onnx(model, tmp_path / "m.onnx", registry=REGISTRY)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(["output"], {"input": x})[0], model.logits(x), atol=1e-5, rtol=1e-5)


def test_spec_files_indent_nested_blocks_and_round_trip() -> None:
    import tomllib

    from plugnn.specfile import dumps

    spec = plugnn.specs.RunSpec(
        data="digits",
        network=network(Residual(layers=("relu", Dense(4), Sequential(layers=("relu", Dense(4))))), "relu", Dense(2)),
        description='brackets in text do not count: [ " \\" [',
    )
    text = dumps(spec, REGISTRY)
    assert '\n    { type = "residual", layers = [\n        "relu",\n        { type = "dense", units = 4 },\n' in text
    assert '\n        { type = "sequential", layers = [\n            "relu",\n' in text
    assert "\n        ] },\n    ] },\n" in text
    assert plugnn.structure(tomllib.loads(text), plugnn.specs.RunSpec, REGISTRY) == spec


@pytest.mark.parametrize(
    ("layers", "path", "got"),
    [
        ([{"type": "residual", "layers": "relu"}], "layers[0].layers", "str 'relu'"),
        ([{"type": "parallel", "branches": {"type": "dense", "units": 2}}], "layers[0].branches", "dict"),
        ("relu", "layers", "str 'relu'"),
    ],
)
def test_a_list_of_layers_given_as_one_layer_is_refused_not_iterated(layers, path, got) -> None:
    plain = {"layers": layers, "loss": "mse", "optimizer": "sgd", "init": "he"}
    with pytest.raises(plugnn.SpecError) as caught:
        plugnn.structure(plain, plugnn.NetworkSpec, REGISTRY)
    assert caught.value.problems == [(path, caught.value.problems[0][1])]
    assert caught.value.problems[0][1].startswith(f"expected a list, got {got}")
