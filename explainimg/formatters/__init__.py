"""Formatters turn an Explanation into pictures or text. They never import TensorFlow.

>>> from explainimg.formatters import format_as_image
>>> callable(format_as_image)
True
"""

from . import image
from .image import expand_heatmap, format_as_image, heatmap_to_image

__all__ = ["expand_heatmap", "format_as_image", "heatmap_to_image", "image"]
