"""A plain-text summary of an explanation, with a character picture of where the heat is.

>>> import numpy as np
>>> from PIL import Image
>>> from explainimg.explanation import Explanation, TargetExplanation
>>> heatmap = np.zeros((2, 4), dtype="float32"); heatmap[0, 3] = 1.0
>>> expl = Explanation(estimator="net", method="Grad-CAM", description="", layer="conv",
...     image=Image.new("RGB", (80, 40)),
...     targets=[TargetExplanation(7, "cat", 2.5, 0.9, heatmap)])
>>> print(format_as_text(expl))
Explanation of model 'net' by Grad-CAM at layer 'conv' (2x4 map), image 80x40
<BLANKLINE>
#1 class 7 'cat': score 2.5, probability 0.900
   heat peaks at x=70, y=10 (image pixels); 12.5% of the image is at or above half heat
   +--------+
   |      ##|
   |        |
   +--------+
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from ..explanation import Explanation, TargetExplanation, checked_explanation
from .summary import box_share, format_proba, format_score, format_share, summarize

# From cold to hot; each heatmap cell is drawn two characters wide so it looks square.
SHADES = " .:-=+*#"
MAX_COLUMNS = 32
MAX_ROWS = 24


def heat_grid(heatmap: np.ndarray) -> list[str]:
    """The heatmap as rows of shade characters in a frame, at most 32x24 cells (averaged)."""
    rows, cols = heatmap.shape
    scale = max(1.0, cols / MAX_COLUMNS, rows / MAX_ROWS)
    if scale > 1.0:
        size = (max(1, round(cols / scale)), max(1, round(rows / scale)))
        heatmap = np.asarray(
            Image.fromarray(heatmap.astype(np.float32)).resize(size, Image.BOX), dtype=np.float32
        )
    levels = np.clip((heatmap * len(SHADES)).astype(int), 0, len(SHADES) - 1)
    border = "+" + "-" * (2 * heatmap.shape[1]) + "+"
    lines = ["|" + "".join(SHADES[level] * 2 for level in row) + "|" for row in levels]
    return [border, *lines, border]


def _box_line(target: TargetExplanation, image_size: tuple[int, int]) -> list[str]:
    """For a detection: its box and the share of its heat inside it (none for a class)."""
    if target.box is None:
        return []
    corners = ", ".join(f"{v:.1f}" for v in target.box)
    line = f"   box ({corners}) (x0, y0, x1, y1, image pixels)"
    if image_size != (0, 0):
        share = box_share(target.heatmap, image_size, target.box)
        line += f"; {format_share(share)} of the heat is inside it"
    return [line]


def _target_lines(
    position: int, target: TargetExplanation, image_size: tuple[int, int]
) -> tuple[list[str], list[str]]:
    """The lines about ``target`` and those of its character picture."""
    name = f" {target.target_name!r}" if target.target_name is not None else ""
    heading = f"#{position + 1} class {target.target}{name}: score {format_score(target.score)}"
    if target.proba is not None:
        word = "probability" if target.box is None else "confidence"
        heading += f", {word} {format_proba(target.proba)}"
    heading_lines = [heading, *_box_line(target, image_size)]
    if not target.heatmap.any():
        return [*heading_lines, "   no heat: nothing at this layer speaks for this class"], []
    summary = summarize(target.heatmap, image_size)
    where = (
        f"   heat peaks at x={summary.peak_x:.0f}, y={summary.peak_y:.0f} (image pixels); "
        f"{format_share(summary.hot_share)} of the image is at or above half heat"
    )
    return [*heading_lines, where], ["   " + line for line in heat_grid(target.heatmap)]


def format_as_text(expl: Explanation, *, grid: bool = True) -> str:
    """Model, method, layer, then per target: class, name, score, probability, where the heat
    peaks in image pixels, the share of the image at or above half heat, and (``grid=True``) a
    character picture of the heatmap (hotter is denser: ``SHADES``). A detection's target
    (one with a ``box``) is named by its name (its class is there), says "confidence" for its
    probability and adds a line with its box and the share of its heat inside it
    (:func:`~explainimg.formatters.summary.box_share`)."""
    expl = checked_explanation(expl)
    map_size = "x".join(map(str, expl.targets[0].heatmap.shape)) if expl.targets else "no"
    image_size = expl.image.size if expl.image is not None else (0, 0)
    header = f"Explanation of model {expl.estimator!r} by {expl.method}"
    if expl.layer is not None:
        header += f" at layer {expl.layer!r} ({map_size} map)"
    if expl.image is not None:
        header += f", image {image_size[0]}x{image_size[1]}"
    lines = [header]
    if expl.error:
        lines += ["", f"error: {expl.error}"]
    for position, target in enumerate(expl.targets):
        about, picture = _target_lines(position, target, image_size)
        lines += ["", *about, *(picture if grid else [])]
    return "\n".join(lines)
