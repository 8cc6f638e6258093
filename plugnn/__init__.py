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
from plugnn.callbacks import Monitor, MonitoredSpec, MonitoringCallback
from plugnn.context import TrainContext
from plugnn.data import load_dataset
from plugnn.datasplit import DataSplit
from plugnn.errors import DataError, FieldError, PluginLoadError, PlugnnError, RegistryError, ShapeError, SpecError
from plugnn.export import export_onnx
from plugnn.history import History
from plugnn.hookspecs import hookimpl
from plugnn.layers import ParameterFreeLayer
from plugnn.loopstate import TrainState
from plugnn.model_io import load, save
from plugnn.network import Network
from plugnn.optim import BufferedOptimizer
from plugnn.overrides import apply_overrides
from plugnn.plugins import default_registry, load_registry
from plugnn.protocols import (
    Augmentation,
    Callback,
    Dataset,
    Initializer,
    Layer,
    LayerBuilder,
    Loss,
    Optimizer,
    Schedule,
)
from plugnn.registry import Registry
from plugnn.run import RunResult, evaluate, recipe_table, resume, run, show
from plugnn.scaffold import new_plugin
from plugnn.scoring import score
from plugnn.serialize import structure, unstructure
from plugnn.specs import (
    AugmentationSpec,
    CallbackSpec,
    ComponentSpec,
    DatasetSpec,
    InitializerSpec,
    LayerSpec,
    LossSpec,
    NetworkSpec,
    OptimizerSpec,
    ScheduleSpec,
    TrainSpec,
)
from plugnn.sweeps import SweepResult, SweepSpec, sweep
from plugnn.train import DivergenceError, TrainingInterrupted, TrainResult, fit, train

__version__ = _version("plugnn")
"""The installed distribution's version (from its metadata)."""

__all__ = [
    "Augmentation",
    "AugmentationSpec",
    "BufferedOptimizer",
    "BuildContext",
    "Callback",
    "CallbackSpec",
    "ComponentSpec",
    "DataError",
    "DataSplit",
    "Dataset",
    "DatasetSpec",
    "DivergenceError",
    "FieldError",
    "History",
    "Initializer",
    "InitializerSpec",
    "Layer",
    "LayerBuilder",
    "LayerSpec",
    "Loss",
    "LossSpec",
    "Monitor",
    "MonitoredSpec",
    "MonitoringCallback",
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
    "Schedule",
    "ScheduleSpec",
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
    "load_dataset",
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
