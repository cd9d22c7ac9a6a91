"""Matplotlib figures: the image beside its overlays, titled, with a colour bar.

Figures are made with ``matplotlib.figure.Figure`` directly (not pyplot), so nothing is shown
or kept in pyplot's list of open figures; Jupyter displays the returned figure.

>>> import numpy as np
>>> from PIL import Image
>>> from explainimg.explanation import Explanation, TargetExplanation
>>> expl = Explanation(estimator="net", method="Grad-CAM", description="",
...     image=Image.new("RGB", (32, 32)),
...     targets=[TargetExplanation(1, "cat", 2.0, 0.5, np.ones((4, 4), "float32"))])
>>> figure = plot_explanation(expl)
>>> [axes.get_title() for axes in figure.axes]
['input', '1 cat, p=0.500', '']
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import matplotlib
import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from PIL import Image

from ..errors import bad_argument, bad_type
from ..explanation import Explanation, checked_explanation
from .image import Clip, format_as_image
from .summary import target_label, target_positions

COLORBAR_LABEL = "heat (share of the map's maximum)"


class ExplanationFigure(Figure):
    """A matplotlib Figure that shows itself in Jupyter as a PNG, with or without
    ``%matplotlib inline``."""

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png")
        return buffer.getvalue()


def plot_explanation(
    expl: Explanation,
    *,
    targets: Sequence[int] | None = None,
    alpha_limit: float = 0.65,
    colormap: str = "viridis",
    resampling_filter: int = Image.LANCZOS,
    columns: int = 4,
    panel_size: float = 3.0,
    clip: Clip = "auto",
) -> Figure:
    """A figure with the input image, then one overlay per target titled "class name, p",
    in a grid of ``columns`` panels, and one colour bar for the heat scale.

    ``targets``: positions in ``expl.targets`` to draw (default all). The figure shows itself
    in Jupyter (it has a PNG representation); ``figure.savefig(path)`` writes it to a file.
    ``clip`` as in :func:`~explainimg.formatters.image.format_as_image`.
    """
    expl = checked_explanation(expl, needs_image=True)
    if not isinstance(colormap, str):
        raise bad_type("colormap", "a matplotlib colormap name", colormap)
    if isinstance(columns, bool) or not isinstance(columns, int) or columns < 1:
        raise bad_argument("columns", "a positive integer", columns)
    positions = target_positions(targets, expl)
    panels = 1 + len(positions)
    cols = min(columns, panels)
    rows = math.ceil(panels / cols)
    size = (panel_size * cols + 1.0, panel_size * rows)
    figure = ExplanationFigure(figsize=size, layout="constrained")
    grid = figure.subplots(rows, cols, squeeze=False)
    axes = list(grid.ravel())
    axes[0].imshow(np.asarray(expl.image))
    axes[0].set_title("input")
    for ax, position in zip(axes[1:], positions, strict=False):
        target = expl.targets[position]
        drawn = format_as_image(expl, position, alpha_limit, colormap, resampling_filter, clip)
        ax.imshow(np.asarray(drawn))
        ax.set_title(target_label(target), parse_math=False)  # a "$" in a class name is text
    for ax in axes:
        ax.set_axis_off()
    for ax in axes[panels:]:
        figure.delaxes(ax)
    scale = ScalarMappable(norm=Normalize(0.0, 1.0), cmap=matplotlib.colormaps[colormap])
    figure.colorbar(scale, ax=axes[:panels], label=COLORBAR_LABEL, shrink=0.8)
    if expl.image.mode == "L":
        axes[0].images[0].set_cmap("gray")
    return figure


def plot_comparison(
    expls: Sequence[Explanation],
    *,
    alpha_limit: float = 0.65,
    colormap: str = "viridis",
    resampling_filter: int = Image.LANCZOS,
    panel_size: float = 2.5,
    clip: Clip = "auto",
) -> Figure:
    """A grid of overlays: one column per explanation (titled by its method), one row per
    target, the input image in the first column. The explanations must be of one image and
    one list of targets, as :func:`explainimg.compare_methods` makes them.

    >>> from PIL import Image
    >>> from explainimg.explanation import Explanation, TargetExplanation
    >>> def of(method):
    ...     return Explanation(estimator="net", method=method, description="",
    ...         image=Image.new("RGB", (16, 16)), targets=[
    ...             TargetExplanation(1, "cat", 2.0, 0.5, np.ones((4, 4), "float32")),
    ...             TargetExplanation(2, "dog", 1.0, 0.2, np.eye(4, dtype="float32"))])
    >>> figure = plot_comparison([of("Grad-CAM"), of("LayerCAM")])
    >>> [axes.get_title() for axes in figure.axes[:3]]
    ['input', 'Grad-CAM', 'LayerCAM']
    """
    if isinstance(expls, Explanation) or not isinstance(expls, Sequence) or not expls:
        raise bad_type("expls", "a non-empty list of Explanations of one image", expls)
    expls = [checked_explanation(expl, needs_image=True) for expl in expls]
    classes = [target.target for target in expls[0].targets]
    for i, expl in enumerate(expls[1:], start=1):
        if [target.target for target in expl.targets] != classes:
            raise bad_argument(
                f"expls[{i}]",
                f"an explanation of the classes of expls[0], {classes}",
                [target.target for target in expl.targets],
            )
    if not isinstance(colormap, str):
        raise bad_type("colormap", "a matplotlib colormap name", colormap)
    rows, cols = max(1, len(classes)), 1 + len(expls)
    figure = ExplanationFigure(
        figsize=(panel_size * cols + 1.0, panel_size * rows), layout="constrained"
    )
    grid = figure.subplots(rows, cols, squeeze=False)
    for row in range(rows):
        grid[row, 0].imshow(np.asarray(expls[0].image))
        label = target_label(expls[0].targets[row]) if classes else "no target"
        grid[row, 0].set_title("input" if row == 0 else "", parse_math=False)
        grid[row, 0].set_ylabel(label)
        for col, expl in enumerate(expls, start=1):
            drawn = format_as_image(expl, row, alpha_limit, colormap, resampling_filter, clip)
            grid[row, col].imshow(np.asarray(drawn))
            grid[row, col].set_title(expl.method if row == 0 else "", parse_math=False)
    for ax in grid.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
    scale = ScalarMappable(norm=Normalize(0.0, 1.0), cmap=matplotlib.colormaps[colormap])
    figure.colorbar(scale, ax=list(grid.ravel()), label=COLORBAR_LABEL, shrink=0.8)
    return figure
