"""A plain function from images to scores, explained like a model (black-box methods).

The function takes a batch of images (batch, height, width, channels), float32, as a tensor of
the running Keras backend, and returns scores (batch, classes): probabilities or logits, one
row per image. It is traced into the compiled explanation like a model, so it must be written
with ``keras.ops`` (or the backend's own ops), not NumPy. Only methods that just call the model
(``"occlusion"``, ``"rise"``) or take input gradients (``"saliency"`` and friends, when the
function is differentiable) apply: a function has no layers to explain.

>>> import numpy as np
>>> from keras import ops
>>> def brightness(images):
...     return ops.stack([ops.mean(images, axis=(1, 2, 3)), -ops.mean(images, axis=(1, 2, 3))], 1)
>>> model = as_model(brightness, (8, 8, 3))
>>> model.name, ops.convert_to_numpy(model(np.ones((2, 8, 8, 3)))).tolist()
('brightness', [[1.0, -1.0], [1.0, -1.0]])
>>> from explainimg.engine.anatomy import Choices
>>> function_anatomy(model, Choices(method="occlusion", needs_layer=False)).head.n_classes
2
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from ..errors import bad_argument, said
from .anatomy import Anatomy, Choices
from .kind_subclassed import subclassed_anatomy


class FunctionModel(keras.Model):
    """``function`` as a subclassed Keras model without layers."""

    def __init__(self, function: Callable[[Any], Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._function = function

    def call(self, images: Any) -> Any:
        return self._function(images)


_WRAPPED: weakref.WeakKeyDictionary[Any, dict[tuple[int, ...], FunctionModel]] = (
    weakref.WeakKeyDictionary()
)


def as_model(model: Any, image_shape: tuple[int, ...] | None) -> Any:
    """``model`` itself when it is a Keras model (or not callable: checked later), else the
    function wrapped and built for images of ``image_shape`` (height, width, channels)."""
    if isinstance(model, keras.Model) or not callable(model):
        return model
    if image_shape is None or len(image_shape) != 3:
        raise bad_argument(
            "x",
            "image arrays or tensors (height, width, channels) for a model given as a function",
            said("images whose size is not known before reading them"),
        )
    per_shape = _WRAPPED.setdefault(model, {})
    if image_shape not in per_shape:
        name = getattr(model, "__name__", type(model).__name__)
        wrapped = FunctionModel(model, name=name if name.isidentifier() else "function")
        wrapped(np.zeros((1, *image_shape), "float32"))
        per_shape[image_shape] = wrapped
    return per_shape[image_shape]


def example_shape(x: Any, batched: bool) -> tuple[int, ...] | None:
    """(height, width, channels) of the images in ``x`` when they are arrays or tensors."""
    first = x
    if isinstance(x, (list, tuple)) and x:
        first, batched = x[0], False
    shape = getattr(first, "shape", None)
    if shape is None:
        return None
    shape = tuple(int(size) for size in shape)
    if batched or len(shape) == 4:
        shape = shape[1:]
    return shape if len(shape) == 3 else None


def is_function_model(model: keras.Model) -> bool:
    """True for a plain function wrapped by :func:`as_model`."""
    return isinstance(model, FunctionModel)


def function_anatomy(model: FunctionModel, choices: Choices) -> Anatomy:
    """The Anatomy of a wrapped function: its one image input and its scores, for methods that
    explain the input (a function has no layers)."""
    if choices.needs_layer:
        raise bad_argument(
            "method",
            "a method that explains the input pixels (such as 'occlusion', 'rise' or "
            "'saliency') for a model given as a function, which has no layers",
            choices.method,
        )
    return subclassed_anatomy(model, choices)
