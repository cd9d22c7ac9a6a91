"""explainimg: why did a Keras image classifier predict that?

>>> import explainimg as ei
>>> sorted(ei.__all__)[:3]
['Audit', 'AuditItem', 'ClassSummary']

Names that need TensorFlow (``explain_prediction``, ``show_prediction``) are imported on
first use, so ``explainimg.formatters`` and ``explainimg.explanation`` work without it.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "explain_prediction": "explainimg.explain",
    "show_prediction": "explainimg.explain",
    "explain_predictions": "explainimg.explain",
    "compare_methods": "explainimg.explain",
    "detection_targets": "explainimg.engine.detections",
    "detection_layer": "explainimg.engine.detections",
    "similarity_targets": "explainimg.engine.detections",
    "Explainer": "explainimg.explainer",
    "Explanation": "explainimg.explanation",
    "TargetExplanation": "explainimg.explanation",
    "ExplanationError": "explainimg.errors",
    "format_as_image": "explainimg.formatters.image",
    "format_as_html": "explainimg.formatters.html",
    "format_as_text": "explainimg.formatters.text",
    "format_as_dict": "explainimg.formatters.as_dict",
    "explanation_from_dict": "explainimg.formatters.as_dict",
    "plot_explanation": "explainimg.formatters.plot",
    "plot_comparison": "explainimg.formatters.plot",
    "format_audit_as_html": "explainimg.formatters.audit_html",
    "explain_for_audit": "explainimg.audit.explain",
    "audit_explanations": "explainimg.audit.summary",
    "Audit": "explainimg.audit.summary",
    "AuditItem": "explainimg.audit.summary",
    "ClassSummary": "explainimg.audit.summary",
    "ConfusionPair": "explainimg.audit.summary",
    "formatters": "explainimg.formatters",
    "methods": "explainimg.methods",
    "metrics": "explainimg.metrics",
    "targets": "explainimg.targets",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'explainimg' has no attribute {name!r}")
    module = import_module(_LAZY[name])
    value = module if module.__name__ == f"explainimg.{name}" else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
