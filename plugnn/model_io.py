"""Saving a trained network with its spec, and loading it back without pickle.

A model file (``model.npz``) holds the run spec as JSON text, the input width and the flat
parameter vector; loading rebuilds the network from the spec through the registry and copies the
parameters in.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from plugnn.builder import build_network
from plugnn.network import Network
from plugnn.npzfile import CorruptFileError, read_npz, write_npz
from plugnn.plugins import default_registry
from plugnn.registry import Registry
from plugnn.serialize import structure, unstructure
from plugnn.specs import RunSpec

KIND = "model"


def save_model(path: str | Path, network: Network, spec: RunSpec, registry: Registry | None = None) -> Path:
    """Write ``network``'s parameters and ``spec`` to ``path`` atomically."""
    path = Path(path)
    text = json.dumps(unstructure(spec, registry or default_registry()))
    write_npz(
        path, KIND, {"spec": np.array(text), "in_features": np.array(network.in_features), "params": network.params}
    )
    return path


def load_model(path: str | Path, registry: Registry | None = None) -> tuple[Network, RunSpec]:
    """Rebuild the network saved at ``path``; returns it and its run spec."""
    path = Path(path)
    registry = registry or default_registry()
    arrays = read_npz(path, KIND)
    spec = structure(json.loads(str(arrays["spec"])), RunSpec, registry, source=str(path))
    network = build_network(spec.network, int(arrays["in_features"]), dtype=arrays["params"].dtype, registry=registry)
    if network.params.shape != arrays["params"].shape:
        raise CorruptFileError(
            f"{path}: holds {arrays['params'].size} parameters but its spec builds {network.n_params}"
        )
    network.params[:] = arrays["params"]
    return network, spec
