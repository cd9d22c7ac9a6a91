"""Models sent to other processes (pickle, Ray, multiprocessing) as the bytes of a ``.keras``
file, loaded in Keras' safe mode on arrival. Compiled functions cannot travel: the receiver
rebuilds them (``Explainer.__reduce__``).

>>> import keras
>>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, name="dense")])
>>> [layer.name for layer in model_from_bytes(model_to_bytes(model)).layers]
['dense']
"""

from __future__ import annotations

import tempfile
from pathlib import Path

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
