"""Saving a trained network with its spec, and loading it back without pickle.

A model file (``model.npz``) holds the run spec as JSON text, the per-sample input shape, the flat
parameter vector and each layer's buffers (``buffer/layers[<i>].<name>``); loading rebuilds the
network from the spec through the registry and copies the parameters and buffers in. Files written
before buffers existed (plugnn 0.1: ``in_features``, no buffers) load as before.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from plugnn.augmentation import augmentation_generator
from plugnn.builder import build_network
from plugnn.errors import PlugnnError
from plugnn.history import History
from plugnn.loopfile import CALLBACK_PREFIX, LOOP_ARRAYS, loop_arrays, stored_loop
from plugnn.loopstate import LoopState, TrainState
from plugnn.network import Network
from plugnn.npzfile import CorruptFileError, member, member_json, read_npz, refuse_unknown_members, write_npz
from plugnn.optimizer_state import restore_optimizer
from plugnn.plugins import default_registry
from plugnn.protocols import Shape
from plugnn.readers import UnreadableFileError, refuse_unknown
from plugnn.registry import Registry
from plugnn.serialize import structure, unstructure
from plugnn.shapes import as_shape
from plugnn.specs import NetworkSpec, RunSpec, TrainSpec

KIND = "model"
BUFFER_PREFIX = "buffer/"
STORED_ARRAYS = ("params", "input_shape", "in_features")
"""What model files and checkpoints both hold (``in_features``: files of plugnn 0.1), with ``buffer/*``."""


def shape_and_buffer_arrays(input_shape: Shape, buffers: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The arrays model files and checkpoints store besides the parameters: input shape and buffers."""
    return {"input_shape": np.array(input_shape, dtype=np.int64)} | {
        BUFFER_PREFIX + name: value for name, value in buffers.items()
    }


def stored_input_shape(arrays: Mapping[str, np.ndarray], source: str | Path) -> Shape:
    """The input shape a file holds (``in_features`` in files of plugnn 0.1), checked."""
    path = Path(source)
    if "input_shape" in arrays or "in_features" not in arrays:
        stored = member(path, arrays, "input_shape", "iu", 1)
    else:
        stored = member(path, arrays, "in_features", "iu", 0)
    try:
        return as_shape(stored.tolist())
    except PlugnnError as exc:
        raise CorruptFileError(f"{source}: {exc}") from None


def stored_buffers(arrays: Mapping[str, np.ndarray], source: str | Path) -> dict[str, np.ndarray]:
    """The buffers a file holds, keyed ``layers[<i>].<name>`` (none in files of plugnn 0.1).

    Each must be numeric, and finite when a float; shapes are checked against the layers on restore.
    """
    return {
        k.removeprefix(BUFFER_PREFIX): member(Path(source), arrays, k, "fiub", arrays[k].ndim)
        for k in arrays
        if k.startswith(BUFFER_PREFIX)
    }


def stored_params(arrays: Mapping[str, np.ndarray], source: str | Path) -> np.ndarray:
    """The flat parameter vector a file holds: 1-D, float32 or float64, finite."""
    params = member(Path(source), arrays, "params", "f", 1)
    if params.dtype not in (np.float32, np.float64):
        raise CorruptFileError(f"{source}: parameters of dtype {params.dtype}; plugnn stores float32 or float64")
    return params


def restore_state(network: Network, params: np.ndarray, buffers: Mapping[str, np.ndarray], source: str | Path) -> None:
    """Copy stored parameters and buffers into ``network``; a mismatch names the source, layer and buffer."""
    if network.params.shape != params.shape:
        raise CorruptFileError(f"{source}: holds {params.size} parameters but its spec builds {network.n_params}")
    try:
        network.load_buffers(buffers)
    except PlugnnError as exc:
        raise CorruptFileError(f"{source}: {exc}") from None
    network.params[:] = params


def save_model(path: str | Path, network: Network, spec: RunSpec, registry: Registry) -> Path:
    """Write ``network``'s parameters, buffers and ``spec`` to ``path`` atomically."""
    path = Path(path)
    text = json.dumps(unstructure(spec, registry))
    arrays = {"spec": np.array(text), "params": network.params}
    write_npz(path, KIND, arrays | shape_and_buffer_arrays(network.input_shape, network.buffer_state()))
    return path


def load_model(path: str | Path, registry: Registry) -> tuple[Network, RunSpec]:
    """Rebuild the network saved at ``path`` through ``registry``; returns it and its run spec."""
    path = Path(path)
    arrays = read_model_arrays(path)
    spec = structure(member_json(path, arrays, "spec"), RunSpec, registry, source=str(path))
    params, input_shape = stored_params(arrays, path), stored_input_shape(arrays, path)
    network = build_network(spec.network, input_shape, dtype=params.dtype, registry=registry)
    restore_state(network, params, stored_buffers(arrays, path), path)
    return network, spec


NETWORK_SPEC = "network"
TRAIN_STATE = "train_state"
OPTIMIZER_PREFIX = "optimizer/"
GENERATORS = ("shuffle", "noise", "augment")
"""The generator states model files (in their train state) and checkpoints keep (no augmentation's in plugnn 0.2's)."""


def read_model_arrays(path: Path) -> dict[str, np.ndarray]:
    """A model file's arrays (:func:`plugnn.npzfile.read_npz`), refusing any array plugnn never writes there."""
    arrays = read_npz(path, KIND)
    refuse_unknown_members(
        path,
        arrays,
        ("spec", NETWORK_SPEC, TRAIN_STATE, *STORED_ARRAYS, *LOOP_ARRAYS),
        (BUFFER_PREFIX, OPTIMIZER_PREFIX, CALLBACK_PREFIX),
    )
    return arrays


def refuse_unknown_keys(source: str, data: Mapping[str, object], known: tuple[str, ...]) -> None:
    """:func:`plugnn.readers.refuse_unknown` for a table stored in a model file or checkpoint."""
    try:
        refuse_unknown(source, data, known)
    except UnreadableFileError as exc:
        raise CorruptFileError(str(exc)) from None


def save(model: Network, path: str | Path, *, optimizer: bool = True, registry: Registry | None = None) -> Path:
    """Write ``model`` to ``path`` (``.npz``, atomically): its spec, input shape and parameters.

    With ``optimizer`` (the default) and a trained model, also its :class:`plugnn.train.TrainState`
    (the optimizer's state, the train spec, the states of the shuffling, noise and augmentation
    generators, and the loop state with the history, the learning-rate factor and the callbacks'
    states, in the arrays a checkpoint uses for them: :mod:`plugnn.loopfile`), so that
    ``train(..., start_from=load(path))`` goes on bit for bit. :func:`load` reads it back without unpickling anything.
    """
    if not isinstance(model, Network) or model.spec is None:
        raise PlugnnError(f"plugnn.save takes a Network built from a NetworkSpec, got {type(model).__name__}")
    registry = registry or default_registry()
    arrays = {NETWORK_SPEC: np.array(json.dumps(unstructure(model.spec, registry))), "params": model.params}
    arrays |= shape_and_buffer_arrays(model.input_shape, model.buffer_state())
    state = model.train_state
    if optimizer and state is not None:
        described = {
            "train": unstructure(state.spec, registry),
            "generators": {
                "shuffle": state.rng.bit_generator.state,
                "noise": model.noise.bit_generator.state,
                "augment": state.augment_rng.bit_generator.state,
            },
        }
        arrays[TRAIN_STATE] = np.array(json.dumps(described))
        arrays |= loop_arrays(state)
        arrays |= {OPTIMIZER_PREFIX + key: value for key, value in state.optimizer.state_dict().items()}
    path = Path(path)
    write_npz(path, KIND, arrays)
    return path


def load(path: str | Path, registry: Registry | None = None) -> Network:
    """The model saved at ``path`` by :func:`save` (or a run's ``model.npz``, or a run folder holding one).

    Its ``train_state`` is restored when the file holds one; a file saved by plugnn 0.2 holds no
    callback states and no learning-rate factor, so training goes on with fresh callbacks and the
    spec's rate; one saved by plugnn 0.2 (before augmentation) goes on with the seed's augmentation stream.
    A file that is not a plugnn model, of a newer format, damaged, missing arrays, or whose optimizer
    state does not fit the parameters raises :class:`plugnn.npzfile.CorruptFileError`.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "model.npz"
    registry = registry or default_registry()
    arrays = read_model_arrays(path)
    if NETWORK_SPEC in arrays:
        spec = structure(member_json(path, arrays, NETWORK_SPEC), NetworkSpec, registry, source=str(path))
    else:  # written by a run: the run spec holds the network's
        spec = structure(member_json(path, arrays, "spec"), RunSpec, registry, source=str(path)).network
    params = stored_params(arrays, path)
    network = build_network(spec, stored_input_shape(arrays, path), dtype=params.dtype, registry=registry)
    restore_state(network, params, stored_buffers(arrays, path), path)
    if TRAIN_STATE in arrays:
        network.train_state = _train_state(arrays, network, path, registry)
    return network


def _train_state(arrays: dict[str, np.ndarray], network: Network, path: Path, registry: Registry) -> TrainState:
    described = member_json(path, arrays, TRAIN_STATE)
    if not isinstance(described, dict):
        raise CorruptFileError(f"{path}: its training state is not a table")
    refuse_unknown_keys(f"{path}: {TRAIN_STATE!r}", described, ("train", "generators", "history"))
    if isinstance(described.get("generators"), dict):
        refuse_unknown_keys(f"{path}: {TRAIN_STATE!r} generators", described["generators"], GENERATORS)
    assert network.spec is not None
    optimizer = restore_optimizer(
        network.spec.optimizer,
        registry,
        {k.removeprefix(OPTIMIZER_PREFIX): v for k, v in arrays.items() if k.startswith(OPTIMIZER_PREFIX)},
        [network.params],  # what Network.train_step gives the optimizer
        str(path),
        OPTIMIZER_PREFIX,
    )
    spec = structure(described.get("train"), TrainSpec, registry, source=f"{path} train_state")
    try:
        rng, augment_rng = np.random.default_rng(), augmentation_generator(spec.seed)
        rng.bit_generator.state = described["generators"]["shuffle"]
        network.noise.bit_generator.state = described["generators"]["noise"]
        if "augment" in described["generators"]:  # absent from files of plugnn 0.2
            augment_rng.bit_generator.state = described["generators"]["augment"]
        if "history" in described:  # plugnn 0.2: the history alone, in the described part
            history = History.from_dict(described["history"])
            loop = LoopState(len(history.records) + 1, history=history)
        else:
            loop = stored_loop(path, arrays)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CorruptFileError(f"{path}: its training state is incomplete ({type(exc).__name__}: {exc})") from None
    if loop.position or loop.order is not None or loop.epoch != len(loop.history.records) + 1:
        raise CorruptFileError(
            f"{path}: its training state is not at an epoch's start (epoch {loop.epoch}, sample {loop.position}, "
            f"{len(loop.history.records)} epochs recorded)"
        )
    if loop.callback_states and len(loop.callback_states) != len(spec.callbacks):
        raise CorruptFileError(
            f"{path}: its training state holds {len(loop.callback_states)} callback states for "
            f"{len(spec.callbacks)} callbacks"
        )
    return TrainState.of(loop, optimizer=optimizer, rng=rng, augment_rng=augment_rng, spec=spec)
