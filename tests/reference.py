"""An independent, straightforward Grad-CAM (seed 003's steps) to check the library against.

1. forward pass to the feature map A, then through the head to the pre-softmax score y^c;
2. gradients d y^c / d A with a GradientTape;
3. channel weights alpha_k = mean over the map of the gradients;
4. map = ReLU(sum_k alpha_k A_k), divided by its maximum (left at zero when all zero).
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np
import pytest
import tensorflow as tf

requires_tensorflow = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="the reference is written with tf.GradientTape; tests/test_backends.py compares "
    "the other backends with TensorFlow",
)
trained_under_tensorflow = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="a statistical bound measured on the shapes model trained under TensorFlow; the "
    "model trained in a JAX session differs (methods equal TensorFlow's on equal weights: "
    "tests/test_backends.py)",
)


ONE_PER_ENGINE_PATH = frozenset(
    {
        "gradcam",
        "hirescam",
        "eigencam",
        "scorecam",
        "saliency",
        "smoothgrad",
        "integrated_gradients",
        "guided_gradcam",
        "deconvnet",
        "occlusion",
        "rise",
        "ablationcam",
        "shapleycam",
        "fullgrad",
        "deeplift",
        "lrp",
    }
)
"""One method per way the engine computes a map (layer gradients, an SVD of the activations,
masked passes, zeroed channels, Hessian-vector products, input gradients, noisy copies, a
path, backward rules, bias gradients, DeepLIFT's reference pass, LRP's rules, black-box
perturbations). The other methods differ from these only in the arithmetic on the same
tensors: on full-size architectures, where every method costs a compilation, the backends are
compared on these (tests/test_backends.py) and JAX runs the others (tests/test_methods.py)."""


def reference_gradcam(
    features: Callable[[tf.Tensor], tf.Tensor],
    head: Callable[[tf.Tensor], tf.Tensor],
    x: np.ndarray,
    class_id: int,
) -> tuple[np.ndarray, float]:
    """(heatmap, score) for one image ``x`` (H, W, C): ``features`` maps images to A,
    ``head`` maps A to the scores (logits) of every class."""
    batch = tf.constant(x[np.newaxis], dtype=tf.float32)
    with tf.GradientTape() as tape:
        activations = features(batch)
        tape.watch(activations)
        score = head(activations)[:, class_id]
    gradients = tape.gradient(score, activations)[0].numpy().astype(np.float64)
    activations = activations[0].numpy().astype(np.float64)
    alpha = gradients.mean(axis=(0, 1))
    cam = np.maximum((activations * alpha).sum(axis=-1), 0.0)
    peak = cam.max()
    heatmap = cam / peak if peak > 0 else cam
    return heatmap.astype(np.float32), float(score[0])


def run_layers(layers: list, x: tf.Tensor) -> tf.Tensor:
    """Apply layers one after the other (the head of a model, by hand)."""
    for layer in layers:
        x = layer(x)
    return x


def dense_logits(dense, x: tf.Tensor) -> tf.Tensor:
    """A Dense layer's output before its activation, written out."""
    return tf.matmul(x, dense.kernel) + dense.bias


def unit(values: np.ndarray) -> np.ndarray:
    """``values`` divided by their maximum (left as they are when it is not positive)."""
    peak = values.max()
    return values / peak if peak > 0 else values


def layer_and_gradients(model, layer_name: str, head, x: np.ndarray, class_id: int):
    """(A, d score / d A) for one image in float64, by a GradientTape written here; ``head``
    maps A to the scores (logits) of every class."""
    features = keras.Model(model.inputs, model.get_layer(layer_name).output)
    with tf.GradientTape() as tape:
        activations = features(x[np.newaxis])
        tape.watch(activations)
        score = head(activations)[0, class_id]
    gradients = tape.gradient(score, activations)
    return activations[0].numpy().astype(np.float64), gradients[0].numpy().astype(np.float64)


def principal_projection(values: np.ndarray) -> np.ndarray:
    """Eigen-CAM by NumPy: centred (h w, c) values projected on the first right singular
    vector, signed to correlate positively with the mean over channels, ReLU, unit peak."""
    height, width, channels = values.shape
    flat = values.reshape(-1, channels)
    centred = flat - flat.mean(axis=0)
    projection = centred @ np.linalg.svd(centred, full_matrices=False)[2][0]
    if np.corrcoef(projection, flat.mean(axis=1))[0, 1] < 0:
        projection = -projection
    return unit(np.maximum(projection, 0).reshape(height, width))
