"""Models sent to other processes (pickle, Ray, multiprocessing) as the bytes of a ``.keras``
file, loaded in Keras' safe mode on arrival. Compiled functions cannot travel: the receiver
rebuilds them (``Explainer.__reduce__``).

>>> import keras
>>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, name="dense")])
>>> [layer.name for layer in model_from_bytes(model_to_bytes(model)).layers]
['dense']
"""

from __future__ import annotations

import importlib
import importlib.util
import tempfile
import zipfile
from pathlib import Path

import keras

from ..errors import bad_argument, said

REGISTERING_PACKAGES = {"keras_hub": "hub"}
"""Packages whose classes a ``.keras`` file may name, which register them with Keras when
imported (KerasHub's detectors and classifiers), and the explainimg extra that installs
each."""


def _packages_named(path: Path) -> list[str]:
    """The registering packages whose classes the ``.keras`` file's config names."""
    try:
        with zipfile.ZipFile(path) as archive:
            config = archive.read("config.json").decode("utf-8", "replace")
    except (OSError, KeyError, zipfile.BadZipFile):
        return []  # not a .keras archive: Keras' own loader says what is wrong
    return [name for name in REGISTERING_PACKAGES if f'"module": "{name}' in config]


def import_packages_of(path: str | Path) -> None:
    """Import the packages whose classes the ``.keras`` file names, so that Keras finds them
    (a saved KerasHub RetinaNet loads in a fresh process); a named error when one is not
    installed."""
    for package in _packages_named(Path(path)):
        if importlib.util.find_spec(package) is None:
            raise bad_argument(
                "model",
                f"a .keras model whose classes can be loaded (it uses {package})",
                said(f"{str(path)!r}, but {package} is not installed"),
                hint=f'pip install "explainimg[{REGISTERING_PACKAGES[package]}]"',
            )
        importlib.import_module(package)


def load_keras_file(path: str | Path) -> keras.Model:
    """The model of a ``.keras`` file, loaded in safe mode after
    :func:`import_packages_of`."""
    import_packages_of(path)
    return keras.saving.load_model(path, safe_mode=True)


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
        return load_keras_file(path)
