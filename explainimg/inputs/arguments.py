"""Checking and normalising the arguments of ``explain_prediction`` (NumPy and PIL only).

Each check raises an error naming the argument, what was expected and what came, and none
of them modifies what the user passed in.

>>> import numpy as np
>>> checked_top(3, n_classes=10)
3
>>> checked_targets([2, 7], n_classes=10)
[2, 7]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ..errors import bad_argument, bad_type, said
from .images import RESIZE_FILTER, array_to_image, image_to_array, read_image, standard_image

Shape = tuple[int | None, ...]


def one_image(x: Any, input_shape: Shape) -> tuple[np.ndarray, Image.Image | None]:
    """``x`` as a fresh float32 batch of one (1, H, W, C) matching the model's input.

    A PIL image (or the path of an image file) is converted to the model's channel count and
    resized to its input size; it is returned as well, so the explanation can be shown on the
    original picture.
    """
    if isinstance(x, (list, tuple)):
        x = _numeric_array(x, "x")
    batch, originals = image_batch(x, input_shape, name="x")
    if batch.shape[0] != 1:
        raise bad_argument(
            "x",
            _ONE_IMAGE,
            said(f"a batch of {batch.shape[0]} images, shape {batch.shape}"),
            hint="Use explain_predictions() for several images.",
        )
    return batch, originals[0]


_ONE_IMAGE = "one image of shape (H, W, C) or (1, H, W, C)"


def image_batch(
    xs: Any, input_shape: Shape, *, name: str = "xs", offset: int = 0
) -> tuple[np.ndarray, list[Image.Image | None]]:
    """``xs`` as a fresh float32 (B, H, W, C) batch matching the model's input.

    ``xs``: an array or tensor of one image (H, W, C) or of several (B, H, W, C), a PIL image,
    the path of an image file (str or Path), or a list of those. PIL images are converted and
    resized with :data:`~explainimg.inputs.images.RESIZE_FILTER`; the second value holds them (None
    for images that came as arrays). Errors name ``name[offset + i]`` for image i.
    """
    check_input_shape(input_shape)
    if isinstance(xs, (str, Path)):
        xs = _read_path(xs, name)
    if isinstance(xs, (list, tuple)):
        if not xs:
            raise bad_argument(name, "at least one image", said("an empty list"))
        parts = [
            image_batch(item, input_shape, name=f"{name}[{offset + i}]")
            for i, item in enumerate(xs)
        ]
        for i, (part, _) in enumerate(parts):
            if part.shape[0] != 1:
                raise bad_argument(f"{name}[{offset + i}]", _ONE_IMAGE, part)
        return np.concatenate([part for part, _ in parts]), [orig[0] for _, orig in parts]
    _, height, width, channels = input_shape
    if isinstance(xs, Image.Image):
        resized = standard_image(xs)
        if height is not None and width is not None and xs.size != (width, height):
            resized = resized.resize((width, height), RESIZE_FILTER)
        return image_to_array(resized, channels)[np.newaxis], [xs]
    array = _numeric_array(xs, name)
    if array.ndim == 3:
        array = array[np.newaxis]
    if array.ndim != 4:
        expected = _ONE_IMAGE if name == "x" else "images of shape (B, H, W, C) or (H, W, C)"
        hint = _GREY_HINT.format(name=name) if array.ndim == 2 and channels == 3 else ""
        raise bad_argument(name, expected, array, hint=hint)
    if array.shape[0] == 0:
        raise bad_argument(name, "at least one image", said(f"an empty batch, shape {array.shape}"))
    _check_image_shape(array, height, width, channels, name)
    finite = np.isfinite(array).all(axis=(1, 2, 3))
    if not finite.all():
        bad = int(np.argmin(finite))
        where = name if name == "x" or array.shape[0] == 1 else f"{name}[{offset + bad}]"
        raise bad_argument(where, "finite pixel values", said("an image containing NaN or inf"))
    return array, [None] * array.shape[0]


_IMAGE_TYPES = "an image array, tensor, PIL image or image file path"


def _numeric_array(value: Any, name: str) -> np.ndarray:
    """``value`` as float32 (no copy when it already is: nothing here writes into it).

    Only numbers are pixels: a scalar, or an array of strings, objects or None, is a wrong type
    rather than a wrong shape or "NaN".
    """
    if isinstance(value, bytes) or value is None or np.ndim(value) == 0:
        raise bad_type(name, _IMAGE_TYPES, value)
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        raise bad_type(name, _IMAGE_TYPES, value) from None
    if array.dtype.kind not in "biuf":
        raise bad_type(name, f"{_IMAGE_TYPES} of numbers", said(f"an array of dtype {array.dtype}"))
    return array.astype(np.float32, copy=False)


def _read_path(path: str | Path, name: str) -> Image.Image:
    if not Path(path).is_file():
        raise bad_argument(name, _IMAGE_TYPES, said(f"{str(path)!r}, which is not a file"))
    try:
        return read_image(path)
    except Exception as error:  # PIL's decoders raise many types for one broken file
        raise bad_argument(
            name, _IMAGE_TYPES, said(f"{str(path)!r}, which cannot be read as an image ({error})")
        ) from None


def shape_fits(shape: Sequence[int], expected: Shape) -> bool:
    """True when ``shape`` has the rank of ``expected`` and its sizes where those are known
    (the batch axis is not compared).

    >>> shape_fits((2, 8, 8, 3), (None, 8, None, 3)), shape_fits((2, 8), (None, 8, 3))
    (True, False)
    """
    return len(shape) == len(expected) and all(
        want is None or want == got for want, got in zip(expected[1:], shape[1:], strict=True)
    )


def check_input_shape(input_shape: Shape) -> None:
    """An error unless the model takes a batch of images (batch, height, width, channels)."""
    if len(input_shape) != 4:
        raise bad_argument(
            "model",
            "a model whose input is a batch of images (batch, height, width, channels)",
            said(f"a model with input shape {tuple(input_shape)}"),
        )


def checked_size(size: Any, input_shape: Shape) -> tuple[int, int] | None:
    """``size`` as (width, height) in pixels, PIL's order, or None; a model with a fixed
    input size only takes that size.

    >>> checked_size((64, 48), (None, None, None, 3))
    (64, 48)
    >>> checked_size((64, 48), (None, 32, 32, 3))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: size: expected None or the model's input size (32, 32) as (width, height), ...
    """
    if size is None:
        return None
    expected = "(width, height) in pixels, two positive integers"
    if not isinstance(size, (tuple, list)) or len(size) != 2:
        raise bad_type("size", expected, size)
    width = checked_positive_int(size[0], "size[0]")
    height = checked_positive_int(size[1], "size[1]")
    fixed_height, fixed_width = input_shape[1], input_shape[2]
    if (fixed_height is not None and fixed_height != height) or (
        fixed_width is not None and fixed_width != width
    ):
        raise bad_argument(
            "size",
            f"None or the model's input size {(fixed_width, fixed_height)} as (width, height)",
            (width, height),
        )
    return width, height


def checked_positive_int(value: Any, name: str) -> int:
    """``value`` as an int of at least 1 (TypeError for a non-integer, ValueError below 1)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise bad_type(name, "a positive integer", value)
    if value < 1:
        raise bad_argument(name, "a positive integer", int(value))
    return int(value)


def _check_image_shape(
    array: np.ndarray, height: int | None, width: int | None, channels: int | None, name: str
) -> None:
    _, got_height, got_width, got_channels = array.shape
    if channels is not None and got_channels != channels:
        raise bad_argument(
            name,
            f"an image with {channels} channel{'s' if channels != 1 else ''} (the model's input)",
            said(f"{got_channels} channels, shape {array.shape}"),
            hint=_channels_hint(array.shape, channels, name),
        )
    if (height is not None and got_height != height) or (width is not None and got_width != width):
        raise bad_argument(
            name,
            f"an image of height x width {height} x {width} (the model's input)",
            said(f"{got_height} x {got_width}, shape {array.shape}"),
            hint="Resize the image first (a PIL image is resized automatically).",
        )


_GREY_HINT = (
    "For a greyscale image, repeat it into three channels: np.repeat({name}[..., np.newaxis], "
    "3, axis=-1), or open the file with PIL's Image.open(path).convert('RGB')."
)


def _channels_hint(shape: tuple[int, ...], channels: int, name: str) -> str:
    """The likely fix for a channel count that does not match: greyscale into an RGB model,
    or an array laid out channels-first (B, C, H, W) for a channels-last model."""
    if shape[1] == channels and shape[-1] != channels:
        return (
            f"It looks channels-first ({channels} channels before height and width); the "
            f"model takes channels-last images: use np.moveaxis({name}, -3, -1)."
        )
    if shape[-1] == 1 and channels == 3:
        return _GREY_HINT.format(name=name)
    return ""


def checked_top(top: Any, n_classes: int) -> int:
    """``top`` as an int between 1 and the number of classes."""
    expected = f"an integer between 1 and {n_classes} (the number of classes)"
    if isinstance(top, bool) or not isinstance(top, (int, np.integer)):
        raise bad_type("top", expected, top)
    if not 1 <= int(top) <= n_classes:
        raise bad_argument("top", expected, int(top))
    return int(top)


_NAMES_HINT = "Class names go in target_names=; targets takes class ids."


def checked_targets(targets: Any, n_classes: int, name: str = "targets") -> list[int]:
    """``targets`` (one class id or a sequence of them) as a list of valid class ids.

    Anything but an integer where a class id belongs (a string, a float, None) is a wrong
    type, named by its position (``name[i]``):

    >>> checked_targets(["cat"], n_classes=10)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    TypeError: targets[0]: expected a class id (an integer), got str. Class names go in ...
    """
    if isinstance(targets, (int, np.integer)) and not isinstance(targets, bool):
        targets = [targets]
    if isinstance(targets, np.ndarray):
        targets = targets.tolist()
    if not isinstance(targets, Sequence) or isinstance(targets, (str, bytes)):
        hint = _NAMES_HINT if isinstance(targets, str) else ""
        raise bad_type(name, "a list of class ids", targets, hint=hint)
    if len(targets) == 0:
        raise bad_argument(name, "at least one class id", said("an empty list"))
    ids = []
    for i, target in enumerate(targets):
        if isinstance(target, bool) or not isinstance(target, (int, np.integer)):
            hint = _NAMES_HINT if isinstance(target, str) else ""
            raise bad_type(f"{name}[{i}]", "a class id (an integer)", target, hint=hint)
        if not 0 <= int(target) < n_classes:
            raise bad_argument(
                name,
                f"class ids between 0 and {n_classes - 1} (the model has {n_classes} classes)",
                int(target),
            )
        ids.append(int(target))
    return ids


def checked_target_names(
    target_names: Any, n_classes: int
) -> Sequence[str] | Mapping[int, str] | None:
    """``target_names`` as given when it is a list of n_classes names; a dict as {id: name}.

    Dict keys may be ids or their decimal text, and values names or (wordnet id, name)
    pairs, as JSON files such as Keras' ``imagenet_class_index.json`` give them:

    >>> checked_target_names({"0": ["n01440764", "tench"], "1": "goldfish"}, n_classes=2)
    {0: 'tench', 1: 'goldfish'}
    """
    if target_names is None:
        return None
    if isinstance(target_names, Mapping):
        return _names_by_id(target_names, n_classes)
    if isinstance(target_names, (str, bytes)) or not isinstance(target_names, Sequence):
        raise bad_type(
            "target_names", "a list of class names or a {class_id: name} dict", target_names
        )
    if len(target_names) != n_classes:
        raise bad_argument(
            "target_names",
            f"{n_classes} names (one per class of the model)",
            said(f"{len(target_names)} names"),
        )
    return target_names


def _names_by_id(names: Mapping[Any, Any], n_classes: int) -> dict[int, str | None]:
    """An {id: name} dict with int keys within range and str (or None) names."""
    by_id: dict[int, str | None] = {}
    ids = f"class ids between 0 and {n_classes - 1}"
    for key, value in names.items():
        where = f"target_names[{key!r}]"
        if isinstance(key, str) and key.strip().isdigit():
            key = int(key)
        if isinstance(key, bool) or not isinstance(key, (int, np.integer)):
            raise bad_type("target_names", f"{ids} (or their text) as keys", key)
        if not 0 <= int(key) < n_classes:
            raise bad_argument("target_names", f"{ids} as keys (the model's classes)", int(key))
        if isinstance(value, (list, tuple)) and value and isinstance(value[-1], str):
            value = value[-1]  # (wordnet id, name)
        if value is not None and not isinstance(value, str):
            raise bad_type(where, "a class name or a (wordnet id, name) pair", value)
        by_id[int(key)] = value
    return by_id


def name_of(target: int, target_names: Sequence[str] | Mapping[int, str] | None) -> str | None:
    """The name of class ``target``, or None when no names are known for it (a None name
    means "unknown", not the name "None")."""
    if target_names is None:
        return None
    is_dict = isinstance(target_names, Mapping)
    name = target_names.get(target) if is_dict else target_names[target]
    return None if name is None else str(name)


def checked_displays(images: Sequence[Any] | None, count: int) -> list[Image.Image | None]:
    """The pictures to draw ``count`` images' explanations on (None: each image itself),
    each checked by :func:`checked_image`."""
    if images is None:
        return [None] * count
    if len(images) != count:
        raise bad_argument("images", f"{count} pictures (one per image)", said(f"{len(images)}"))
    return [checked_image(image) for image in images]


def checked_image(image: Any) -> Image.Image | None:
    """``image`` as a PIL image (an array of pixels is converted), or None."""
    if image is None or isinstance(image, Image.Image):
        return image
    if isinstance(image, np.ndarray) and image.ndim in (2, 3):
        pixels = image if image.ndim == 3 else image[..., np.newaxis]
        return array_to_image(pixels)
    raise bad_type("image", "a PIL image or an (H, W[, C]) pixel array", image)


def _is_list(value: Any) -> bool:
    return isinstance(value, np.ndarray) or (
        isinstance(value, Sequence) and not isinstance(value, (str, bytes))
    )


def is_per_image(targets: Any) -> bool:
    """True for one list of class ids per image (``[[3], [5]]`` or a 2-D array).

    >>> is_per_image([[3], [5]]), is_per_image([3, 5])
    (True, False)
    """
    if isinstance(targets, np.ndarray):
        return targets.ndim == 2
    return _is_list(targets) and len(targets) > 0 and all(_is_list(row) for row in targets)


def check_list_count(targets: Sequence[Any], count: int | str) -> None:
    """An error unless there is one list of class ids per image (``count`` images)."""
    if not isinstance(count, int) or len(targets) != count:
        raise bad_argument(
            "targets",
            f"one list of class ids per image ({count} images)",
            said(f"{len(targets)} lists"),
        )


def target_matrix(targets: Any, count: int, n_classes: int) -> np.ndarray:
    """(count, K) class ids: the same ``targets`` for every image, or one list per image.

    >>> target_matrix([2, 0], 3, n_classes=4).tolist()
    [[2, 0], [2, 0], [2, 0]]
    """
    if not is_per_image(targets):
        return np.tile(checked_targets(targets, n_classes), (count, 1))
    check_list_count(targets, count)
    rows = [checked_targets(row, n_classes, f"targets[{i}]") for i, row in enumerate(targets)]
    if len({len(row) for row in rows}) != 1:
        raise bad_argument("targets", "the same number of class ids for every image", targets)
    return np.array(rows)
