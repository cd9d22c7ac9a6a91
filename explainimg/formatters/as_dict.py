"""Explanations as JSON-safe dicts, and back.

Heatmaps become nested lists of floats (float32 values survive ``json.dumps``/``json.loads``
exactly); the image is left out unless asked for, then it is a base64 PNG data URI.

>>> import json, numpy as np
>>> from explainimg.explanation import Explanation, TargetExplanation
>>> expl = Explanation(estimator="net", method="Grad-CAM", description="d", layer="conv",
...     targets=[TargetExplanation(3, None, 1.5, None, np.eye(2, dtype="float32"))])
>>> data = json.loads(json.dumps(format_as_dict(expl)))
>>> data["targets"][0]["heatmap"]
[[1.0, 0.0], [0.0, 1.0]]
>>> explanation_from_dict(data) == expl
True
"""

from __future__ import annotations

import base64
import io
from typing import Any

from PIL import Image

from ..errors import bad_argument, bad_type, said
from ..explanation import Explanation, TargetExplanation, checked_explanation
from ..inputs.images import standard_image
from .summary import summarize

_PNG_PREFIX = "data:image/png;base64,"


def image_bytes(image: Image.Image, image_format: str = "png", quality: int = 85) -> bytes:
    """``image`` encoded as PNG or JPEG (JPEG drops transparency).

    >>> image_bytes(Image.new("RGB", (4, 4)), "jpeg")[:3]
    b'\\xff\\xd8\\xff'
    """
    buffer = io.BytesIO()
    image = standard_image(image)  # PNG cannot hold CMYK, 16-bit or float pictures
    if image_format == "jpeg":
        image.convert("RGB").save(buffer, format="JPEG", quality=quality)
    else:
        image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def bytes_to_data_uri(data: bytes, image_format: str) -> str:
    """A ``data:`` URI holding encoded picture ``data`` ("png" or "jpeg")."""
    return f"data:image/{image_format};base64,{base64.b64encode(data).decode('ascii')}"


def image_to_data_uri(image: Image.Image, image_format: str = "png", quality: int = 85) -> str:
    """A ``data:`` URI holding ``image`` as PNG or JPEG (JPEG drops transparency)."""
    return bytes_to_data_uri(image_bytes(image, image_format, quality), image_format)


def format_as_dict(expl: Explanation, *, include_image: bool = False) -> dict[str, Any]:
    """A JSON-safe dict of ``expl``: every field, heatmaps (and signed attributions, or None)
    as lists, plus for each target where its heat peaks (image pixels) and the share of the
    image at or above half heat; a detection's target also has its ``"box"`` [x0, y0, x1, y1].

    ``"provenance"`` is the Explanation's own record of where it comes from (versions, method,
    settings, seed, layer; None for one made by hand): this formatter reads it and computes
    nothing, so it needs no Keras. The weights' fingerprint is in run manifests only."""
    expl = checked_explanation(expl)
    size = expl.image.size if expl.image is not None else None
    targets = []
    for target in expl.targets:
        entry: dict[str, Any] = {
            "target": int(target.target),
            "target_name": target.target_name,
            "score": float(target.score),
            "proba": None if target.proba is None else float(target.proba),
            "heatmap": target.heatmap.tolist(),
            "attribution": None if target.attribution is None else target.attribution.tolist(),
        }
        if target.box is not None:  # a detection's; classes have none (and no key)
            entry["box"] = list(target.box)
        if size is not None and target.heatmap.any():
            summary = summarize(target.heatmap, size)
            entry["peak"] = {"x": summary.peak_x, "y": summary.peak_y}
            entry["hot_share"] = summary.hot_share
        targets.append(entry)
    data: dict[str, Any] = {
        "estimator": expl.estimator,
        "method": expl.method,
        "description": expl.description,
        "layer": expl.layer,
        "is_regression": bool(expl.is_regression),
        "error": expl.error,
        "source": expl.source,
        "image_size": list(size) if size is not None else None,
        "targets": targets,
        "provenance": expl.provenance,
    }
    if include_image and expl.image is not None:
        data["image"] = image_to_data_uri(expl.image)
    return data


def explanation_from_dict(data: dict[str, Any]) -> Explanation:
    """The Explanation a :func:`format_as_dict` dict describes (the image only if included).

    A malformed dict raises an error naming the key: a missing one is a ValueError, a value
    of the wrong type a TypeError (as when the objects are made by hand).
    """
    if not isinstance(data, dict):
        raise bad_type("data", "a dict made by format_as_dict", data)
    entries = _required(data, "targets", "data")
    if not isinstance(entries, list):
        raise bad_type("data['targets']", "a list of dicts", entries)
    targets = [_target_from_dict(entry, f"data['targets'][{i}]") for i, entry in enumerate(entries)]
    fields = ("estimator", "method", "description", "layer", "is_regression", "error")
    values = {key: _required(data, key, "data") for key in fields}
    return _made(
        Explanation,
        "data",
        targets=targets,
        image=_image_from_dict(data),
        provenance=data.get("provenance"),  # absent from dicts made before it was recorded
        source=data.get("source"),  # likewise
        **values,
    )


def _required(data: dict[str, Any], key: str, where: str) -> Any:
    if not isinstance(data, dict):
        raise bad_type(where, "a dict made by format_as_dict", data)
    if key not in data:
        raise bad_argument(
            where, f"a dict with the key {key!r} (as format_as_dict makes)", said("one without")
        )
    return data[key]


def _target_from_dict(entry: Any, where: str) -> TargetExplanation:
    fields = ("target", "target_name", "score", "proba", "heatmap")
    values = {key: _required(entry, key, where) for key in fields}
    # Dicts written before signed maps existed have no "attribution": None, as then.
    values["attribution"] = entry.get("attribution")
    values["box"] = entry.get("box")  # only a detection's target has one
    return _made(TargetExplanation, where, **values)


def _made(cls: type, where: str, **values: Any) -> Any:
    """``cls(**values)``; a field's error is re-raised with where the value came from."""
    try:
        return cls(**values)
    except (TypeError, ValueError) as error:
        raise type(error)(f"{where}: {error}") from None


def _image_from_dict(data: dict[str, Any]) -> Image.Image | None:
    encoded = data.get("image")
    if encoded is None:
        return None
    if not isinstance(encoded, str) or not encoded.startswith(_PNG_PREFIX):
        raise bad_argument("data['image']", "a base64 PNG data URI", said("something else"))
    try:
        image = Image.open(io.BytesIO(base64.b64decode(encoded[len(_PNG_PREFIX) :])))
        image.load()
    except Exception:  # binascii and PIL raise several types for one broken string
        raise bad_argument(
            "data['image']", "a base64 PNG data URI", said("one that is not a readable PNG")
        ) from None
    return image
