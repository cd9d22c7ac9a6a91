"""Methods named on a benchmark's command line: a key, optionally with a CAM smoothing after
a ``+`` (``gradcam+aug``).

>>> method_of("gradcam+aug").smooth, method_of("saliency").key
('aug', 'saliency')
"""

from __future__ import annotations

from explainimg.methods import METHODS, Method


def method_of(spec: str) -> Method:
    """``"gradcam"`` -> GradCAM(); ``"gradcam+aug"`` -> GradCAM(smooth="aug")."""
    key, _, smooth = spec.partition("+")
    return METHODS[key](smooth=smooth or None)
