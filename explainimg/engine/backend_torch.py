"""PyTorch: eager autograd. Nothing is compiled (``torch.compile`` would cost more to build
than it saves on a few calls), so PyTorch runs at the speed of an eager forward pass.

Gradients with respect to a layer's output are taken on the output tensor itself, which
autograd keeps in the graph of the forward pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import keras
import torch

NAME = "torch"
STATIC_SHAPES = False


def compile_function(
    function: Callable[..., Any], model: keras.Model, specs: Sequence[tuple[tuple, str]]
) -> Callable[..., Any]:
    """``function`` itself, called on tensors (PyTorch runs eagerly)."""

    def call(*args: Any) -> Any:
        return function(*(keras.ops.convert_to_tensor(arg) for arg in args))

    return call


def fused(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` as it is (eager PyTorch runs each op on its own; no compiler here)."""
    return function


def forward_only(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` run under ``torch.no_grad`` (no graph kept for a plain forward pass)."""

    def call(*args: Any) -> Any:
        with torch.no_grad():
            return function(*args)

    return call


class _AutogradRecording:
    def __init__(self, forward: Callable[..., Any], images: torch.Tensor) -> None:
        self._images = images.detach().requires_grad_(True)
        self.points: list[torch.Tensor] = []
        with torch.enable_grad():
            self.scores, self.aux = forward(self._images, self._watch)

    def _watch(self, tensor: torch.Tensor) -> torch.Tensor:
        self.points.append(tensor)
        return tensor

    def gradient(self, cotangent: torch.Tensor, wrt: str) -> Any:
        if wrt == "full":
            return _grads(self.scores, [self._images, *self.points], cotangent)
        source = self._images if wrt == "input" else self.aux["activations"]
        return _grads(self.scores, [source], cotangent, zeros=False)[0]

    def gradient_and_hvp(self, cotangent: torch.Tensor, vector: torch.Tensor) -> tuple[Any, Any]:
        """Back-over-back: the layer gradient kept in the graph (``create_graph``), then
        differentiated along ``vector``."""
        source = self.aux["activations"]
        (gradient,) = _grads(self.scores, [source], cotangent, zeros=False, create_graph=True)
        if gradient is None:
            return None, None
        return gradient.detach(), _grads(gradient, [source], vector)[0]


def _grads(
    outputs: torch.Tensor,
    sources: list[torch.Tensor],
    cotangent: torch.Tensor,
    zeros: bool = True,
    create_graph: bool = False,
) -> list[torch.Tensor | None]:
    """sum cotangent * d outputs / d source for each source; where ``outputs`` do not depend
    on one, zeros (``zeros``) or None."""
    connected = [source for source in sources if source.requires_grad]
    found = {}
    if connected and outputs.requires_grad:
        gradients = torch.autograd.grad(
            outputs,
            connected,
            grad_outputs=cotangent.to(outputs.dtype),
            retain_graph=True,
            create_graph=create_graph,
            allow_unused=True,
        )
        found = {
            id(source): gradient for source, gradient in zip(connected, gradients, strict=True)
        }
    gradients = [found.get(id(source)) for source in sources]
    if zeros:
        return [
            torch.zeros_like(source) if gradient is None else gradient
            for source, gradient in zip(sources, gradients, strict=True)
        ]
    return gradients


def record(
    forward: Callable[..., Any],
    images: torch.Tensor,
    layer_shape: tuple | None = None,
    second_order: bool = False,
) -> _AutogradRecording:
    """Run ``forward`` with autograd on (``layer_shape`` and ``second_order`` are not needed:
    the graph of the forward pass is kept, and differentiated twice when asked)."""
    return _AutogradRecording(forward, images)


def record_points(forward: Callable[..., Any], images: torch.Tensor) -> _AutogradRecording:
    """Run ``forward``, keeping every tensor it passes through ``at_layer``."""
    return _AutogradRecording(forward, images)


class _PositiveGradientsOnly(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        return x.view_as(x)

    @staticmethod
    def backward(ctx: Any, upstream: torch.Tensor) -> torch.Tensor:
        return torch.relu(upstream)


def positive_gradients_only(x: torch.Tensor) -> torch.Tensor:
    """Identity forward; backward passes only the positive part of the incoming gradient."""
    return _PositiveGradientsOnly.apply(x)


def sequential_map(function: Callable[[Any], Any], elements: Any, steps_to: Any = None) -> Any:
    """``function`` over the first axis of ``elements``, one step at a time; ``steps_to`` (a
    :class:`~explainimg.engine.progress.StepReport`) is told of each step."""
    tell = steps_to is not None and len(elements) > steps_to.min_steps
    outputs = []
    for index, element in enumerate(elements):
        outputs.append(function(element))
        if tell:
            steps_to.call(index, len(elements))
    return torch.stack(outputs)
