"""ROAD, RemOve And Debias (Rong et al. 2022): deletion whose removed pixels are filled by
noisy linear imputation, so that the model cannot read the shape of the removed region.

A removed pixel takes the value that makes it the weighted mean of its 8 neighbours (weight
1/6 for the 4 sharing an edge, 1/12 for the diagonal ones, those inside the image), known
pixels held fixed: one sparse linear system per fraction, built with NumPy and solved by
SciPy's sparse LU (as the paper's code does; the ``[metrics]`` extra), all channels at once.
Gaussian noise of std ``noise`` is then added to the imputed pixels (the paper's 0.01 on
standardised images; here 1% of the image's value range by default, in the model input's
units). The ranking of pixels is deletion's (the heat upsampled bilinearly, ties broken by a
seeded shuffle). ``order="morf"`` removes the most relevant pixels first (a faithful map
makes the confidence fall fast: lower AUC is better), ``"lerf"`` the least relevant first
(the confidence should hold: higher is better).

>>> image = np.zeros((3, 3, 1)); image[0, 0] = 1.0
>>> removed = np.zeros((3, 3), bool); removed[1, 1] = True
>>> float(round(impute(image, removed, noise=0.0)[1, 1, 0], 6))  # 1/12 of the corner's 1
0.083333
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from ..errors import bad_argument
from ..explanation import Explanation
from ..inputs.arguments import checked_positive_int, one_image
from .curves import Curve, auc, confidence_reader, explained_class, ranking

NEIGHBOURS = (
    ((-1, 0), 1 / 6),
    ((1, 0), 1 / 6),
    ((0, -1), 1 / 6),
    ((0, 1), 1 / 6),
    ((-1, -1), 1 / 12),
    ((-1, 1), 1 / 12),
    ((1, -1), 1 / 12),
    ((1, 1), 1 / 12),
)
"""The paper's neighbour weights: (row, column) offset, weight."""

FRACTIONS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
ORDERS = ("morf", "lerf")


SCIPY_FIX = 'pip install "explainimg[metrics]"'


def _sparse_solver():  # -> scipy.sparse, scipy.sparse.linalg
    if importlib.util.find_spec("scipy") is None:
        raise ImportError(
            f"road: the imputation solves a sparse linear system with SciPy, which is not "
            f"installed: {SCIPY_FIX} (or pip install scipy)"
        )
    import scipy.sparse
    import scipy.sparse.linalg

    return scipy.sparse, scipy.sparse.linalg


def _imputed(image: np.ndarray, removed: np.ndarray) -> np.ndarray:
    """The values of the removed pixels of one (H, W, C) ``image`` ((n, C), in row-major
    order of ``removed``): each the weighted mean of its neighbours inside the image, the
    known ones fixed. One sparse LU factorisation serves every channel."""
    sparse, linalg = _sparse_solver()
    height, width, channels = image.shape
    rows, cols = np.nonzero(removed)
    number = -np.ones((height, width), np.int64)
    number[rows, cols] = np.arange(rows.size)
    diagonal = np.zeros(rows.size)
    rhs = np.zeros((rows.size, channels))
    entries: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for (dy, dx), weight in NEIGHBOURS:
        y, x = rows + dy, cols + dx
        inside = np.flatnonzero((y >= 0) & (y < height) & (x >= 0) & (x < width))
        diagonal[inside] += weight
        neighbour = number[y[inside], x[inside]]
        unknown = neighbour >= 0
        entries.append((inside[unknown], neighbour[unknown], np.full(unknown.sum(), -weight)))
        known = inside[~unknown]
        rhs[known] += weight * image[y[known], x[known]]
    own = np.arange(rows.size)
    at_rows = np.concatenate([own, *(entry[0] for entry in entries)])
    at_cols = np.concatenate([own, *(entry[1] for entry in entries)])
    values = np.concatenate([diagonal, *(entry[2] for entry in entries)])
    system = sparse.csc_matrix((values, (at_rows, at_cols)), shape=(rows.size, rows.size))
    return linalg.splu(system).solve(rhs)


def impute(images: np.ndarray, removed: np.ndarray, *, noise: float, seed: int = 0) -> np.ndarray:
    """``images`` ((H, W, C), or (F, H, W, C) with ``removed`` (F, H, W)) with the pixels
    where ``removed`` is True filled by noisy linear imputation (float64)."""
    single = images.ndim == 3
    stack = np.asarray(images, np.float64)[None] if single else np.asarray(images, np.float64)
    masks = np.asarray(removed, bool)[None] if single else np.asarray(removed, bool)
    generator = np.random.default_rng(seed)
    filled = stack.copy()
    for image, mask, out in zip(stack, masks, filled, strict=True):
        if mask.any():
            values = _imputed(image, mask)
            out[mask] = values + noise * generator.normal(0.0, 1.0, values.shape)
    return filled[0] if single else filled


def road(
    model: keras.Model,
    x: Any,
    expl: Explanation,
    *,
    target: int = 0,
    order: str = "morf",
    fractions: Sequence[float] = FRACTIONS,
    noise: float | None = None,
    batch_size: int = 32,
    seed: int = 0,
) -> Curve:
    """The ROAD curve of ``expl.targets[target]`` on input ``x``: the class's confidence
    after removing each fraction of pixels (most relevant first for ``order="morf"``, least
    for ``"lerf"``) and imputing them; ``auc`` is the trapezoid area over ``fractions``."""
    if order not in ORDERS:
        raise bad_argument("order", "'morf' or 'lerf'", order)
    steps = _checked_fractions(fractions)
    batch_size = checked_positive_int(batch_size, "batch_size")
    explainer = confidence_reader(model)
    class_id = explained_class(explainer, expl, target)
    image = one_image(x, tuple(model.inputs[0].shape))[0][0]
    height, width = image.shape[:2]
    if noise is None:
        noise = float(image.max() - image.min()) / 100
    is_number = isinstance(noise, (int, float)) and not isinstance(noise, bool)
    if not is_number or not 0 <= noise < float("inf"):
        raise bad_argument("noise", "a number >= 0 (the imputation noise's std)", noise)
    order_of_pixels = ranking(expl.targets[target].heatmap, height, width, seed)
    if order == "lerf":
        order_of_pixels = order_of_pixels[::-1]
    counts = np.rint(steps * height * width).astype(int)
    removed = np.zeros((len(counts), height * width), bool)
    for row, count in enumerate(counts):
        removed[row, order_of_pixels[:count]] = True
    images = impute(
        np.broadcast_to(image, (len(counts), *image.shape)),
        removed.reshape(-1, height, width),
        noise=noise,
        seed=seed,
    )
    values = explainer.confidences(images.astype(image.dtype), batch_size=batch_size)[:, class_id]
    return Curve(kind=f"road-{order}", fractions=steps, values=values, auc=auc(steps, values))


def _checked_fractions(fractions: Any) -> np.ndarray:
    expected = "at least 2 increasing fractions strictly between 0 and 1"
    try:
        steps = np.asarray(fractions, dtype=np.float64)
    except (TypeError, ValueError):
        raise bad_argument("fractions", expected, fractions) from None
    if (
        steps.ndim != 1
        or steps.size < 2
        or not np.all((steps > 0) & (steps < 1))
        or not np.all(np.diff(steps) > 0)
    ):
        raise bad_argument("fractions", expected, fractions)
    return steps
