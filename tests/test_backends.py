"""Every Keras backend gives the same answers (issue 10).

The reference run is TensorFlow's, in this process; the same saved models are explained in a
subprocess per other installed backend (JAX, PyTorch) and compared.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

import explainimg as ei
from explainimg.methods import methods_for
from tests import builders
from tests.backend_worker import explain_cases
from tests.reference import ONE_PER_ENGINE_PATH

ROOT = Path(__file__).resolve().parent.parent
RUNNING = keras.backend.backend()
OTHERS = [name for name in ("jax", "torch") if importlib.util.find_spec(name) is not None]
CHEAP = {
    "smoothgrad": {"samples": 4},
    "vargrad": {"samples": 4},
    "squaregrad": {"samples": 4},
    "integrated_gradients": {"steps": 5},
    "occlusion": {"patch_size": 16, "stride": 16},
    "rise": {"masks": 16, "batch_size": 8},
    "drise": {"masks": 16, "batch_size": 8},
}
# Integrated Gradients sums input gradients at points along a path. A ReLU whose input lies
# within float32 rounding of zero at one of them (3e-9 on "functional_skip" with 8 steps) has
# a gradient decided by rounding, which differs between backends' convolution kernels. In
# MobileNetV2 (1.6 million ReLU6 units per image) a few sit within 1e-6 of a kink at every
# path point, so its IG maps agree to about 2e-2 only; everywhere else the bound is 1e-4.
# Saliency and SmoothGrad are the same input gradient at one point (or a few): on a 2-core
# AVX-512 machine one image's gradient crossed a ReLU6 kink differently on TensorFlow than on
# JAX and PyTorch (which agree with each other to 2e-6), 4.5e-2 of its map; other CPUs agreed
# to 1e-4. Deconvnet, which ignores the kinks, agrees to 4e-6 on the same images.
# Occlusion and RISE maps are differences of probabilities divided by the largest one: on
# MobileNetV2, float32 probabilities that differ by 1e-6 between backends, over drops of about
# 1e-2, give 1e-4 (measured 1.3e-4 on PyTorch).
# LRP's epsilon rule divides by z + 1e-6 sign(z): on MobileNetV2 a few units have |z| within
# float32 rounding of 1e-6, where the backends' convolution kernels round differently (maps
# 3.4e-4 apart, attributions 3e-4 of their largest; Ablation-CAM, Shapley-CAM, FullGrad and
# DeepLIFT agree within 4e-5 on the same model). On "sequential", PyTorch's LRP map differs
# from TensorFlow's by 1.2e-4 at one pixel of 6144 (JAX's by 3.6e-7): the same effect at one
# unit.
KINKED = {
    "mobilenet_v2/integrated_gradients/maps": 3e-2,
    "mobilenet_v2/integrated_gradients/attributions": 3e-2,
    "mobilenet_v2/saliency/maps": 6e-2,
    "mobilenet_v2/smoothgrad/maps": 6e-2,
    "mobilenet_v2/occlusion/maps": 1e-3,
    "mobilenet_v2/rise/maps": 1e-3,
    "mobilenet_v2/lrp/maps": 1e-3,
    "mobilenet_v2/lrp/attributions": 1e-3,
    "sequential/lrp/maps": 1e-3,
    "sequential/lrp/attributions": 1e-3,
}
MODELS = {
    "sequential": builders.sequential_dense_softmax,
    "functional_skip": builders.functional_activation_softmax,
    "nested": builders.nested_functional,
    "binary": lambda: builders.with_head("sigmoid", 1),
    "mobilenet_v2": builders.small_mobilenet,
}


def _run_under(backend: str, *args: str, timeout: int = 1800) -> subprocess.CompletedProcess:
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# KerasHub models (issue 21: the catalogue on every model kind, the same maps on TensorFlow
# and JAX): a CNN gets the new engine paths, the ViT those that apply to tokens (LRP refuses
# attention by design, tests/test_model_kinds.py). Not Eigen-CAM on the ViT: an untrained
# ViT's layer-normalised tokens all have channel mean 0 and norm sqrt(c), so the sign rule
# reads rounding there, and the backends' maps came out flipped.
HUB = importlib.util.find_spec("keras_hub") is not None
HUB_METHODS = {
    "hub_resnet": ("eigencam", "ablationcam", "shapleycam", "fullgrad", "deeplift", "lrp"),
    "hub_vit": ("gradcam", "fullgrad", "deeplift"),
    "hub_retinanet": ("gradcam", "drise"),
    "hub_dfine": ("gradcam",),
}
"""A RetinaNet and a D-FINE (issue 19) explain their own two most confident detections:
Grad-CAM through the anchors' (queries') logits; D-RISE through detections decoded in the
compiled call (KerasHub's NMS run by each backend; occlusion, RISE and Score-CAM read them
the same way, and D-FINE's only differ in their boxes, so one case covers the path:
compiling more for every backend costs minutes of CI)."""
if HUB:
    from tests.detectors import tiny_dfine, tiny_retinanet
    from tests.hub_models import HUB_FAMILIES

    MODELS |= {"hub_resnet": HUB_FAMILIES["resnet"], "hub_vit": HUB_FAMILIES["vit"]}
    MODELS["hub_retinanet"] = tiny_retinanet
    MODELS["hub_dfine"] = tiny_dfine

EVERY_METHOD_ON = {"functional_skip"}
"""The model every method is compared on; the others get one method per engine path (each
method costs every backend a compilation per model, and the methods of one engine path differ
only in arithmetic on the same tensors)."""


def _methods(name: str) -> list[list]:
    if name in HUB_METHODS:
        return [[key, dict(CHEAP.get(key, {}))] for key in HUB_METHODS[name]]
    methods = []
    for key in methods_for("graph"):
        if name not in EVERY_METHOD_ON and key not in ONE_PER_ENGINE_PATH:
            continue
        options = dict(CHEAP.get(key, {}))
        if key in ("scorecam", "ablationcam") and name == "mobilenet_v2":
            options["max_channels"] = 16
        methods.append([key, options])
    if name == "functional_skip":
        methods += [["gradcam", {"smooth": "aug"}], ["hirescam", {"smooth": "eigen"}]]
    return methods


@pytest.fixture(scope="module")
def cases_file(tmp_path_factory) -> Path:
    if RUNNING != "tensorflow":
        pytest.skip("the cross-backend comparison starts from the TensorFlow run")
    folder = tmp_path_factory.mktemp("backends")
    cases = []
    for name, build in MODELS.items():
        model = build()
        size = model.inputs[0].shape[1]
        images = np.random.default_rng(11).uniform(0, 255, (3, size, size, 3))
        if name == "mobilenet_v2":
            images = images / 127.5 - 1.0
        if name in HUB_METHODS:
            images = images / 255.0
        model.save(folder / f"{name}.keras")
        np.save(folder / f"{name}.npy", images.astype(np.float32))
        targets = [[0, 1], [1, 0], [1, 1]] if name == "binary" else [[0, 2], [1, 3], [2, 0]]
        chosen = {"top": 2} if name in ("hub_retinanet", "hub_dfine") else {"targets": targets}
        cases.append(
            {
                "name": name,
                "model": str(folder / f"{name}.keras"),
                "images": str(folder / f"{name}.npy"),
                **chosen,
                "methods": _methods(name),
                "imports": ["keras_hub"] if name in HUB_METHODS else [],
            }
        )
    path = folder / "cases.json"
    path.write_text(json.dumps(cases), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def reference(cases_file) -> dict[str, np.ndarray]:
    """TensorFlow's answers, computed once for every other backend."""
    return explain_cases(json.loads(cases_file.read_text(encoding="utf-8")))


@pytest.mark.slow
@pytest.mark.parametrize("other", OTHERS)
def test_every_method_gives_the_same_answers_on_every_backend(
    cases_file, reference, other, tmp_path
):
    out = tmp_path / f"{other}.npz"
    run = _run_under(other, "-m", "tests.backend_worker", str(cases_file), str(out))
    assert run.returncode == 0, run.stderr[-3000:]
    results = np.load(out)
    assert str(results["backend"]) == other
    assert set(results.files) - {"backend"} == set(reference)
    for key, expected in reference.items():
        if key.endswith("/maps"):
            assert expected.max() > 0.99, f"{key}: a flat map proves nothing"
        tolerance = KINKED.get(key, 1e-4)
        if key.endswith("/attributions"):
            tolerance *= float(np.abs(expected).max())  # signed values, on their own scale
        np.testing.assert_allclose(results[key], expected, atol=tolerance, rtol=1e-5, err_msg=key)


def test_an_unsupported_backend_gets_a_clear_error():
    script = (
        "import keras, numpy as np, explainimg as ei\n"
        "model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 3),\n"
        "    keras.layers.Flatten(), keras.layers.Dense(2, activation='softmax')])\n"
        "try:\n"
        "    ei.explain_prediction(model, np.zeros((8, 8, 3), 'float32'))\n"
        "except ei.ExplanationError as error:\n"
        "    print(error)\n"
    )
    run = _run_under("numpy", "-c", script, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip() == (
        "explainimg runs on the Keras backends 'tensorflow', 'jax', 'torch'; this Keras runs "
        "on 'numpy'. Set KERAS_BACKEND to one of them before importing keras (for example "
        "KERAS_BACKEND=jax)."
    )


@pytest.mark.core
def test_a_stream_traces_once_whatever_its_last_batch(tmp_path):
    if RUNNING == "torch":
        pytest.skip("PyTorch runs eagerly: nothing is traced")
    model = builders.sequential_dense_softmax()
    explainer = ei.Explainer(model)
    images = np.stack([builders.image(seed=i) for i in range(10)])
    expls = list(explainer.explain_stream(images, batch_size=4, top=2))
    assert explainer.trace_count == 1
    alone = explainer.explain_batch(images[8:], top=2)
    for padded, single in zip(expls[8:], alone, strict=True):
        np.testing.assert_allclose(padded.targets[0].heatmap, single.targets[0].heatmap, atol=1e-6)
    assert [e.targets[0].target for e in expls[8:]] == [e.targets[0].target for e in alone]
