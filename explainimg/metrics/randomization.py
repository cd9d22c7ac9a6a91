"""Model randomisation sanity check (Adebayo et al. 2018): does the explanation change when
the model's learned weights are replaced by random ones?

A copy of the model is made with ``keras.models.clone_model`` (new layers, freshly initialised)
and given the original weights everywhere except the top ``layers`` layers that have weights
(counted from the output; ``"all"``, the default, keeps none: full randomisation). Both
are explained the same way for the same class, and the Spearman rank correlation of the two
heatmaps is reported. A method whose map
barely changes (correlation near 1) is not explaining the model. The user's model is only read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import keras
import numpy as np

from ..engine.graph import check_model, iter_layers
from ..errors import bad_argument, bad_type, said
from ..explainer import Explainer
from ..explanation import Explanation


@attrs.frozen
class RandomizationResult:
    """Spearman correlation of the trained and randomised maps, with both explanations."""

    spearman: float
    randomized_layers: tuple[str, ...]
    original: Explanation
    randomized: Explanation


def rank(values: np.ndarray) -> np.ndarray:
    """Ranks from 1, ties sharing their average rank (as scipy.stats.rankdata)."""
    flat = np.asarray(values, dtype=np.float64).ravel()
    order = np.argsort(flat, kind="stable")
    sorted_values = flat[order]
    boundaries = np.flatnonzero(np.diff(sorted_values)) + 1
    starts = np.concatenate([[0], boundaries])
    ends = np.concatenate([boundaries, [flat.size]])
    average = (starts + ends + 1) / 2.0
    ranks = np.empty(flat.size)
    ranks[order] = np.repeat(average, ends - starts)
    return ranks


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of two equally shaped arrays (0.0 if either is constant).

    >>> spearman(np.array([1.0, 2.0, 3.0]), np.array([10.0, 20.0, 15.0]))
    0.5
    """
    a, b = _finite_array(a, "a"), _finite_array(b, "b")
    if a.shape != b.shape:
        raise bad_argument("b", f"an array of the shape of a, {a.shape}", b)
    return pearson(rank(a), rank(b))


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two equally shaped finite arrays (0.0 if either is constant).

    >>> pearson(np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 7.0])) > 0.99
    True
    """
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    a, b = a - a.mean(), b - b.mean()
    denominator = np.sqrt((a**2).sum() * (b**2).sum())
    return float((a * b).sum() / denominator) if denominator > 0 else 0.0


def _finite_array(value: Any, name: str) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise bad_type(name, "an array of numbers", value) from None
    if not np.isfinite(array).all():
        raise bad_argument(name, "finite numbers", said("an array containing NaN or inf"))
    return array


def _weighted_layers(model: keras.Model) -> list[keras.layers.Layer]:
    return [
        ref.layer
        for ref in iter_layers(model)
        if ref.layer.weights and not isinstance(ref.layer, keras.Model)
    ]


def _seeded_clone(rng: np.random.Generator) -> Callable[[keras.layers.Layer], keras.layers.Layer]:
    """A clone function giving every seedable initializer its own seed drawn from ``rng``, so
    the copy is reproducible without touching any global random generator."""

    def clone(layer: keras.layers.Layer) -> keras.layers.Layer:
        config = layer.get_config()
        for key, value in config.items():
            if key.endswith("_initializer") and isinstance(value, dict):
                settings = value.get("config")
                if isinstance(settings, dict) and "seed" in settings:
                    seed = int(rng.integers(2**31))
                    config[key] = {**value, "config": {**settings, "seed": seed}}
        return layer.__class__.from_config(config)

    return clone


def randomized_copy(model: keras.Model, layers: int | str = "all", seed: int = 0) -> keras.Model:
    """A copy of ``model`` whose top ``layers`` weighted layers are freshly initialised.

    The new weights come from the layers' own initializers, seeded from ``seed`` through a
    local generator: the copy is reproducible, and the global NumPy, Python and Keras random
    generators are left as they were."""
    model = check_model(model)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise bad_type("seed", "an integer", seed)
    clone = _seeded_clone(np.random.default_rng(int(seed)))
    copy = keras.models.clone_model(model, clone_function=clone, recursive=True)
    originals, copies = _weighted_layers(model), _weighted_layers(copy)
    count = len(originals) if layers == "all" else layers
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= len(originals):
        raise bad_argument(
            "layers", f"'all' or a number of top layers between 1 and {len(originals)}", layers
        )
    for original, copied in zip(originals[: len(originals) - count], copies, strict=False):
        copied.set_weights(original.get_weights())
    return copy


def randomization_check(
    model: keras.Model,
    x: Any,
    *,
    target: int | None = None,
    layers: int | str = "all",
    method: Any = "gradcam",
    layer: Any = None,
    seed: int = 0,
) -> RandomizationResult:
    """Explain ``x`` with the trained model and with a copy whose top ``layers`` weighted
    layers are re-initialised, for the same class (``target``, default the trained model's top
    class), and compare the maps by Spearman rank correlation."""
    model = check_model(model)
    original = Explainer(model, layer=layer, method=method)
    targets = None if target is None else [target]
    trained = original.explain(x, targets=targets)
    copy = randomized_copy(model, layers, seed)
    copy_layer = original.layer if isinstance(layer, keras.layers.Layer) else layer
    randomized = Explainer(copy, layer=copy_layer, method=method).explain(
        x, targets=[trained.targets[0].target]
    )
    count = len(_weighted_layers(model)) if layers == "all" else layers
    names = tuple(layer.name for layer in _weighted_layers(model)[-count:])
    return RandomizationResult(
        spearman=spearman(trained.targets[0].heatmap, randomized.targets[0].heatmap),
        randomized_layers=names,
        original=trained,
        randomized=randomized,
    )
