"""Faithfulness on a trained detector: explainimg's explanations of a small KerasHub
RetinaNet trained on generated shape scenes (``tests/data/shapes_detector.keras``, made by
``tests/data/make_shapes_detector.py``: 64 x 64 images, pyramid level P3 alone, so 8 x 8
maps for the CAMs, at ``retina_net_backbone/backbone/stack1_block1_out``) point at the shapes
it detects.

On held-out scenes (``make_scenes(seed=SEED)``: a seed the training never drew; 20 scenes, 39
shapes, for the CAMs; the first 10, 17 shapes, for the perturbation methods, which cost about
100 to 200 forward passes an image), each *correct* detection (IoU >= 0.5 with a shape of its
class; the detector finds all of them) is checked for: (a) the hottest heatmap cell
(:func:`~explainimg.formatters.summary.summarize`) meets the detection's box: at input
resolution, the hottest pixel lies in it; on an 8 x 8 map, the hottest 8 x 8 cell overlaps it
(column "centre": the stricter check that the cell's centre lies inside the box); (b) the
mean heat a pixel inside the box exceeds the mean outside (from the share of the heat inside,
:func:`~explainimg.formatters.summary.box_share`). Shares of the correct detections measured
on the TensorFlow backend (each test asserts a bound somewhat below):

============  ======  ==========  ============  ===================================
method        count   (a) peak    (b) in > out  (a) "centre"
============  ======  ==========  ============  ===================================
gradcam       39      0.744       0.923         0.590
gradcam++     39      0.000       0.000         0.000  (fails, xfail)
layercam      39      1.000       1.000         0.692
eigencam      39      0.000       0.000         0.000  (fails, xfail)
drise         17      1.000       1.000         1.000  (``DRISE(masks=200)``)
occlusion     17      0.941       1.000         0.824
rise          17      0.941       1.000         0.824
============  ======  ==========  ============  ===================================

- Grad-CAM weighs each channel by its gradient averaged over the map, so the map lights
  every shape of the detection's class, not the detected one: most of its misses are in
  scenes with a second shape of that class, whose cell comes out hotter; two maps are empty
  (every cell negative before the ReLU). LayerCAM weighs each cell by its own gradient.
- Grad-CAM++ and Eigen-CAM put their heat on the image's border (the left column and top
  row of the 8 x 8 map), not on the shapes: some channels of this layer fire on the
  zero-padded edge (the detector takes pixels in 0..255 on noise of 0..70), and Eigen-CAM's
  first component (the same map for every detection) and Grad-CAM++'s weights (about
  1 / the channel's total activation, for an exponential score) favour them. They are kept
  as ``xfail`` tests, so that a change for the better shows as XPASS.
- The 8 x 8 CAM cells are 8 pixels wide, the boxes 13 to 21: a shape's hottest cell often
  overlaps its box with the centre just outside, hence check (a) at the map's resolution.
- RISE's default cells are 32 pixels (2 x 2 on these images), D-RISE's 16.

The detector finds all 39 shapes of the 20 scenes (IoU >= 0.5, right class; precision 0.975)
and all 108 of the script's 50 held-out scenes.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("keras_hub")

import keras

import explainimg as ei
from explainimg.demo.shapes import ShapeScenes, make_scenes
from explainimg.formatters.summary import box_share, summarize

pytestmark = pytest.mark.slow

DATA = Path(__file__).parent / "data"
MODEL = DATA / "shapes_detector.keras"
SCRIPT = DATA / "make_shapes_detector.py"
SEED = 2024  # the training draws seeds 1_000_000 and up; the script's held-out scenes 7
SCENES = 20
PERTURBED_SCENES = 10

_spec = importlib.util.spec_from_file_location("make_shapes_detector", SCRIPT)
script = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(script)

FAILS = "puts its heat on the image's border, not on the shapes (see the module docstring)"
# name: (method, scenes explained, bounds on the shares passing (a) and (b))
METHODS = {
    "gradcam": ("gradcam", SCENES, (0.6, 0.8)),
    "gradcam++": ("gradcam++", SCENES, (0.5, 0.5)),
    "layercam": ("layercam", SCENES, (0.9, 0.9)),
    "eigencam": ("eigencam", SCENES, (0.5, 0.5)),
    "drise": (ei.methods.DRISE(masks=200), PERTURBED_SCENES, (0.85, 0.85)),
    "occlusion": ("occlusion", PERTURBED_SCENES, (0.8, 0.85)),
    "rise": ("rise", PERTURBED_SCENES, (0.65, 0.85)),
}
FAILING = {"gradcam++", "eigencam"}


@pytest.fixture(scope="module")
def detector() -> keras.Model:
    import keras_hub  # noqa: F401  (registers KerasHub's classes for load_model)

    return keras.saving.load_model(MODEL, compile=False)


@pytest.fixture(scope="module")
def scenes() -> ShapeScenes:
    return make_scenes(SCENES, seed=SEED)


def first(scenes: ShapeScenes, count: int) -> ShapeScenes:
    return ShapeScenes(
        images=scenes.images[:count],
        boxes=scenes.boxes[:count],
        labels=scenes.labels[:count],
        counts=scenes.counts[:count],
    )


def is_correct(target, truth: np.ndarray, labels: np.ndarray) -> bool:
    """Whether a detection has IoU >= 0.5 with a shape of its class."""
    return bool(((script.iou(target.box, truth) >= 0.5) & (labels == target.target)).any())


def peak_centre_inside(heatmap: np.ndarray, box, size: tuple[int, int]) -> bool:
    """Whether the centre of the hottest heatmap cell lies inside ``box``."""
    peak = summarize(heatmap, size)
    x0, y0, x1, y1 = box
    return x0 <= peak.peak_x < x1 and y0 <= peak.peak_y < y1


def peak_inside(heatmap: np.ndarray, box, size: tuple[int, int]) -> bool:
    """Whether the hottest heatmap cell meets ``box`` (a cell of a map at input resolution
    is one pixel; one of an 8 x 8 map of a 64-pixel image covers 8 x 8 pixels)."""
    peak = summarize(heatmap, size)
    half_x, half_y = size[0] / heatmap.shape[1] / 2, size[1] / heatmap.shape[0] / 2
    x0, y0, x1, y1 = box
    return (
        peak.peak_x - half_x < x1
        and peak.peak_x + half_x > x0
        and peak.peak_y - half_y < y1
        and peak.peak_y + half_y > y0
    )


def hotter_inside(heatmap: np.ndarray, box, size: tuple[int, int]) -> bool:
    """Whether the mean heat per pixel inside ``box`` (clipped to the image) exceeds the
    mean heat outside it."""
    width, height = size
    x0, y0, x1, y1 = np.clip(box, 0, [width, height, width, height])
    area = (x1 - x0) * (y1 - y0)
    share = box_share(heatmap, size, (x0, y0, x1, y1))
    return share / area > (1 - share) / (width * height - area)


def shares(detector, scenes, method) -> dict[str, float]:
    """The shares of the correct detections whose heatmap passes each check, and their
    count (``"count"``)."""
    size = scenes.images.shape[2], scenes.images.shape[1]
    expls = ei.Explainer(detector, method=method).explain_batch(scenes.images)
    checks = {"centre": peak_centre_inside, "peak": peak_inside, "hotter": hotter_inside}
    passed = {name: [] for name in checks}
    for i, expl in enumerate(expls):
        truth, labels = scenes.scene(i)
        for target in expl.targets:
            if is_correct(target, truth, labels):
                for name, check in checks.items():
                    passed[name].append(check(target.heatmap, target.box, size))
    return {"count": len(passed["peak"])} | {k: float(np.mean(v)) for k, v in passed.items()}


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=pytest.mark.xfail(reason=FAILS)) if name in FAILING else name
        for name in METHODS
    ],
)
def test_heat_lies_on_the_detected_shape(detector, scenes, name):
    method, count, bounds = METHODS[name]
    explained = first(scenes, count)
    measured = shares(detector, explained, method)
    print(name, measured)
    assert measured["count"] >= 0.9 * explained.counts.sum()  # the shapes are found
    assert measured["peak"] >= bounds[0]
    assert measured["hotter"] >= bounds[1]


def test_the_detector_finds_the_shapes(detector, scenes):
    recall, precision = script.quality(detector, scenes)
    print(f"recall {recall:.3f}, precision {precision:.3f}")
    assert recall >= 0.9
    assert precision >= 0.8


def test_the_training_script_still_runs():
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).parent.parent,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "held-out scenes" in done.stdout
