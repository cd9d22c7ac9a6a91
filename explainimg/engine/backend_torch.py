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

from .recording import unchanged

NAME = "torch"
STATIC_SHAPES = False


def compile_function(
    function: Callable[..., Any], model: keras.Model, specs: Sequence[tuple[tuple, str]]
) -> Callable[..., Any]:
    """``function`` itself, called on tensors (PyTorch runs eagerly)."""

    def call(*args: Any) -> Any:
        return function(*(keras.ops.convert_to_tensor(arg) for arg in args))

    return call


def forward_only(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` run under ``torch.no_grad`` (no graph kept for a plain forward pass)."""

    def call(*args: Any) -> Any:
        with torch.no_grad():
            return function(*args)

    return call


class _AutogradRecording:
    def __init__(self, forward: Callable[..., Any], images: torch.Tensor) -> None:
        self._images = images.detach().requires_grad_(True)
        with torch.enable_grad():
            self.scores, self.aux = forward(self._images, unchanged)

    def gradient(self, cotangent: torch.Tensor, wrt: str) -> torch.Tensor | None:
        source = self._images if wrt == "input" else self.aux["activations"]
        if not source.requires_grad:
            return None
        (gradients,) = torch.autograd.grad(
            self.scores,
            source,
            grad_outputs=cotangent.to(self.scores.dtype),
            retain_graph=True,
            allow_unused=True,
        )
        return gradients


def record(
    forward: Callable[..., Any], images: torch.Tensor, layer_shape: tuple | None = None
) -> _AutogradRecording:
    """Run ``forward`` with autograd on (``layer_shape`` is not needed)."""
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
