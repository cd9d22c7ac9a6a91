"""Run the Python code blocks of a Markdown page, in order, in one namespace.

Used by the test suite (every ```python block in docs/ must run) and by
``docs/make_figures.py``: a block whose first line is ``# figure: NAME.png`` has its last
expression (a PIL image or a matplotlib figure) saved as ``docs/figures/NAME.png``.

Every page runs in a fresh namespace: its first block sets up what its examples use (most
pages load the demo model and photos), so any page can be copied and run on its own.
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


def code_blocks(page: Path) -> list[str]:
    """The ```python blocks of a Markdown file."""
    return BLOCK.findall(page.read_text())


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
