"""Data shipped with explainimg for ImageNet demos: class names and a few real photos.

The files live in ``explainimg/data/`` (see ``imagenet_classes.PROVENANCE.md`` and
``photos/PROVENANCE.md`` there for where they come from and their licences).

>>> names = imagenet_class_names()
>>> len(names), names[282], names[967]
(1000, 'tiger cat', 'espresso')
>>> {name: photo.size for name, photo in sample_photos().items()}
{'chelsea': (451, 300), 'coffee': (450, 300)}
>>> {name: names[class_id] for name, class_id in SAMPLE_PHOTO_CLASSES.items()}
{'chelsea': 'tiger cat', 'coffee': 'espresso'}
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from PIL import Image

_DATA = resources.files("explainimg") / "data"
_CLASS_NAMES_FILE = "imagenet_classes.txt"
_PHOTOS = "photos"
NUM_IMAGENET_CLASSES = 1000

# The ImageNet-1k class each shipped photo shows (Chelsea is a tabby-striped cat: the model
# spreads her over tiger cat 282, Egyptian cat 285 and tabby 281; 282 is the label chosen here).
SAMPLE_PHOTO_CLASSES: dict[str, int] = {"chelsea": 282, "coffee": 967}


@cache
def _class_names() -> tuple[str, ...]:
    text = (_DATA / _CLASS_NAMES_FILE).read_text(encoding="utf-8")
    names = tuple(line.strip() for line in text.splitlines() if line.strip())
    if len(names) != NUM_IMAGENET_CLASSES:
        raise RuntimeError(
            f"{_CLASS_NAMES_FILE}: expected {NUM_IMAGENET_CLASSES} class names, got "
            f"{len(names)} (the installed explainimg package is damaged)"
        )
    return names


def imagenet_class_names() -> list[str]:
    """The 1000 ImageNet-1k class names; index = class id (282 -> ``"tiger cat"``).

    Each is the first WordNet synonym of the original label, made unique where two classes
    share it (``"crane (bird)"`` 134, ``"crane (machine)"`` 517). A new list every call.

    >>> imagenet_class_names()[281:283]
    ['tabby', 'tiger cat']
    """
    return list(_class_names())


def sample_photos() -> dict[str, Image.Image]:
    """The shipped photos by name, as loaded RGB PIL images (a fresh copy every call).

    ``SAMPLE_PHOTO_CLASSES[name]`` is the ImageNet class each one shows. For a 224x224 model
    resize first, with the filter explainimg uses itself (bilinear):
    ``np.asarray(photo.resize((224, 224), Image.BILINEAR), dtype="float32")``.

    >>> sorted(sample_photos())
    ['chelsea', 'coffee']
    """
    photos = {}
    for entry in sorted((_DATA / _PHOTOS).iterdir(), key=lambda item: item.name):
        if entry.name.endswith(".jpg"):
            with entry.open("rb") as file, Image.open(file) as image:
                photos[entry.name.removesuffix(".jpg")] = image.convert("RGB")
    return photos
