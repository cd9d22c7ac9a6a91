"""Explanations made by hand (no model): known heatmaps on known images, for formatter tests."""

from __future__ import annotations

import numpy as np
from PIL import Image

from explainimg.demo.shapes import make_shapes
from explainimg.explanation import Explanation, TargetExplanation


def hot_spot(shape: tuple[int, int], row: int, col: int) -> np.ndarray:
    """A heatmap with 1.0 at (row, col), 0.6 to its right, zero elsewhere."""
    heatmap = np.zeros(shape, dtype=np.float32)
    heatmap[row, col] = 1.0
    if col + 1 < shape[1]:
        heatmap[row, col + 1] = 0.6
    return heatmap


def explanation(
    image: Image.Image | None = None,
    names: tuple[str | None, ...] = ("tabby", "lynx", None),
    estimator: str = "net",
) -> Explanation:
    image = image if image is not None else Image.new("RGB", (140, 70), (40, 80, 120))
    targets = [
        TargetExplanation(
            target=10 * i + 1,
            target_name=name,
            score=5.0 - i,
            proba=0.7 / (i + 1),
            heatmap=hot_spot((7, 7), row=i, col=2 * i),
        )
        for i, name in enumerate(names)
    ]
    return Explanation(
        estimator=estimator,
        method="Grad-CAM",
        description="Grad-CAM test explanation.",
        targets=targets,
        image=image,
        layer="block/conv",
    )


def many(count: int, size: int = 224, seed: int = 0) -> list[Explanation]:
    """``count`` explanations of generated shape photos, heat on the shape's cell."""
    data = make_shapes(count, size=size, seed=seed)
    result = []
    for image, (top, left, bottom, right) in zip(data.images, data.boxes, strict=True):
        row, col = (top + bottom) * 7 // (2 * size), (left + right) * 7 // (2 * size)
        target = TargetExplanation(1, "disc", 3.0, 0.9, hot_spot((7, 7), row, col))
        result.append(
            Explanation(
                estimator="shapes",
                method="Grad-CAM",
                description="",
                targets=[target],
                image=Image.fromarray(image.astype(np.uint8)),
                layer="conv",
            )
        )
    return result
