"""What every method is, and what the engine gives it to work with.

A method is a small frozen attrs class: its options are fields (validated, hashable, so a
compiled function is reused for equal options) and ``target_map`` turns a :class:`Context`
into the raw map of one target for a whole batch. A ``signed`` method's values have a sign:
its ``target_outputs`` also gives them, summed over colour channels (the ``attribution`` of
each target). Methods are tensor maths only: they never
see the model's layers or pictures, only what the context computes for them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Protocol

import attrs
from keras import ops

from ..errors import bad_argument, bad_type


class Context(Protocol):
    """What the engine offers a method inside one compiled call.

    - ``images``: (B, H, W, C) float32 inputs; ``targets``: (B, K) int32 class ids.
    - ``scores``: (B, classes) float32 class scores of the images (the differentiated
      scores: logits where the model has them).
    - ``activations``: (B, h, w, c) float32 output of the explained layer (layer methods).
    - ``layer_gradients(k)``: d score / d activations for target column k, (B, h, w, c).
    - ``layer_gradients_of(cotangent)``: d (sum_j cotangent[b, j] * scores[b, j]) / d
      activations for any (B, classes) ``cotangent`` (a combination of classes), (B, h, w, c).
    - ``input_gradients(images, target_ids, rule=None)``: d score[target] / d images for
      any batch of images (N, H, W, C) and ids (N,); ``rule`` ("guided" or "deconvnet", or a
      hashable rule object: DeepLIFT's ``RescaleRule``, LRP's ``RelevanceRule``) changes how
      gradients pass the layers without changing the model. A rule's forward pass is shared
      by the calls for the same ``images`` object (DeepLIFT's runs its reference first).
    - ``layer_gradients_and_hvp(k)``: (g, H A) for target column k, both (B, h, w, c):
      g = ``layer_gradients(k)`` and H A = d (g . A) / d A with A held fixed, the
      Hessian-vector product of the score along the activations themselves (second-order
      differentiation through the model after the layer; a method that asks for it sets
      ``second_order = True``).
    - ``full_gradients(k)``: (d score / d images, bias terms) for target column k, from
      one extra forward and one backward pass: the (B, H, W, C) input gradient and, for
      every biased layer as it ran, b * d score / d z, with z the layer's pre-activation
      output and b its (effective, for BatchNormalization) bias broadcast over positions,
      channels last (shapes as the layers' outputs; see
      :mod:`explainimg.engine.full_gradients` for which layers count).
    - ``class_confidences(images, sources=None)``: (N, classes) probabilities of any batch
      of images (the model's own softmax/sigmoid output, or a softmax of its scores when it
      has none). ``sources`` (N,) says which of the B explained images each row was made
      from (default: row i from image i), so that a model's other inputs go along.
    - ``channel_masked_scores(masks, sources=None)``: (N, classes) class scores of the
      explained images with the explained layer's output multiplied channel-wise by row n's
      mask (N, c) while the model runs (channel ablation); ``sources`` (N,) as above.
    - ``map(function, elements)``: ``function`` over the first axis of ``elements``, one step
      at a time (memory of one step; a float32 result per step, stacked).
    - ``memo``: a dict for work shared by the targets of one call (e.g. masked passes).

    Tensors are the running Keras backend's; methods use ``keras.ops`` only.
    """

    images: Any
    targets: Any
    scores: Any
    activations: Any | None

    def layer_gradients(self, k: int) -> Any: ...

    def layer_gradients_of(self, cotangent: Any) -> Any: ...

    def layer_gradients_and_hvp(self, k: int) -> tuple[Any, Any]: ...

    def full_gradients(self, k: int) -> tuple[Any, list[Any]]: ...

    def input_gradients(self, images: Any, target_ids: Any, rule: Any = None) -> Any: ...

    def class_confidences(self, images: Any, sources: Any = None) -> Any: ...

    def channel_masked_scores(self, masks: Any, sources: Any = None) -> Any: ...

    def map(self, function: Callable[[Any], Any], elements: Any) -> Any: ...

    memo: dict[str, Any]


def _check_smooth(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    allowed = type(instance).smoothings
    if value is None or value in allowed:
        return
    if not allowed:
        raise bad_argument(
            "smooth",
            f"None for {instance.title}, which has no smoothing option",
            value,
            hint="smooth='aug' and smooth='eigen' smooth the maps of the CAM methods "
            "(such as 'gradcam'); 'smoothgrad' averages input gradients over noisy copies.",
        )
    raise bad_argument("smooth", f"None or one of {', '.join(map(repr, allowed))}", value)


@attrs.frozen
class Method:
    """Base of all methods. Subclasses set the class constants and ``target_map``.

    ``smooth`` (keyword only) is an option of the CAM methods (:mod:`explainimg.methods.cam`):
    ``"eigen"`` or ``"aug"``; every other method refuses it with a clear error.
    """

    key: ClassVar[str] = ""
    title: ClassVar[str] = ""
    needs_layer: ClassVar[bool] = True
    resolution: ClassVar[str] = "layer"
    passes: ClassVar[str] = ""
    signed: ClassVar[bool] = False
    second_order: ClassVar[bool] = False
    smoothings: ClassVar[tuple[str, ...]] = ()
    reads_confidences: ClassVar[bool] = False
    """True for methods that read ``ctx.class_confidences`` of perturbed images (a detector
    then gives them D-RISE's similarity: :mod:`explainimg.engine.detection_view`)."""
    baseline: ClassVar[bool] = False
    """True for the sanity baselines (:mod:`explainimg.methods.baselines`): maps that know
    nothing of the model."""
    model_kinds: ClassVar[tuple[str, ...]] = ()
    """The model kinds (:mod:`explainimg.engine.kinds`) the method explains; () for all."""
    other_kinds_hint: ClassVar[str] = ""
    """What to use instead on a model of another kind (the hint of the refusal)."""

    smooth: str | None = attrs.field(default=None, kw_only=True, validator=_check_smooth)

    @property
    def augmented(self) -> bool:
        """True when the engine averages the maps of flipped and rescaled copies."""
        return self.smooth == "aug"

    @property
    def description(self) -> str:
        """One sentence on what the map shows (goes into Explanation.description)."""
        first_paragraph = (self.__doc__ or self.title).strip().split("\n\n")[0]
        return " ".join(line.strip() for line in first_paragraph.splitlines())

    def target_map(self, ctx: Context, k: int) -> Any:
        """The (B, h, w) non-negative map of target column ``k`` (scaled to [0, 1] later)."""
        raise NotImplementedError

    def target_outputs(self, ctx: Context, k: int) -> tuple[Any, Any | None]:
        """(map, attribution): the map of ``target_map`` and, for a ``signed`` method, the
        (B, H, W) signed values summed over colour channels (None otherwise)."""
        return self.target_map(ctx, k), None


@attrs.frozen
class SignedMethod(Method):
    """Base of the methods whose values have a sign: ``attributions`` gives the (B, H, W, C)
    signed values; the attribution of a target is their sum over colour channels and its map
    ``heatmap_of`` them (by default the sum of their absolute values over channels)."""

    signed: ClassVar[bool] = True
    resolution: ClassVar[str] = "input"

    def attributions(self, ctx: Context, k: int) -> Any:
        """The (B, H, W, C) signed values of target column ``k``."""
        raise NotImplementedError

    def heatmap_of(self, attributions: Any) -> Any:
        """The (B, H, W) non-negative map of the (B, H, W, C) ``attributions``."""
        return ops.sum(ops.abs(attributions), axis=-1)

    def target_map(self, ctx: Context, k: int) -> Any:
        return self.target_outputs(ctx, k)[0]

    def target_outputs(self, ctx: Context, k: int) -> tuple[Any, Any | None]:
        attributions = self.attributions(ctx, k)
        return self.heatmap_of(attributions), ops.sum(attributions, axis=-1)


def integer_at_least(name: str, low: int) -> Any:
    """An attrs validator: an integer >= ``low``, or a clear error naming the option."""

    def check(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad_type(name, f"an integer >= {low}", value)
        if value < low:
            raise bad_argument(name, f"an integer >= {low}", value)

    return check


def optional_integer_at_least(name: str, low: int) -> Any:
    """An attrs validator: None (the method chooses), or an integer >= ``low``."""
    check_integer = integer_at_least(name, low)

    def check(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
        if value is not None:
            check_integer(instance, attribute, value)

    return check


def number_at_least(name: str, low: float) -> Any:
    """An attrs validator: a number >= ``low``."""

    def check(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad_type(name, f"a number >= {low}", value)
        if value < low:
            raise bad_argument(name, f"a number >= {low}", value)

    return check
