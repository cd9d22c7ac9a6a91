"""Shared fixtures: small models built here, and one shapes model trained per test run."""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import pytest

from explainimg.demo import shapes, toy

TRAINED_CACHE = Path(tempfile.gettempdir()) / "explainimg-test-models"


def trained_once(name: str, train: Callable[[], keras.Model], *sources: Path) -> keras.Model:
    """The model ``train()`` returns, trained by the first test process that asks for it and
    loaded from a file by the others (the xdist workers, and the JAX run after the TensorFlow
    one). The file's name holds a hash of the ``sources`` that define the training and of the
    Keras version, so a change to either trains afresh."""
    digest = hashlib.sha256(keras.__version__.encode())
    for source in sources:
        digest.update(Path(source).read_bytes())
    TRAINED_CACHE.mkdir(parents=True, exist_ok=True)
    path = TRAINED_CACHE / f"{name}-{digest.hexdigest()[:16]}.keras"
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the others wait while one trains
        if path.exists():
            return keras.saving.load_model(path, safe_mode=True)
        model = train()
        partial = path.with_suffix(f".{os.getpid()}.keras")
        model.save(partial)
        partial.replace(path)
        return model


@pytest.fixture(scope="session")
def shapes_model() -> keras.Model:
    """The demo architecture trained on generated shapes (about 20 s, once per test run)."""
    sources = (Path(toy.__file__), Path(shapes.__file__))
    return trained_once("shapes", lambda: toy.train_shapes_model(seed=1), *sources)
