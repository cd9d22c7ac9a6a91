"""explainimg during training: :class:`ExplainCallback`, a Keras callback that explains a few
validation images every few epochs and writes the overlays to TensorBoard and an HTML page.

May import the entry points (the explainer), the metrics, the formatters, the atomic file
writes of the pipeline and ``engine.summaries`` (the one place that writes TensorBoard
files); nothing in explainimg imports it.

>>> from explainimg.callbacks import ExplainCallback
>>> import keras
>>> issubclass(ExplainCallback, keras.callbacks.Callback)
True
"""

from .explain import ExplainCallback

__all__ = ["ExplainCallback"]
