"""Run the Python code blocks of a Markdown page, in order, in one namespace.

Used by the test suite (every ```python block in docs/ must run) and by
``docs/make_figures.py``: a block whose first line is ``# figure: NAME.png`` has its last
expression (a PIL image or a matplotlib figure) saved as ``docs/figures/NAME.png``.

Every page starts from :func:`doc_namespace`: the real demo model and photos under the names
the pages use (``model``, ``x``, ``photo``, ``names``, ``images``, ``batch``, box and mask of
the cat's face).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
FIGURE = re.compile(r"^# figure: ([\w.-]+\.png)\s*$")
# The cat's face in the 224x224 input made from the chelsea photo (top, left, bottom, right).
FACE_BOX = (64, 56, 208, 176)


def code_blocks(page: Path) -> list[str]:
    """The ```python blocks of a Markdown file."""
    return BLOCK.findall(page.read_text())


def doc_namespace() -> dict[str, Any]:
    """The names every page may use without defining them."""
    import numpy as np

    import explainimg as ei
    from explainimg.demo.zoo import efficientnet_lite0, imagenet_class_names, sample_photos

    model = efficientnet_lite0()
    photos = sample_photos()
    photo = photos["chelsea"]

    def as_input(picture: Any) -> np.ndarray:
        return np.asarray(picture.convert("RGB").resize((224, 224)), dtype=np.float32)

    images = [as_input(picture) for picture in photos.values()]
    top, left, bottom, right = FACE_BOX
    object_mask = np.zeros((224, 224), dtype=bool)
    object_mask[top : bottom + 1, left : right + 1] = True
    return {
        "ei": ei,
        "np": np,
        "model": model,
        "names": imagenet_class_names(),
        "photo": photo,
        "original_pil": photo,
        "x": as_input(photo),
        "images": images,
        "batch": np.stack(images),
        "top": top,
        "left": left,
        "bottom": bottom,
        "right": right,
        "object_mask": object_mask,
    }


def run_block(code: str, namespace: dict[str, Any]) -> Any:
    """Execute ``code``; return the value of its last statement when that is an expression."""
    tree = ast.parse(code)
    last = tree.body[-1] if tree.body else None
    if isinstance(last, ast.Expr):
        exec(compile(ast.Module(tree.body[:-1], []), "<doc>", "exec"), namespace)
        return eval(compile(ast.Expression(last.value), "<doc>", "eval"), namespace)
    exec(compile(tree, "<doc>", "exec"), namespace)
    return None


def run_page(
    page: Path,
    namespace: dict[str, Any],
    on_figure: Callable[[str, Any], None] | None = None,
) -> Iterator[int]:
    """Run every block of ``page``; yields each block's number after it ran."""
    for number, code in enumerate(code_blocks(page), start=1):
        value = run_block(code, namespace)
        marker = FIGURE.match(code.splitlines()[0]) if code.strip() else None
        if marker and on_figure is not None:
            on_figure(marker.group(1), value)
        yield number
