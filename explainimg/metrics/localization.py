"""Does the heat sit on the object? Pointing game, energy and mean heat in a box (NumPy only).

Boxes are ``(top, left, bottom, right)`` in pixels of ``expl.image``, bounds included; a mask
is a boolean array of the image's (height, width). Heatmaps are upsampled to the image
(bilinear) before they are compared with the box.

>>> import numpy as np
>>> heatmap = np.zeros((4, 4), dtype="float32"); heatmap[0, 3] = 1.0
>>> pointing_game(heatmap, box=(0, 48, 15, 63), image_size=(64, 64), tolerance=0)
True
>>> round(energy_in_box(heatmap, box=(0, 32, 31, 63), image_size=(64, 64)), 3)
1.0
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

from ..errors import bad_argument, bad_type, said
from ..explanation import Explanation, target_at
from ..heatmaps import upsample_heatmap

Box = tuple[int, int, int, int]


def _heatmap_and_size(
    subject: Explanation | np.ndarray, target: int, image_size: tuple[int, int] | None
) -> tuple[np.ndarray, tuple[int, int]]:
    if isinstance(subject, Explanation):
        heatmap = target_at(subject, target).heatmap
        if image_size is None:
            if subject.image is None:
                raise bad_argument("image_size", "(width, height)", None)
            image_size = subject.image.size
        return heatmap, image_size
    if image_size is None:
        raise bad_argument("image_size", "(width, height) of the image the heatmap covers", None)
    return np.asarray(subject, dtype=np.float32), image_size


def region_mask(
    box: Box | None, mask: np.ndarray | None, image_size: tuple[int, int]
) -> np.ndarray:
    """A boolean (height, width) mask from exactly one of ``box`` or ``mask``."""
    width, height = image_size
    if (box is None) == (mask is None):
        raise bad_argument("box", "exactly one of box or mask", said("both or neither"))
    if mask is not None:
        region = np.asarray(mask, dtype=bool)
        if region.shape != (height, width):
            raise bad_argument("mask", f"a boolean array of shape {(height, width)}", region)
        return region
    if not isinstance(box, (tuple, list)) or len(box) != 4:
        raise bad_type("box", "(top, left, bottom, right) in pixels", box)
    top, left, bottom, right = (int(v) for v in box)
    if not (0 <= top <= bottom < height and 0 <= left <= right < width):
        raise bad_argument(
            "box", f"(top, left, bottom, right) inside a {width}x{height} image", tuple(box)
        )
    region = np.zeros((height, width), dtype=bool)
    region[top : bottom + 1, left : right + 1] = True
    return region


def pointing_game(
    subject: Explanation | np.ndarray,
    *,
    box: Box | None = None,
    mask: np.ndarray | None = None,
    tolerance: float = 15,
    target: int = 0,
    image_size: tuple[int, int] | None = None,
) -> bool:
    """True when the hottest pixel of the upsampled heatmap lies within ``tolerance`` pixels
    of the box or mask (Zhang et al. 2016; the Grad-CAM paper's localisation check).

    ``subject``: an Explanation (``target`` = position in its targets; the image gives the
    size) or a bare heatmap with ``image_size`` = (width, height). An all-zero map never hits.
    """
    tolerance = _checked_tolerance(tolerance)
    heatmap, size = _heatmap_and_size(subject, target, image_size)
    region = region_mask(box, mask, size)
    heat = upsample_heatmap(heatmap, size, Image.BILINEAR)
    if not heat.any():
        return False
    row, col = np.unravel_index(int(np.argmax(heat)), heat.shape)
    rows, cols = np.nonzero(region)
    if rows.size == 0:
        return False
    distance = np.sqrt((rows - row) ** 2 + (cols - col) ** 2).min()
    return bool(distance <= tolerance)


def _checked_tolerance(tolerance: Any) -> float:
    expected = "a distance in pixels (a number >= 0)"
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float, np.number)):
        hint = (
            f"Use tolerance={tolerance}."
            if isinstance(tolerance, str) and _is_number(tolerance)
            else ""
        )
        raise bad_type("tolerance", expected, tolerance, hint=hint)
    if not np.isfinite(tolerance) or tolerance < 0:
        raise bad_argument("tolerance", expected, float(tolerance))
    return float(tolerance)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def energy_in_box(
    subject: Explanation | np.ndarray,
    *,
    box: Box | None = None,
    mask: np.ndarray | None = None,
    target: int = 0,
    image_size: tuple[int, int] | None = None,
) -> float:
    """Share of the upsampled heatmap's total heat that falls inside the box or mask
    (0.0 for an all-zero map)."""
    heat, region = _heat_and_region(subject, box, mask, target, image_size)
    total = heat.sum()
    return float(heat[region].sum() / total) if total > 0 else 0.0


def mean_heat_in_box(
    subject: Explanation | np.ndarray,
    *,
    box: Box | None = None,
    mask: np.ndarray | None = None,
    target: int = 0,
    image_size: tuple[int, int] | None = None,
) -> float:
    """Mean heat of the upsampled heatmap over the box or mask, in [0, 1]: 1.0 when all of
    the box is at full heat, whatever the heat outside it (0.0 for an empty mask).

    >>> heatmap = np.zeros((2, 2), dtype="float32"); heatmap[0, 0] = 1.0
    >>> round(mean_heat_in_box(heatmap, box=(0, 0, 0, 0), image_size=(2, 2)), 3)
    1.0
    """
    heat, region = _heat_and_region(subject, box, mask, target, image_size)
    return float(heat[region].mean()) if region.any() else 0.0


def _heat_and_region(
    subject: Explanation | np.ndarray,
    box: Box | None,
    mask: np.ndarray | None,
    target: int,
    image_size: tuple[int, int] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """The heatmap upsampled (bilinear, float64) to the image, and the region's mask."""
    heatmap, size = _heatmap_and_size(subject, target, image_size)
    region = region_mask(box, mask, size)
    return upsample_heatmap(heatmap, size, Image.BILINEAR).astype(np.float64), region
