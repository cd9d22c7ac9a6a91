"""Explanation methods. Each is a small class; ``method=`` takes its key or a configured one.

Pure ``keras.ops`` maths from activations, gradients or perturbed scores to a map: may
import ``errors`` and each other only; no framework, no PIL (the engine runs them).

>>> get_method("gradcam").title
'Grad-CAM'
>>> get_method(SmoothGrad(samples=10)).samples
10
"""

from __future__ import annotations

from typing import Any

from ..errors import bad_argument
from .ablationcam import AblationCAM
from .base import Context, Method, SignedMethod
from .baselines import CenterBaseline, RandomBaseline, SobelBaseline
from .deconvnet import Deconvnet
from .deeplift import DeepLIFT
from .eigencam import EigenCAM
from .eigengradcam import EigenGradCAM
from .finercam import FinerCAM
from .fullgrad import FullGrad
from .gradcam import GradCAM
from .gradcam_elementwise import GradCAMElementWise
from .gradcam_plus_plus import GradCAMPlusPlus
from .guided_backprop import GuidedBackprop
from .guided_gradcam import GuidedGradCAM
from .hirescam import HiResCAM
from .input_x_gradient import InputXGradient
from .integrated_gradients import IntegratedGradients
from .kpcacam import KPCACAM
from .layercam import LayerCAM
from .lrp import LRP
from .occlusion import Occlusion
from .rise import DRISE, RISE
from .saliency import Saliency
from .scorecam import ScoreCAM
from .shapleycam import ShapleyCAM
from .smoothgrad import SmoothGrad
from .squaregrad import SquareGrad
from .vargrad import VarGrad
from .xgradcam import XGradCAM

METHODS: dict[str, type[Method]] = {
    cls.key: cls
    for cls in (
        GradCAM,
        GradCAMPlusPlus,
        LayerCAM,
        ScoreCAM,
        Saliency,
        SmoothGrad,
        IntegratedGradients,
        GuidedGradCAM,
        Occlusion,
        RISE,
        DRISE,
        HiResCAM,
        XGradCAM,
        GradCAMElementWise,
        EigenCAM,
        EigenGradCAM,
        InputXGradient,
        GuidedBackprop,
        Deconvnet,
        VarGrad,
        SquareGrad,
        AblationCAM,
        FinerCAM,
        KPCACAM,
        DeepLIFT,
        LRP,
        FullGrad,
        ShapleyCAM,
        RandomBaseline,
        SobelBaseline,
        CenterBaseline,
    )
}

__all__ = [
    "DRISE",
    "KPCACAM",
    "LRP",
    "METHODS",
    "RISE",
    "AblationCAM",
    "CenterBaseline",
    "Context",
    "Deconvnet",
    "DeepLIFT",
    "EigenCAM",
    "EigenGradCAM",
    "FinerCAM",
    "FullGrad",
    "GradCAM",
    "GradCAMElementWise",
    "GradCAMPlusPlus",
    "GuidedBackprop",
    "GuidedGradCAM",
    "HiResCAM",
    "InputXGradient",
    "IntegratedGradients",
    "LayerCAM",
    "Method",
    "Occlusion",
    "RandomBaseline",
    "Saliency",
    "ScoreCAM",
    "ShapleyCAM",
    "SignedMethod",
    "SmoothGrad",
    "SobelBaseline",
    "SquareGrad",
    "VarGrad",
    "XGradCAM",
    "get_method",
    "methods_for",
]


def methods_for(kind: str) -> list[str]:
    """The keys of the methods that explain a model of ``kind`` (a registered model kind:
    :mod:`explainimg.engine.kinds`), in the order of ``METHODS``.

    >>> "drise" in methods_for("detector"), "drise" in methods_for("graph")
    (True, False)
    """
    return [key for key, cls in METHODS.items() if not cls.model_kinds or kind in cls.model_kinds]


def get_method(method: Any) -> Method:
    """A method instance from its key (default options) or an instance (returned as is)."""
    if isinstance(method, Method):
        return method
    if isinstance(method, str) and method in METHODS:
        return METHODS[method]()
    known = ", ".join(map(repr, METHODS))
    raise bad_argument("method", f"one of {known} or a configured method", method)
