"""What a backend's ``record`` returns: one forward pass, and its gradients on demand.

>>> Forward.__doc__.split(".")[0]
'A model run that the backend can differentiate'
"""

from __future__ import annotations

from typing import Any, Protocol


class Forward(Protocol):
    """A model run that the backend can differentiate. ``at_layer`` is applied to the explained
    layer's output (the backend uses it to watch or perturb it); returns ``(scores, aux)``
    where ``aux`` is a dict of tensors (``"activations"`` among them)."""

    def __call__(self, images: Any, at_layer: Any) -> tuple[Any, dict[str, Any]]: ...


class Recording(Protocol):
    """The scores of one forward pass and their vector-Jacobian products.

    ``gradient(cotangent, wrt)``: sum_b,c cotangent[b, c] * d scores[b, c] / d X, with X the
    images (``wrt="input"``) or the explained layer's output (``wrt="layer"``); None where
    the backend can tell that the scores do not depend on X. A recording of the backend's
    ``record_points`` gives ``wrt="full"``: from one backward pass, the list of the input
    gradient followed by the gradients at every tensor the forward passed through
    ``at_layer``, in order (zeros where the scores do not depend on one).

    ``gradient_and_hvp(cotangent, vector)``: (g, H v) for the explained layer's output A,
    with g = ``gradient(cotangent, "layer")`` and H v = d (g . v) / d A, ``vector`` held
    fixed (a Hessian-vector product of the cotangent-weighted scores; zeros where g does
    not depend on A; (None, None) where the scores do not depend on A). TensorFlow needs the
    recording made with ``record(..., second_order=True)``.
    """

    scores: Any
    aux: dict[str, Any]

    def gradient(self, cotangent: Any, wrt: str) -> Any: ...

    def gradient_and_hvp(self, cotangent: Any, vector: Any) -> tuple[Any, Any]: ...


def unchanged(output: Any) -> Any:
    """The ``at_layer`` of a backend that needs to do nothing there."""
    return output
