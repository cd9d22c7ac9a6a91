"""RISE (Petsiuk et al., 2018): the class probability averaged over random masks, per pixel.

Each of ``masks`` masks (default 100, so about 100 forward passes; the paper draws 4000 to
8000, and more masks give a smoother map) is a grid of cells of ``cell_size`` pixels (default
32: the paper's 7 x 7 grid on 224 x 224 images), each cell kept with ``probability``, upsampled
bilinearly (half-pixel centres) to one cell more than the image and shifted by a random offset
below one cell, as in the paper. The map is sum_i p(image * M_i) M_i / sum_i M_i, p the
target's probability (the model's softmax/sigmoid output, or a softmax of its scores when it
has none, as in the paper): the mean probability of the masked images weighted by how much each
keeps of the pixel. The paper divides by masks * probability, the expectation of sum_i M_i;
dividing by the sum itself (as xplique does) removes the random unevenness of the drawn masks'
coverage from the map. The map is divided by its max; it is at input resolution. The grids and
offsets come from NumPy's PCG64 generator seeded with ``seed``: a seed gives the same masks,
and maps, on every Keras backend. The masks are built inside the call from small interpolation
matrices; the full (masks, H, W) stack is held once per call.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs
import numpy as np
from keras import ops

from ..errors import bad_argument, bad_type
from .base import Context, Method, integer_at_least
from .perturbation import check_fits, multiplied, perturbed_confidences, target_column


def _check_probability(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise bad_type("probability", "a number between 0 and 1 (exclusive)", value)
    if not 0 < value < 1:
        raise bad_argument("probability", "a number between 0 and 1 (exclusive)", value)


def interpolation(size: int, cells: int, cell_size: int, shift: int) -> np.ndarray:
    """(size, cells + 1) bilinear weights: pixel y reads grid position (y + shift + 0.5) /
    cell_size - 0.5 of a grid of ``cells + 1`` values (clamped at the ends).

    >>> interpolation(4, 1, 2, 0).tolist()
    [[1.0, 0.0], [0.75, 0.25], [0.25, 0.75], [0.0, 1.0]]
    """
    position = np.clip((np.arange(size) + shift + 0.5) / cell_size - 0.5, 0, cells)
    low = np.minimum(np.floor(position).astype(int), cells - 1)
    weight = position - low
    matrix = np.zeros((size, cells + 1))
    matrix[np.arange(size), low] = 1 - weight
    matrix[np.arange(size), low + 1] += weight
    return matrix.astype(np.float32)


def rise_factors(
    seed: int, masks: int, cell_size: int, probability: float, image_size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows (N, H, g+1), grids (N, g+1, g'+1), columns (N, g'+1, W)): mask i is
    rows[i] @ grids[i] @ columns[i], the same for a seed on every backend.

    >>> rows, grids, columns = rise_factors(0, 3, 4, 0.5, (8, 8))
    >>> (rows @ grids @ columns).shape, float((rows @ grids @ columns).max()) <= 1.0
    ((3, 8, 8), True)
    """
    height, width = image_size
    cells = (-(-height // cell_size), -(-width // cell_size))
    generator = np.random.default_rng(seed)
    grids = generator.random((masks, cells[0] + 1, cells[1] + 1)) < probability
    shifts = generator.integers(0, cell_size, (masks, 2))
    rows = np.stack([interpolation(height, cells[0], cell_size, dy) for dy in shifts[:, 0]])
    columns = np.stack([interpolation(width, cells[1], cell_size, dx).T for dx in shifts[:, 1]])
    return rows, grids.astype(np.float32), columns


@attrs.frozen
class RISE(Method):
    """RISE: the class probability on randomly masked copies of the image, averaged per pixel
    over the masks weighted by how much of the pixel each keeps, divided by the maximum.

    >>> RISE(masks=500, cell_size=16).probability
    0.5
    """

    key: ClassVar[str] = "rise"
    title: ClassVar[str] = "RISE"
    needs_layer: ClassVar[bool] = False
    reads_confidences: ClassVar[bool] = True
    resolution: ClassVar[str] = "input"
    passes: ClassVar[str] = "one forward per mask, shared by all targets"

    masks: int = attrs.field(default=100, validator=integer_at_least("masks", 1))
    cell_size: int = attrs.field(default=32, validator=integer_at_least("cell_size", 1))
    probability: float = attrs.field(default=0.5, validator=_check_probability)
    seed: int = attrs.field(default=0, validator=integer_at_least("seed", 0))
    batch_size: int = attrs.field(default=32, validator=integer_at_least("batch_size", 1))

    def target_map(self, ctx: Context, k: int) -> Any:
        if "rise" not in ctx.memo:
            ctx.memo["rise"] = self._confidences_and_masks(ctx)
        confidences, masks = ctx.memo["rise"]
        height, width = (int(d) for d in masks.shape[1:])
        flat_masks = ops.reshape(masks, (self.masks, height * width))
        flat = ops.matmul(target_column(confidences, ctx, k), flat_masks)
        coverage = ops.sum(flat_masks, axis=0)
        return ops.reshape(ops.divide_no_nan(flat, coverage), (-1, height, width))

    def _confidences_and_masks(self, ctx: Context) -> tuple[Any, Any]:
        image_size = (int(ctx.images.shape[1]), int(ctx.images.shape[2]))
        check_fits("cell_size", self.cell_size, image_size)
        rows, grids, columns = (
            ops.convert_to_tensor(factor)
            for factor in rise_factors(
                self.seed, self.masks, self.cell_size, self.probability, image_size
            )
        )

        def masks_of(ids: Any) -> Any:
            picked = [ops.take(factor, ids, axis=0) for factor in (rows, grids, columns)]
            return ops.matmul(ops.matmul(picked[0], picked[1]), picked[2])

        confidences = perturbed_confidences(
            ctx,
            lambda flat: masks_of(flat % self.masks),
            self.masks,
            multiplied,
            self.batch_size,
        )
        return confidences, masks_of(ops.arange(self.masks, dtype="int32"))


@attrs.frozen
class DRISE(RISE):
    """D-RISE: RISE for an object detector (Petsiuk et al., 2021), each detection's map the
    similarity of the masked image's detections to it (IoU of the boxes times the cosine of
    the class-probability vectors, the best over the detections), averaged per pixel over the
    masks weighted by how much of the pixel each keeps, divided by the maximum.

    The masks are RISE's; the defaults are the paper's for detectors (1000 masks of 16-pixel
    cells, each kept with probability 0.5). The similarity is
    :class:`~explainimg.targets.DetectionSimilarity`, on the detections decoded inside the
    compiled call (docs/detection.md); for a detector explained through ``decode=``, its
    :class:`~explainimg.targets.BoxMatchScore`.

    >>> DRISE().masks, DRISE().cell_size, DRISE.model_kinds
    (1000, 16, ('detector', 'decoded'))
    """

    key: ClassVar[str] = "drise"
    title: ClassVar[str] = "D-RISE"
    model_kinds: ClassVar[tuple[str, ...]] = ("detector", "decoded")
    other_kinds_hint: ClassVar[str] = "For a classifier, use method='rise'."

    masks: int = attrs.field(default=1000, validator=integer_at_least("masks", 1))
    cell_size: int = attrs.field(default=16, validator=integer_at_least("cell_size", 1))
