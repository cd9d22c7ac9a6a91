"""Explainers sent to other processes (pickle, Ray, multiprocessing): the model travels as the
bytes of a ``.keras`` file and is loaded in Keras' safe mode on arrival, where the compiled
functions are rebuilt (they cannot travel).

>>> import keras, pickle, numpy as np
>>> from explainimg.explainer import Explainer
>>> model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 3, name="conv"),
...     keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax")])
>>> copy = pickle.loads(pickle.dumps(Explainer(model, target_names=["a", "b", "c"])))
>>> copy.layer, copy.target_names
('conv', ['a', 'b', 'c'])
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import keras


def model_to_bytes(model: keras.Model) -> bytes:
    """The ``.keras`` file of ``model``, as bytes."""
    with tempfile.TemporaryDirectory(prefix="explainimg-") as folder:
        path = Path(folder) / "model.keras"
        model.save(path)
        return path.read_bytes()


def model_from_bytes(data: bytes) -> keras.Model:
    """The model in ``.keras`` file bytes, loaded in safe mode (no code from the file runs)."""
    with tempfile.TemporaryDirectory(prefix="explainimg-") as folder:
        path = Path(folder) / "model.keras"
        path.write_bytes(data)
        return keras.saving.load_model(path, safe_mode=True)


def explainer_reduction(
    model: keras.Model,
    layer: str | None,
    method: Any,
    target_names: Any,
    options: dict[str, Any] | None = None,
) -> tuple[Any, tuple[Any, ...]]:
    """What ``Explainer.__reduce__`` returns: rebuild from the model's bytes and the options
    (``options``: the other keyword arguments of ``Explainer``; a ``preprocess`` function must
    pickle itself)."""
    return rebuild_explainer, (model_to_bytes(model), layer, method, target_names, options or {})


def rebuild_explainer(
    data: bytes,
    layer: str | None,
    method: Any,
    target_names: Any,
    options: dict[str, Any] | None = None,
) -> Any:
    """An Explainer for the model in ``data`` (see :func:`explainer_reduction`)."""
    from .explainer import Explainer

    return Explainer(
        model_from_bytes(data),
        layer=layer,
        method=method,
        target_names=target_names,
        **(options or {}),
    )
