"""``preprocess=``: explain raw pixels, feed the model what it was trained on.

The rule: ``x`` is the picture as you would show it (0-255 RGB, say); ``preprocess`` turns a
batch of such pictures into what the model takes, and is applied exactly once, by explainimg,
right before the model. Overlays are drawn on ``x`` itself. So never pass an already
preprocessed ``x`` together with ``preprocess=``. A KerasHub task model never applies its own
``preprocessor`` when called (only ``predict``/``fit`` do), so ``preprocess="model"`` (use
the model's ``preprocessor``) is not a second application either.

>>> import numpy as np
>>> halve = checked_preprocess(lambda batch: batch / 2, model=None)
>>> halve(np.full((1, 2, 2, 3), 8.0, "float32"), (None, 2, 2, 3))[0, 0, 0].tolist()
[4.0, 4.0, 4.0]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np
from keras import ops

from ..errors import bad_argument, bad_type, said
from .arguments import shape_fits

Preprocess = Callable[[np.ndarray, tuple[int | None, ...]], np.ndarray]

KERAS_APPLICATIONS_MODES: dict[str, Callable[..., Any]] = {
    "tf": keras.applications.mobilenet_v2.preprocess_input,  # 0..255 to -1..1
    "torch": keras.applications.densenet.preprocess_input,  # ImageNet mean and std
    "caffe": keras.applications.resnet50.preprocess_input,  # BGR minus ImageNet means
}
"""keras.applications' preprocessing functions by ``imagenet_utils`` mode: each is
``keras.applications.imagenet_utils.preprocess_input(x, mode=...)``, and being module-level
functions they pickle (an Explainer travels to other processes with its ``preprocess``)."""


def preprocess_for_mode(mode: str) -> Any:
    """The ``preprocess=`` of ``explainimg explain --preprocess MODE``: None for "none" (raw
    pixels), "model" for "model" (a KerasHub model's preprocessor), else keras.applications'
    function for "tf", "torch" or "caffe" (:data:`KERAS_APPLICATIONS_MODES`).

    >>> preprocess_for_mode("tf") is keras.applications.mobilenet_v2.preprocess_input
    True
    >>> preprocess_for_mode("none") is None, preprocess_for_mode("model")
    (True, 'model')
    """
    if mode == "none":
        return None
    if mode == "model":
        return mode
    if mode not in KERAS_APPLICATIONS_MODES:
        raise bad_argument("--preprocess", "none, tf, torch, caffe or model", mode)
    return KERAS_APPLICATIONS_MODES[mode]


def checked_preprocess(preprocess: Any, model: Any) -> Preprocess | None:
    """``preprocess`` (None, a callable, or ``"model"`` for a KerasHub model's own
    ``preprocessor``) as a function of (batch, model input shape) -> checked batch."""
    if preprocess is None:
        return None
    if isinstance(preprocess, str):
        if preprocess != "model":
            raise bad_argument(
                "preprocess", "a function, or 'model' for the model's own preprocessor", preprocess
            )
        function = getattr(model, "preprocessor", None)
        if function is None:
            raise bad_argument(
                "preprocess",
                "a function, or 'model' for a KerasHub model with a preprocessor",
                said(f"'model' for {type(model).__name__}, which has no preprocessor"),
            )
    elif callable(preprocess):
        function = preprocess
    else:
        raise bad_type("preprocess", "a function from images to model inputs", preprocess)

    def apply(batch: np.ndarray, input_shape: tuple[int | None, ...]) -> np.ndarray:
        # A copy: keras.applications' preprocess_input works in place on float arrays.
        result = ops.convert_to_numpy(function(batch.copy()))
        return _checked_result(np.asarray(result), batch.shape[0], input_shape)

    return apply


def _checked_result(
    result: np.ndarray, count: int, input_shape: tuple[int | None, ...]
) -> np.ndarray:
    expected = f"images of the model's input shape {input_shape}"
    if result.dtype.kind not in "biuf":
        raise bad_argument("preprocess", expected, said(f"an array of dtype {result.dtype}"))
    if not (shape_fits(result.shape, input_shape) and result.shape[0] == count):
        raise bad_argument("preprocess", expected, said(f"shape {result.shape}"))
    if not np.isfinite(result).all():
        raise bad_argument("preprocess", "finite values", said("NaN or inf in its result"))
    return result.astype(np.float32, copy=False)
