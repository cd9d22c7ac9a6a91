"""A small functional vision transformer (class token, patch grid, pre-norm blocks) built with
plain Keras layers, so that tests can reach every token tensor from outside and compute
independent references."""

from __future__ import annotations

import keras
from keras import layers, ops


class ClassTokenAndPositions(keras.layers.Layer):
    """Prepends a learned class token (unless ``class_token=False``) and adds learned
    position embeddings."""

    def __init__(self, class_token: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.use_class_token = class_token

    def build(self, input_shape):
        tokens, dim = input_shape[1], input_shape[2]
        extra = 1 if self.use_class_token else 0
        if self.use_class_token:
            self.class_token = self.add_weight(shape=(1, 1, dim), initializer="zeros", name="cls")
        self.positions = self.add_weight(
            shape=(1, tokens + extra, dim), initializer="random_normal", name="positions"
        )

    def call(self, patches):
        if not self.use_class_token:
            return patches + self.positions
        batch = ops.shape(patches)[0]
        cls = ops.tile(self.class_token, (batch, 1, 1))
        return ops.concatenate([cls, patches], axis=1) + self.positions


def tiny_vit(
    size: int = 64,
    patch: int = 8,
    dim: int = 32,
    depth: int = 2,
    classes: int = 3,
    pooling: str = "token",
) -> keras.Model:
    """Image -> patch tokens (+ a class token with ``pooling="token"``) -> ``depth`` pre-norm
    transformer blocks -> final norm -> the class token, or the mean of the patch tokens
    with ``pooling="gap"`` -> Dense logits -> Softmax layer. Block i's first norm is named
    ``block{i}_ln1``."""
    inputs = keras.Input((size, size, 3))
    x = layers.Rescaling(1 / 255.0)(inputs)
    x = layers.Conv2D(dim, patch, strides=patch, name="patches")(x)
    grid = size // patch
    x = layers.Reshape((grid * grid, dim))(x)
    x = ClassTokenAndPositions(class_token=pooling == "token", name="embed")(x)
    for i in range(depth):
        h = layers.LayerNormalization(epsilon=1e-6, name=f"block{i}_ln1")(x)
        h = layers.MultiHeadAttention(2, dim // 2, name=f"block{i}_attention")(h, h)
        x = layers.Add(name=f"block{i}_add1")([x, h])
        h = layers.LayerNormalization(epsilon=1e-6, name=f"block{i}_ln2")(x)
        h = layers.Dense(dim * 2, activation="gelu", name=f"block{i}_mlp1")(h)
        h = layers.Dense(dim, name=f"block{i}_mlp2")(h)
        x = layers.Add(name=f"block{i}_add2")([x, h])
    x = layers.LayerNormalization(epsilon=1e-6, name="final_norm")(x)
    if pooling == "token":
        x = layers.Lambda(lambda tokens: tokens[:, 0], name="class_token")(x)
    else:
        x = layers.GlobalAveragePooling1D(name="mean_token")(x)
    logits = layers.Dense(classes, name="logits")(x)
    return keras.Model(inputs, layers.Softmax(name="probs")(logits), name="tiny_vit")
