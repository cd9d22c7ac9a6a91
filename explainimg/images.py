"""Turning model inputs into pictures (NumPy and PIL only).

>>> import numpy as np
>>> array_to_image(np.zeros((4, 6, 3), dtype="float32")).size
(6, 4)
"""

from __future__ import annotations

import numpy as np
from PIL import Image


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

    ``channels`` of None keeps the image's own bands.
    """
    modes = {1: "L", 3: "RGB", 4: "RGBA"}
    if channels in modes and image.mode != modes[channels]:
        image = image.convert(modes[channels])
    array = np.asarray(image, dtype=np.float32)
    if array.ndim == 2:
        array = array[..., np.newaxis]
    return array
