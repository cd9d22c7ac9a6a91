"""Generated images with a planted shortcut: a coloured corner mark decides the class.

The object (a square, disc or triangle from :mod:`explainimg.demo.shapes`) is random in the training
images, so a model trained on them can only use the mark. In the audit images the object is the
true class and the mark usually agrees; where it does not, the model follows the mark.
"""

from __future__ import annotations

import functools

import attrs
import keras
import numpy as np

from explainimg.demo.shapes import CLASS_NAMES, make_shapes
from explainimg.demo.toy import build_shapes_model

SIZE = 32
MARK = 6  # the mark covers rows and columns 0..MARK-1
COLOURS = np.array([(255, 0, 0), (0, 255, 0), (0, 0, 255)], dtype=np.float32)


@attrs.frozen(eq=False)
class Shortcut:
    """Images (N, SIZE, SIZE, 3), true labels, the class the mark stands for, object boxes
    (top, left, bottom, right)."""

    images: np.ndarray
    labels: np.ndarray
    marks: np.ndarray
    boxes: np.ndarray


def shortcut_images(count: int, *, seed: int, disagree: float = 0.0) -> Shortcut:
    """``count`` images whose objects stay clear of the mark; a ``disagree`` share of them
    carry the mark of another class than their object."""
    data = make_shapes(count * 2, size=SIZE, seed=seed)
    clear = np.flatnonzero((data.boxes[:, 0] > MARK + 1) | (data.boxes[:, 1] > MARK + 1))[:count]
    rng = np.random.default_rng(seed)
    labels = data.labels[clear]
    marks = labels.copy()
    flipped = rng.random(len(clear)) < disagree
    marks[flipped] = (labels[flipped] + rng.integers(1, 3, flipped.sum())) % 3
    images = data.images[clear].copy()
    images[:, :MARK, :MARK] = COLOURS[marks][:, None, None, :]
    return Shortcut(images=images, labels=labels, marks=marks, boxes=data.boxes[clear])


@functools.lru_cache(maxsize=1)
def shortcut_model() -> keras.Model:
    """The toy shapes CNN trained on images whose object is random and whose mark is the
    class (a few seconds)."""
    keras.utils.set_random_seed(0)
    data = shortcut_images(800, seed=1)
    labels = np.random.default_rng(2).integers(0, 3, len(data.labels))
    images = data.images.copy()
    images[:, :MARK, :MARK] = COLOURS[labels][:, None, None, :]
    # A quarter carry no mark (and random labels): no class may win by default, so each
    # class needs its own mark as positive evidence.
    unmarked = np.arange(len(labels)) % 4 == 0
    images[unmarked] = shortcut_images(int(unmarked.sum()), seed=3).images
    images[unmarked, :MARK, :MARK] = np.random.default_rng(4).uniform(0, 70, (MARK, MARK, 3))
    model = build_shapes_model(SIZE)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy")
    model.fit(images, labels, epochs=6, batch_size=32, verbose=0)
    return model


__all__ = ["CLASS_NAMES", "Shortcut", "shortcut_images", "shortcut_model"]
