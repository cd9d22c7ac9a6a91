"""Turning model inputs into pictures and pictures into model inputs (NumPy and PIL only).

>>> import numpy as np
>>> array_to_image(np.zeros((4, 6, 3), dtype="float32")).size
(6, 4)
>>> standard_image(Image.new("CMYK", (2, 2))).mode
'RGB'
>>> standard_image(Image.new("I;16", (1, 1), 65535)).getpixel((0, 0))
255
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

RESIZE_FILTER = Image.BILINEAR
"""The one filter explainimg resizes pictures with to the model's input size (PIL input, the
command line, the demo); resize with it yourself to get the same numbers."""

STANDARD_MODES = ("L", "RGB", "RGBA")
"""The PIL modes pictures are kept in: 8 bits per channel, as PNG, matplotlib and every
formatter take (grey with transparency becomes RGBA)."""

_SIXTEEN_BIT = 65535.0


def standard_image(image: Image.Image) -> Image.Image:
    """``image`` in an 8-bit mode of :data:`STANDARD_MODES` (the image itself when it is one).

    Colour modes (CMYK, YCbCr, LAB, HSV, P...) become RGB, or RGBA when transparent; 16-bit
    grey (I;16) is scaled by 255/65535, 32-bit integer (I) likewise when its values exceed 255,
    and float (F) pictures like model inputs (see :func:`displayable_pixels`), so no value is
    silently saturated at 255.
    """
    if image.mode in STANDARD_MODES:
        return image
    if image.mode.startswith("I") or image.mode == "F":
        return Image.fromarray(_grey_pixels(np.asarray(image, dtype=np.float32), image.mode))
    if image.mode in ("1", "L;16"):
        return image.convert("L")
    if image.mode in ("LA", "PA", "La") or "transparency" in image.info:
        return image.convert("RGBA")
    return image.convert("RGB")


def _grey_pixels(values: np.ndarray, mode: str) -> np.ndarray:
    if mode.startswith("I;16") or (mode == "I" and 255.0 < values.max() <= _SIXTEEN_BIT):
        return np.rint(np.clip(values, 0.0, _SIXTEEN_BIT) * (255.0 / _SIXTEEN_BIT)).astype(np.uint8)
    return displayable_pixels(values)


def read_image(path: str | Path) -> Image.Image:
    """The picture in file ``path``, fully read (the file is closed) and in a standard mode."""
    with Image.open(path) as opened:
        opened.load()
        return standard_image(opened.copy())


def displayable_pixels(array: np.ndarray) -> np.ndarray:
    """Map pixel values to uint8 0..255 for display.

    Values already in 0..255 are kept as they are; values in 0..1 are scaled by 255;
    anything else (e.g. inputs preprocessed to -1..1 or mean-subtracted) is min-max rescaled.
    A constant image comes out uniformly black rather than NaN.
    """
    values = np.asarray(array, dtype=np.float32)
    low, high = float(values.min()), float(values.max())
    if low >= 0.0 and high <= 1.0:
        scale, offset = 255.0, 0.0
    elif low >= 0.0 and high <= 255.0:
        scale, offset = 1.0, 0.0
    elif high > low:
        scale = 255.0 / (high - low)
        offset = -low * scale
    else:
        return np.zeros(values.shape, dtype=np.uint8)
    scaled = values * np.float32(scale)
    if offset:
        scaled += np.float32(offset)
    np.rint(scaled, out=scaled)
    np.clip(scaled, 0.0, 255.0, out=scaled)
    return scaled.astype(np.uint8)


def array_to_image(array: np.ndarray) -> Image.Image:
    """A PIL image of one (H, W, C) input: L for 1 channel, RGB for 3, RGBA for 4.

    Other channel counts are shown as the grey mean of their channels.
    """
    pixels = displayable_pixels(array)
    channels = pixels.shape[-1]
    if channels == 1:
        return Image.fromarray(pixels[..., 0])
    if channels in (3, 4):
        return Image.fromarray(pixels)
    grey = displayable_pixels(np.asarray(array, dtype=np.float32).mean(axis=-1))
    return Image.fromarray(grey)


def image_to_array(image: Image.Image, channels: int | None) -> np.ndarray:
    """A float32 (H, W, C) array of a PIL image's pixels (0..255), converted to ``channels``.

    The image is first put in a standard mode (:func:`standard_image`: CMYK becomes RGB, 16-bit
    grey is scaled to 0..255). ``channels`` of None keeps the image's own bands.
    """
    modes = {1: "L", 3: "RGB", 4: "RGBA"}
    image = standard_image(image)
    if channels in modes and image.mode != modes[channels]:
        image = image.convert(modes[channels])
    array = np.asarray(image, dtype=np.float32)
    if array.ndim == 2:
        array = array[..., np.newaxis]
    return array
