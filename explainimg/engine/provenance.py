"""Where an explanation comes from: the software versions, the method and its settings, the
layer, and a fingerprint of the model's weights (for run manifests).

Every Explanation carries :func:`plan_provenance` (cheap: versions are read once, the method's
settings are its attrs fields). The weights' fingerprint is not in it: hashing every weight
costs time at each call (tens of milliseconds for a MobileNet, more for bigger models), and a
model that trains between calls would make a cached one stale. Run folders, whose model is
loaded once, record it (:mod:`explainimg.pipeline.manifest`).

>>> import keras
>>> from explainimg.methods import RISE
>>> method_settings(RISE(masks=50))["masks"], method_seed(RISE(seed=4))
(50, 4)
>>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
>>> len(weights_fingerprint(model))
64
"""

from __future__ import annotations

import functools
import hashlib
from importlib import metadata
from typing import Any

import attrs
import keras
import numpy as np

from ..methods import Method


@functools.cache
def software_versions() -> dict[str, str]:
    """The versions of explainimg, Keras, the Keras backend and NumPy."""
    from .. import __version__

    backend = keras.backend.backend()
    try:
        backend_version = metadata.version(backend)
    except metadata.PackageNotFoundError:  # a backend installed some other way
        backend_version = "unknown"
    return {
        "explainimg": __version__,
        "keras": keras.__version__,
        "backend": backend,
        "backend_version": backend_version,
        "numpy": np.__version__,
    }


def _json_safe(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def method_settings(method: Method) -> dict[str, Any]:
    """The method's options (its attrs fields), JSON-safe; ``smooth`` only for the methods
    that take it (the CAM methods)."""
    fields = attrs.fields(type(method))
    offered = [f for f in fields if f.name != "smooth" or type(method).smoothings]
    return {field.name: _json_safe(getattr(method, field.name)) for field in offered}


def method_seed(method: Method) -> int | None:
    """The seed of a method that draws random numbers (RISE, SmoothGrad), else None."""
    seed = getattr(method, "seed", None)
    return None if seed is None else int(seed)


def plan_provenance(method: Method, layer: str | None, model_name: str) -> dict[str, Any]:
    """What an Explanation records of where it comes from (see the module docstring)."""
    return {
        **software_versions(),
        "model": model_name,
        "method": method.key,
        "settings": method_settings(method),
        "seed": method_seed(method),
        "layer": layer,
    }


def weights_fingerprint(model: keras.Model) -> str:
    """SHA-256 (hex) of the model's weights: each variable's shape, dtype and values, in the
    model's order. Equal for a model saved and loaded again (variable paths are left out:
    a loaded model's differ from the one saved)."""
    digest = hashlib.sha256()
    for variable in model.weights:
        values = np.ascontiguousarray(keras.ops.convert_to_numpy(variable))
        digest.update(f"{values.shape}|{values.dtype}\n".encode())
        digest.update(values.tobytes())
    return digest.hexdigest()
