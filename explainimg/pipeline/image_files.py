"""Which image files a run explains, and how its results name them (no Keras here, so the
command line checks its arguments before TensorFlow loads).

A folder is searched with its subfolders, as ``keras.utils.image_dataset_from_directory``
lays out a data set (``photos/cat/1.jpg``), in sorted order, skipping hidden files and
folders; each image is named by its path relative to the folder given (``cat/1.jpg``), a file
named on its own by its file name. Names must be unique within a run: results, reports,
overlays and ``--resume`` go by them.

>>> import tempfile
>>> root = Path(tempfile.mkdtemp())
>>> for name in ("dog/2.png", "cat/1.jpg", "cat/.hidden.png", "notes.txt"):
...     (root / name).parent.mkdir(exist_ok=True)
...     _ = (root / name).write_bytes(b"")
>>> paths, names = find_images([root])
>>> names
['cat/1.jpg', 'dog/2.png']
>>> find_images([root / "cat"]) == ([root / "cat" / "1.jpg"], ["1.jpg"])
True
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ..errors import bad_argument, said

IMAGE_SUFFIXES = (".bmp", ".gif", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp")
"""File name endings searched for in folders (any case)."""


def _folder_images(folder: Path) -> list[Path]:
    """Image files under ``folder``, subfolders included, sorted by their relative path."""
    found = []
    for top, folders, files in os.walk(folder):
        folders[:] = [name for name in folders if not name.startswith(".")]
        found += [
            Path(top, name)
            for name in files
            if not name.startswith(".") and Path(name).suffix.lower() in IMAGE_SUFFIXES
        ]
    return sorted(found, key=lambda path: path.relative_to(folder).parts)


def find_images(arguments: Sequence[str | Path]) -> tuple[list[Path], list[str]]:
    """The files named and the image files under the folders named, with their names.

    Raises when an argument does not exist, when no image is found (naming the folders and
    the extensions looked for) and when two images would get the same name.
    """
    paths: list[Path] = []
    names: list[str] = []
    for argument in map(Path, arguments):
        if argument.is_dir():
            found = _folder_images(argument)
            paths += found
            names += [path.relative_to(argument).as_posix() for path in found]
        elif argument.exists():
            paths.append(argument)
            names.append(argument.name)
        else:
            got = said(f"{str(argument)!r}, which does not exist")
            raise bad_argument("images", "image files or folders of images", got)
    if not paths:
        folders = ", ".join(repr(str(argument)) for argument in arguments)
        raise bad_argument(
            "images",
            f"image files ({', '.join(IMAGE_SUFFIXES)}) in {folders} or its subfolders",
            said("none"),
        )
    _check_unique(paths, names)
    return paths, names


def _check_unique(paths: Sequence[Path], names: Sequence[str]) -> None:
    first: dict[str, Path] = {}
    for path, name in zip(paths, names, strict=True):
        if name in first:
            raise bad_argument(
                "images",
                "images of different names (a file's name, or its path inside the folder given)",
                said(f"{str(first[name])!r} and {str(path)!r}, both named {name!r}"),
                hint="Give the folder that holds both instead.",
            )
        first[name] = path


def check_destinations(html: str | None, overlays: str | None, json_path: str | None) -> None:
    """An error before any work when an output cannot be written where it was asked for."""
    for option, file in (("--html", html), ("--json", json_path)):
        if file is None:
            continue
        folder = Path(file).parent
        if Path(file).is_dir() or not folder.is_dir():
            raise bad_argument(
                option,
                "a file path in an existing folder",
                said(f"{file!r} ({'a folder' if Path(file).is_dir() else 'no such folder'})"),
            )
    if overlays is not None and Path(overlays).exists() and not Path(overlays).is_dir():
        raise bad_argument("--overlays", "a folder", said(f"{overlays!r}, which is a file"))
