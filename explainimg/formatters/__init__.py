"""Formatters turn an Explanation into pictures, HTML, text or dicts.

May import the data layer (``explanation``, ``heatmaps``, ``errors``), the audit's numbers
and NumPy, PIL, jinja2 and matplotlib; never Keras or a backend framework.

>>> from explainimg.formatters import format_as_text
>>> callable(format_as_text)
True
"""

from . import image
from .as_dict import explanation_from_dict, format_as_dict
from .audit_html import format_audit_as_html
from .epochs_html import format_epochs_as_html
from .html import format_as_html
from .image import expand_heatmap, format_as_image, heatmap_to_image
from .plot import plot_comparison, plot_explanation
from .text import format_as_text

__all__ = [
    "expand_heatmap",
    "explanation_from_dict",
    "format_as_dict",
    "format_as_html",
    "format_as_image",
    "format_as_text",
    "format_audit_as_html",
    "format_epochs_as_html",
    "heatmap_to_image",
    "image",
    "plot_comparison",
    "plot_explanation",
]
