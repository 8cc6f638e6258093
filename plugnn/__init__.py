"""plugnn: a small plugin-based neural-network framework in numpy.

The public API, in the order data flows through it::

    spec = NetworkSpec(layers=[...], loss=..., optimizer=..., init=...)   # typed, frozen data
    result = train(spec, X, y, TrainSpec(epochs=10), test=(X_test, y_test))   # X: (N, *sample_shape)
    result.network.predict(X_test); result.history.to_dict(); score(result.network, X_test, y_test)
    save(result.network, "model.npz"); model = load("model.npz")        # weights, optimizer state
    train(spec, X, y, TrainSpec(epochs=5), start_from=model)             # five more epochs

Components are found by name in the :class:`Registry`, which plugins fill through pluggy hooks.
"""

from importlib.metadata import version as _version

from plugnn.threads import thread_budget  # first: importing it sets OPENBLAS_THREAD_TIMEOUT before numpy loads

# isort: split

from plugnn.builder import BuildContext, build_loss, build_network, build_optimizer
from plugnn.errors import DataError, FieldError, PluginLoadError, PlugnnError, RegistryError, ShapeError, SpecError
from plugnn.export import export_onnx
from plugnn.history import History
from plugnn.hookspecs import hookimpl
from plugnn.layers import ParameterFreeLayer
from plugnn.model_io import load, save
from plugnn.network import Network
from plugnn.optim import BufferedOptimizer
from plugnn.overrides import apply_overrides
from plugnn.plugins import default_registry, load_registry
from plugnn.protocols import Augmentation, Initializer, Layer, Loss, Optimizer
from plugnn.registry import Registry
from plugnn.run import RunResult, evaluate, recipe_table, resume, run, show
from plugnn.scaffold import new_plugin
from plugnn.scoring import score
from plugnn.serialize import structure, unstructure
from plugnn.specs import (
    AugmentationSpec,
    ComponentSpec,
    InitializerSpec,
    LayerSpec,
    LossSpec,
    NetworkSpec,
    OptimizerSpec,
    TrainSpec,
)
from plugnn.sweeps import SweepResult, SweepSpec, sweep
from plugnn.train import DivergenceError, TrainContext, TrainingInterrupted, TrainResult, TrainState, fit, train

__version__ = _version("plugnn")
"""The installed distribution's version (from its metadata)."""

__all__ = [
    "Augmentation",
    "AugmentationSpec",
    "BufferedOptimizer",
    "BuildContext",
    "ComponentSpec",
    "DataError",
    "DivergenceError",
    "FieldError",
    "History",
    "Initializer",
    "InitializerSpec",
    "Layer",
    "LayerSpec",
    "Loss",
    "LossSpec",
    "Network",
    "NetworkSpec",
    "Optimizer",
    "OptimizerSpec",
    "ParameterFreeLayer",
    "PluginLoadError",
    "PlugnnError",
    "Registry",
    "RegistryError",
    "RunResult",
    "ShapeError",
    "SpecError",
    "SweepResult",
    "SweepSpec",
    "TrainContext",
    "TrainResult",
    "TrainSpec",
    "TrainState",
    "TrainingInterrupted",
    "__version__",
    "apply_overrides",
    "build_loss",
    "build_network",
    "build_optimizer",
    "default_registry",
    "evaluate",
    "export_onnx",
    "fit",
    "hookimpl",
    "load",
    "load_registry",
    "new_plugin",
    "recipe_table",
    "resume",
    "run",
    "save",
    "score",
    "show",
    "structure",
    "sweep",
    "thread_budget",
    "train",
    "unstructure",
]
