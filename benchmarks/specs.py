"""Methods named on a benchmark's command line: a key, optionally with a CAM smoothing after
a ``+`` (``gradcam+aug``) and options after a ``:`` (``vargrad:samples=5``, numbers only).

>>> method_of("gradcam+aug").smooth, method_of("saliency").key
('aug', 'saliency')
>>> method_of("vargrad:samples=5").samples, method_of("ablationcam:max_channels=20").key
(5, 'ablationcam')
"""

from __future__ import annotations

from explainimg.methods import METHODS, Method


def _number(text: str) -> int | float:
    return float(text) if any(mark in text for mark in ".e") else int(text)


def method_of(spec: str) -> Method:
    """``"gradcam"`` -> GradCAM(); ``"gradcam+aug"`` -> GradCAM(smooth="aug");
    ``"vargrad:samples=5"`` -> VarGrad(samples=5)."""
    named, _, options = spec.partition(":")
    key, _, smooth = named.partition("+")
    settings = dict(option.split("=", 1) for option in options.split(",") if option)
    return METHODS[key](smooth=smooth or None, **{k: _number(v) for k, v in settings.items()})
