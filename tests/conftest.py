"""Shared fixtures: small models built here, and one shapes model trained per session."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import pytest

from explainimg.demo.toy import train_shapes_model


@pytest.fixture(scope="session")
def shapes_model() -> keras.Model:
    """The demo architecture trained in the test session on generated shapes (about 20 s)."""
    return train_shapes_model(seed=1)
