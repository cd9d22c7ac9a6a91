"""TensorBoard event files, written with ``tf.summary`` whichever Keras backend trains.

TensorFlow is a core dependency, but ``tf.summary.image`` and ``tf.summary.scalar`` are
implemented by the ``tensorboard`` package, which TensorFlow 2.21 no longer installs: the
``[tensorboard]`` extra brings it (:func:`require_tensorboard` says so when it is missing).

>>> import tempfile, numpy as np
>>> writer = SummaryWriter(tempfile.mkdtemp())
>>> writer.write(3, images={"a": np.zeros((4, 4, 3), np.uint8)}, scalars={"b": 0.5})
>>> writer.close()
"""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Mapping
from pathlib import Path

import keras
import numpy as np

TENSORBOARD_FIX = 'pip install ".[tensorboard]"'


def require_tensorboard(argument: str = "log_dir") -> None:
    """An ImportError naming the fix unless the ``tensorboard`` package is installed."""
    if importlib.util.find_spec("tensorboard") is None:
        raise ImportError(
            f"{argument}: writing TensorBoard summaries needs the tensorboard package, which "
            f"is not installed (TensorFlow 2.21 no longer brings it): {TENSORBOARD_FIX} "
            '(or pip install "explainimg[tensorboard]", or pip install tensorboard)'
        )


def _summary_tensorflow():  # -> the tensorflow module, set up to stay off the accelerator
    import tensorflow as tf

    if keras.backend.backend() != "tensorflow":
        # Another framework trains: TensorFlow only encodes PNGs and writes files, so it
        # must not claim the GPU's memory (by default it takes nearly all of it).
        # A RuntimeError: TensorFlow's devices were set up already (by tf.data, say).
        with contextlib.suppress(RuntimeError):
            tf.config.set_visible_devices([], "GPU")
    return tf


class SummaryWriter:
    """One event file under ``log_dir``: images (uint8 (H, W, C) arrays) and scalars per
    step, written on the CPU and flushed after each :meth:`write`."""

    def __init__(self, log_dir: str | Path) -> None:
        require_tensorboard()
        self._tf = _summary_tensorflow()
        Path(log_dir).mkdir(parents=True, exist_ok=True)
        with self._tf.device("/cpu:0"):
            self._writer = self._tf.summary.create_file_writer(str(log_dir))

    def write(
        self,
        step: int,
        *,
        images: Mapping[str, np.ndarray] | None = None,
        scalars: Mapping[str, float] | None = None,
        descriptions: Mapping[str, str] | None = None,
    ) -> None:
        """One image summary per tag of ``images`` (PNG-encoded as they are, no rescaling)
        and one scalar per tag of ``scalars``, all at ``step``."""
        tf, descriptions = self._tf, descriptions or {}
        with tf.device("/cpu:0"), self._writer.as_default():
            for tag, pixels in (images or {}).items():
                batch = np.asarray(pixels, dtype=np.uint8)[np.newaxis]
                tf.summary.image(tag, batch, step=step, description=descriptions.get(tag))
            for tag, value in (scalars or {}).items():
                tf.summary.scalar(tag, float(value), step=step, description=descriptions.get(tag))
        self._writer.flush()

    def close(self) -> None:
        """Flush and close the event file."""
        self._writer.close()
