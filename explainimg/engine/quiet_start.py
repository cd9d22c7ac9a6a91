"""Start-up without noise: the command line imports the backend here before Keras, so that
TensorFlow's native start-up lines do not reach the terminal. Keras is not imported here.

>>> import_backend_quietly()
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def _quiet_native_stderr() -> Iterator[None]:
    """Silence what C++ libraries write straight to file descriptor 2 (TensorFlow's start-up
    lines ignore TF_CPP_MIN_LOG_LEVEL); Python's own sys.stderr is untouched."""
    try:
        saved = os.dup(2)
    except OSError:  # no real stderr (e.g. embedded): nothing to quiet
        yield
        return
    sys.stderr.flush()
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def import_backend_quietly() -> None:
    """Import TensorFlow, when it is the backend, without its start-up lines on stderr (the
    command line calls this first; Keras, imported later, finds it loaded)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow" and (
        "tensorflow" not in sys.modules
    ):
        with _quiet_native_stderr():
            import tensorflow  # noqa: F401
