"""Small models for tests, each in the shape users build them, with healthy random weights."""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

SIZE = 32
CLASSES = 4


def image(seed: int = 0, size: int = SIZE) -> np.ndarray:
    """A (size, size, 3) float32 image with values in 0..255."""
    return np.random.default_rng(seed).uniform(0, 255, (size, size, 3)).astype(np.float32)


def conv_stack(name: str = "features") -> keras.Model:
    """A functional convolutional base (include_top=False style) ending in a ReLU map."""
    inputs = keras.Input((SIZE, SIZE, 3))
    x = layers.Conv2D(8, 3, padding="same", name="c1")(inputs)
    x = layers.BatchNormalization(name="bn1")(x)
    x = layers.ReLU(name="r1")(x)
    x = layers.MaxPooling2D(name="p1")(x)
    x = layers.Conv2D(16, 3, padding="same", name="c2")(x)
    x = layers.BatchNormalization(name="bn2")(x)
    outputs = layers.ReLU(name="r2")(x)
    return keras.Model(inputs, outputs, name=name)


def sequential_dense_softmax() -> keras.Model:
    """Sequential CNN, softmax inside the last Dense."""
    keras.utils.set_random_seed(1)
    return keras.Sequential(
        [
            keras.Input((SIZE, SIZE, 3)),
            layers.Rescaling(1 / 255.0, name="rescale"),
            layers.Conv2D(8, 3, activation="relu", name="conv_a"),
            layers.Conv2D(16, 3, activation="relu", name="conv_b"),
            layers.MaxPooling2D(name="pool"),
            layers.Flatten(name="flat"),
            layers.Dense(CLASSES, activation="softmax", name="probs"),
        ],
        name="seq_dense_softmax",
    )


def functional_activation_softmax() -> keras.Model:
    """Functional CNN with a residual add, logits Dense, then a separate softmax Activation."""
    keras.utils.set_random_seed(2)
    inputs = keras.Input((SIZE, SIZE, 3))
    x = layers.Rescaling(1 / 127.5, offset=-1, name="rescale")(inputs)
    x = layers.Conv2D(8, 3, padding="same", activation="relu", name="conv_a")(x)
    y = layers.Conv2D(8, 3, padding="same", name="conv_b")(x)
    x = layers.Add(name="add")([x, y])
    x = layers.Activation("relu", name="block_out")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    logits = layers.Dense(CLASSES, name="logits")(x)
    outputs = layers.Activation("softmax", name="probs")(logits)
    return keras.Model(inputs, outputs, name="fn_activation_softmax")


def functional_softmax_layer() -> keras.Model:
    """Functional CNN ending in a keras.layers.Softmax layer."""
    keras.utils.set_random_seed(3)
    inputs = keras.Input((SIZE, SIZE, 3))
    x = layers.Rescaling(1 / 255.0)(inputs)
    x = layers.Conv2D(8, 5, activation="relu", name="conv")(x)
    x = layers.GlobalMaxPooling2D()(x)
    outputs = layers.Softmax(name="softmax")(layers.Dense(CLASSES, name="logits")(x))
    return keras.Model(inputs, outputs, name="fn_softmax_layer")


def nested_sequential() -> keras.Model:
    """Transfer-learning pattern 1: Sequential([Input, Rescaling, base, GAP, Dropout, Dense])."""
    keras.utils.set_random_seed(4)
    base = conv_stack()
    base.trainable = False
    return keras.Sequential(
        [
            keras.Input((SIZE, SIZE, 3)),
            layers.Rescaling(1 / 127.5, offset=-1, name="rescale"),
            base,
            layers.GlobalAveragePooling2D(name="gap"),
            layers.Dropout(0.3, name="drop"),
            layers.Dense(CLASSES, activation="softmax", name="probs"),
        ],
        name="nested_sequential",
    )


def nested_functional() -> keras.Model:
    """Transfer-learning pattern 2: base = X(include_top=False); Dense(GAP(base(inputs)))."""
    keras.utils.set_random_seed(5)
    base = conv_stack()
    inputs = keras.Input((SIZE, SIZE, 3))
    x = base(layers.Rescaling(1 / 255.0, name="rescale")(inputs), training=False)
    outputs = layers.Dense(CLASSES, activation="softmax", name="probs")(
        layers.GlobalAveragePooling2D(name="gap")(x)
    )
    return keras.Model(inputs, outputs, name="nested_functional")


def with_head(activation: str | None, units: int) -> keras.Model:
    """CNN whose last Dense has ``units`` outputs and ``activation`` (sigmoid, None, ...)."""
    keras.utils.set_random_seed(6)
    return keras.Sequential(
        [
            keras.Input((SIZE, SIZE, 3)),
            layers.Rescaling(1 / 255.0),
            layers.Conv2D(8, 3, activation="relu", name="conv"),
            layers.GlobalAveragePooling2D(),
            layers.Dense(units, activation=activation, name="head"),
        ],
        name=f"head_{activation}_{units}",
    )


def weights_of(model: keras.Model) -> list[np.ndarray]:
    return [np.array(w.numpy(), copy=True) for w in model.weights]


def calibrated(model: keras.Model, images: np.ndarray) -> keras.Model:
    """Set every BatchNormalization's moving statistics to those of its input on ``images``,
    so a ``weights=None`` network gives healthy (not vanishing) activations. Returns ``model``.
    """
    from explainimg.engine.interception import intercepted
    from explainimg.engine.probe import all_layers

    def calibrate(layer, args, kwargs, outputs):
        inputs = keras.ops.convert_to_numpy(args[0])
        layer.moving_mean.assign(inputs.mean(axis=(0, 1, 2)))
        layer.moving_variance.assign(inputs.var(axis=(0, 1, 2)) + 1e-3)
        return type(layer).call(layer, args[0], training=False)

    norms = [
        ref.layer for ref in all_layers(model) if isinstance(ref.layer, layers.BatchNormalization)
    ]
    with intercepted(dict.fromkeys(norms, calibrate)):
        model(keras.ops.convert_to_tensor(images), training=False)
    return model


def small_mobilenet(classes: int = 5) -> keras.Model:
    """keras.applications.MobileNetV2 (alpha 0.35, 64x64, weights=None), calibrated."""
    keras.utils.set_random_seed(7)
    model = keras.applications.MobileNetV2(
        input_shape=(64, 64, 3), alpha=0.35, weights=None, classes=classes
    )
    images = np.random.default_rng(7).uniform(-1, 1, (8, 64, 64, 3)).astype(np.float32)
    return calibrated(model, images)


def tiny_softmax(seed: int, size: int = 8, filters: int = 4) -> keras.Model:
    """A convolution, global pooling and a 3-class softmax on size x size RGB images."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((size, size, 3))
    x = layers.Conv2D(filters, 3, padding="same", activation="relu", name="conv")(inputs)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(3, activation="softmax")(x))


def ignoring_the_image(size: int = 8) -> keras.Model:
    """A 2-class softmax that gives (0.5, 0.5) whatever the image."""
    inputs = keras.Input((size, size, 3))
    zeros = layers.Lambda(lambda t: t[:, 0, 0, :1] * 0.0)(inputs)
    return keras.Model(inputs, layers.Dense(2, activation="softmax")(zeros))
