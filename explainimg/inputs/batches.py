"""Cutting many images into batches: arrays, tensors, lists and ``tf.data`` datasets.

Every source is read lazily, one batch at a time, so memory does not grow with the number
of images.

>>> import numpy as np
>>> [(start, len(chunk)) for start, chunk in iter_chunks(np.zeros((5, 2, 2, 1)), 2)]
[(0, 2), (2, 2), (4, 1)]
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ..errors import bad_type
from .arguments import checked_positive_int

_SINGLE = (Image.Image, str, Path)
"""Sources that are one image: a PIL image or the path of an image file."""


def is_dataset(xs: Any) -> bool:
    """True for a ``tf.data.Dataset`` (TensorFlow is not imported to find out: a dataset can
    only exist where TensorFlow was imported already)."""
    tensorflow = sys.modules.get("tensorflow")
    return tensorflow is not None and isinstance(xs, tensorflow.data.Dataset)


def count_images(xs: Any) -> int | None:
    """How many images ``xs`` holds, when that is known without reading it."""
    if isinstance(xs, _SINGLE):
        return 1
    if is_dataset(xs):
        return None
    shape = getattr(xs, "shape", None)
    if shape is not None:
        return 1 if len(shape) == 3 else int(shape[0])
    if isinstance(xs, (list, tuple)):
        return len(xs)
    return None


def file_sources(xs: Any) -> list[str | None]:
    """The file path of each image in ``xs`` that is one (as given), None for the others.

    >>> file_sources(["cat.jpg", np.zeros((4, 4, 3))]), file_sources(np.zeros((2, 4, 4, 3)))
    (['cat.jpg', None], [])
    """
    if isinstance(xs, (str, Path)):
        return [str(xs)]
    if isinstance(xs, (list, tuple)):
        return [str(x) if isinstance(x, (str, Path)) else None for x in xs]
    return []


def iter_chunks(xs: Any, batch_size: int) -> Iterator[tuple[int, Any]]:
    """(index of the first image, chunk) pairs with at most ``batch_size`` images per chunk.

    A chunk is an array/tensor slice or a list of images, ready for ``image_batch``.
    """
    batch_size = checked_positive_int(batch_size, "batch_size")
    if not _is_image_source(xs):
        raise bad_type(
            "xs", "images: an array, tensor, list of images or files, or tf.data.Dataset", xs
        )
    return _chunks(xs, batch_size)


def _is_image_source(xs: Any) -> bool:
    return (
        hasattr(xs, "shape")
        or isinstance(xs, _SINGLE)
        or is_dataset(xs)
        or (isinstance(xs, Iterable) and not isinstance(xs, bytes))
    )


def _chunks(xs: Any, batch_size: int) -> Iterator[tuple[int, Any]]:
    if is_dataset(xs):
        yield from _rebatch(_dataset_images(xs), batch_size)
    elif isinstance(xs, _SINGLE) or (hasattr(xs, "shape") and len(xs.shape) == 3):
        yield 0, xs
    elif hasattr(xs, "shape"):
        for start in range(0, int(xs.shape[0]), batch_size):
            yield start, xs[start : start + batch_size]
    else:
        yield from _rebatch(iter(xs), batch_size)


def _dataset_images(dataset: Any) -> Iterator[np.ndarray]:
    """Single images from a dataset of images or (images, labels) pairs, batched or not."""
    for element in dataset:
        if isinstance(element, (tuple, list)):
            element = element[0]
        array = element.numpy()
        if array.ndim == 4:
            yield from array
        else:
            yield array


def _rebatch(images: Iterator[Any], batch_size: int) -> Iterator[tuple[int, list[Any]]]:
    chunk: list[Any] = []
    start = 0
    for image in images:
        chunk.append(image)
        if len(chunk) == batch_size:
            yield start, chunk
            start += len(chunk)
            chunk = []
    if chunk:
        yield start, chunk
