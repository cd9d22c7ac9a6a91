"""Doctest collection: each backend module imports its own framework, so only the running
backend's module is collected."""

import os

_BACKENDS = ("tensorflow", "jax", "torch")
_RUNNING = os.environ.get("KERAS_BACKEND", "tensorflow")

collect_ignore = [f"explainimg/engine/backend_{name}.py" for name in _BACKENDS if name != _RUNNING]
