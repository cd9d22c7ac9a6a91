"""Where the heat is, as numbers every formatter reports the same way (NumPy only).

- peak: the centre of the hottest heatmap cell, in image pixels (x to the right, y down);
- hot share: the share of heatmap cells at or above half heat (each cell covers an equal
  part of the image, so this is the share of the image area).

>>> import numpy as np
>>> heatmap = np.zeros((4, 4), dtype="float32"); heatmap[1, 2] = 1.0; heatmap[1, 3] = 0.6
>>> summarize(heatmap, image_size=(64, 32))
HeatSummary(peak_x=40.0, peak_y=12.0, hot_share=0.125)
>>> format_proba(0.98123), format_score(-3.14159), format_share(0.125)
('0.981', '-3.142', '12.5%')
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import numpy as np

from ..errors import bad_argument, bad_type
from ..explanation import Explanation, TargetExplanation
from ..heatmaps import peak_location

HOT = 0.5
MISSING = "-"


@attrs.frozen
class HeatSummary:
    peak_x: float
    peak_y: float
    hot_share: float


def summarize(heatmap: np.ndarray, image_size: tuple[int, int]) -> HeatSummary:
    """Peak position (pixels of an image of ``image_size`` = (width, height)) and hot share."""
    y, x = peak_location(heatmap, image_size)
    return HeatSummary(peak_x=x, peak_y=y, hot_share=float(np.mean(heatmap >= HOT)))


def box_share(
    heatmap: np.ndarray, image_size: tuple[int, int], box: tuple[float, float, float, float]
) -> float:
    """The share of the heat that lies inside ``box`` (x0, y0, x1, y1, pixels of an image of
    ``image_size`` = (width, height)): each heatmap cell covers an equal rectangle of the
    image and counts with the part of it inside the box; 0.0 for a map without heat.

    >>> box_share(np.array([[1.0, 0.0], [0.0, 1.0]]), (20, 20), (0, 0, 10, 15))
    0.5
    """
    rows, cols = heatmap.shape
    width, height = image_size

    def covered(low: float, high: float, cells: int, size: int) -> np.ndarray:
        edges = np.arange(cells + 1) * (size / cells)
        inside = np.minimum(edges[1:], high) - np.maximum(edges[:-1], low)
        return np.clip(inside, 0.0, None) / (size / cells)

    x0, y0, x1, y1 = box
    weights = np.outer(covered(y0, y1, rows, height), covered(x0, x1, cols, width))
    total = float(np.sum(heatmap, dtype=np.float64))
    return float(np.sum(heatmap * weights, dtype=np.float64) / total) if total > 0 else 0.0


def target_label(target: TargetExplanation) -> str:
    """ "class id name, p=probability", the parts that are known.

    >>> target_label(TargetExplanation(281, "tabby", 3.2, 0.25, np.ones((2, 2))))
    '281 tabby, p=0.250'
    """
    label = str(target.target)
    if target.target_name is not None:
        label += f" {target.target_name}"
    if target.proba is not None:
        label += f", p={target.proba:.3f}"
    return label


def format_score(score: float) -> str:
    return f"{score:.4g}"


def format_proba(proba: float | None) -> str:
    return MISSING if proba is None else f"{proba:.3f}"


def format_share(share: float) -> str:
    return f"{share * 100:.1f}%"


def format_peak(summary: HeatSummary) -> str:
    return f"({summary.peak_x:.0f}, {summary.peak_y:.0f})"


def target_positions(targets: Sequence[int] | None, expl: Explanation) -> list[int]:
    """Positions in ``expl.targets`` to show: all for None, else the validated list."""
    count = len(expl.targets)
    if targets is None:
        return list(range(count))
    if isinstance(targets, (str, bytes)) or not isinstance(targets, Sequence):
        raise bad_type("targets", "a list of positions in expl.targets", targets)
    for position in targets:
        if isinstance(position, bool) or not isinstance(position, (int, np.integer)):
            raise bad_argument("targets", "integer positions in expl.targets", targets)
        if not 0 <= position < count:
            raise bad_argument(
                "targets", f"positions in expl.targets between 0 and {count - 1}", int(position)
            )
    return [int(position) for position in targets]
