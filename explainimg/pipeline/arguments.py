"""The checks of ``explainimg explain``'s arguments that need no Keras, made before TensorFlow
loads (5 to 8 s): a wrong option, file or folder is reported at once, with exit code 2.

>>> method_keys()[:3]
['gradcam', 'gradcam++', 'layercam']
>>> check_model_file("no/model.keras")
Traceback (most recent call last):
...
ValueError: model: expected a .keras model file, got 'no/model.keras', which is not a file
"""

from __future__ import annotations

import argparse
import ast
import zipfile
from pathlib import Path

from ..errors import bad_argument, said
from .image_files import check_destinations, find_images
from .label_files import folder_labels

_METHODS = Path(__file__).resolve().parent.parent / "methods"


def method_keys() -> list[str]:
    """The keys of :data:`explainimg.methods.METHODS`, in its order, read from the methods'
    source: importing them would load Keras before the arguments are checked
    (``tests/test_cli.py`` checks that the two agree)."""
    return [_class_key(module, name) for module, name in _registered_classes()]


def smoothable_method_keys() -> list[str]:
    """The keys of the CAM methods (built on ``methods.cam.ChannelCAM``, they take
    ``smooth=``), read from the source as :func:`method_keys` is."""
    return [
        _class_key(module, name) for module, name in _registered_classes() if _is_cam(module, name)
    ]


def _registered_classes() -> list[tuple[str, str]]:
    """(module, class name) of every class in METHODS, in its order."""
    package = ast.parse((_METHODS / "__init__.py").read_text(encoding="utf-8"))
    module_of = _relative_imports(package)
    (registry,) = (
        node.value
        for node in package.body
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "METHODS"
    )
    assert isinstance(registry, ast.DictComp)
    classes = registry.generators[0].iter
    assert isinstance(classes, ast.Tuple)
    return [(module_of[node.id], node.id) for node in classes.elts]


def _relative_imports(tree: ast.Module) -> dict[str, str]:
    """{name: module} of the ``from .module import name`` lines of ``tree``."""
    return {
        alias.name: node.module
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module
        for alias in node.names
    }


def _module_tree(module: str) -> ast.Module:
    return ast.parse((_METHODS / f"{module}.py").read_text(encoding="utf-8"))


def _class_node(tree: ast.Module, name: str) -> ast.ClassDef | None:
    found = [node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == name]
    return found[0] if found else None


def _class_key(module: str, name: str) -> str:
    cls = _class_node(_module_tree(module), name)
    assert cls is not None
    for node in cls.body:
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "key":
            assert isinstance(node.value, ast.Constant)
            return str(node.value.value)
    raise LookupError(f"{module}.{name} sets no key")


def _is_cam(module: str, name: str) -> bool:
    """True when class ``name`` of methods/``module``.py derives from ChannelCAM."""
    if name == "ChannelCAM":
        return True
    tree = _module_tree(module)
    cls = _class_node(tree, name)
    if cls is None:
        return False
    imported = _relative_imports(tree)
    bases = [base.id for base in cls.bases if isinstance(base, ast.Name)]
    return any(_is_cam(imported.get(base, module), base) for base in bases)


def check_model_file(path: str | Path) -> None:
    """An error unless ``path`` is a file, and for a ``.keras`` name a zip archive."""
    if not Path(path).is_file():
        got = said(f"{str(path)!r}, which is not a file")
        raise bad_argument("model", "a .keras model file", got)
    if Path(path).suffix == ".keras" and not zipfile.is_zipfile(path):
        got = said(f"{str(path)!r}, which is not a saved Keras model (not a zip archive)")
        raise bad_argument("model", "a .keras model file", got)


def _check_file_option(option: str, value: str | None, expected: str) -> None:
    if value is not None and not Path(value).is_file():
        raise bad_argument(option, expected, said(f"{value!r}, which is not a file"))


def check_combinations(args: argparse.Namespace) -> None:
    """Options that cannot go together, or need another; counts that must be positive."""
    for option, value in (("--batch-size", args.batch_size), ("--top", args.top)):
        if value is not None and value < 1:
            raise bad_argument(option, "a positive integer", value)
    if args.labels is not None and (args.top is not None or args.targets is not None):
        raise bad_argument(
            "--labels",
            "no --top or --targets (the audit explains the predicted and the true class)",
            said("both"),
        )
    if args.smooth is not None and args.method not in smoothable_method_keys():
        raise bad_argument(
            "--smooth",
            f"a CAM --method with it ({', '.join(smoothable_method_keys())})",
            said(f"--method {args.method}"),
        )
    if args.boxes is not None and args.labels is None:
        raise bad_argument("--boxes", "--labels too", said("--boxes alone"))
    if args.out is not None and args.labels is not None:
        raise bad_argument(
            "--out",
            "no --labels: an audit is not written as a resumable run folder (its report needs "
            "every image's explanation at once); write it with --html FILE",
            said(f"--labels {args.labels}"),
        )
    if args.out is not None and (args.html or args.overlays or args.json):
        raise bad_argument(
            "--out",
            "no --html, --overlays or --json (the run folder holds the report, overlays and "
            "results)",
            said("some"),
        )
    if args.resume and args.out is None:
        raise bad_argument("--resume", "--out DIR (the run to continue)", said("no --out"))


def check_out_folder(folder: str | None, *, resume: bool, manifest: str) -> None:
    """``--out`` names a new or empty folder, or with ``--resume`` one holding a run."""
    if folder is None:
        return
    path = Path(folder)
    if resume:
        if not (path / manifest).is_file():
            got = said(f"{folder!r}, which holds no run ({manifest} is missing)")
            raise bad_argument("--resume", "an --out folder of an earlier run", got)
    elif path.exists() and (not path.is_dir() or any(path.iterdir())):
        got = said(f"{folder!r}, which is not an empty folder")
        raise bad_argument("--out", "a new or empty folder (--resume continues a run)", got)


def _check_folder_labels(paths: list[Path], names: str | None) -> None:
    """``--labels folders``: folder names are class ids, or class names that need --names."""
    if names is not None:
        return
    for path, label in zip(paths, folder_labels(paths), strict=True):
        if not label.isdigit():
            raise bad_argument(
                f"--labels folders ({path})",
                "a folder named by a class id, or class names with --names",
                said(f"the folder name {label!r} and no --names"),
                hint="Give --names FILE (one class name per line, in the model's class order) "
                "to map folder names to class ids.",
            )


def checked_images(args: argparse.Namespace, manifest: str) -> tuple[list[Path], list[str]]:
    """Check every argument that needs no Keras; the images to explain and their names."""
    check_combinations(args)
    check_model_file(args.model)
    if args.names != "imagenet":
        _check_file_option(
            "--names", args.names, "a text file of class names, one per line, or 'imagenet'"
        )
    if args.labels not in (None, "folders"):
        _check_file_option("--labels", args.labels, "'folders' or a CSV file of file,label rows")
    _check_file_option("--boxes", args.boxes, "a CSV file of file,x0,y0,x1,y1 rows")
    paths, names = find_images(args.images)
    if args.labels == "folders":
        _check_folder_labels(paths, args.names)
    check_destinations(args.html, args.overlays, args.json)
    check_out_folder(args.out, resume=args.resume, manifest=manifest)
    return paths, names
