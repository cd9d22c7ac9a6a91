"""Checks that every target shares: class ids, indices below an output's size, an output's
rank, each with an error naming the argument.

>>> check_under("class_id", 2, 3) is None
True
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from ..errors import bad_argument, bad_type, said


def class_id_check(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    """An attrs validator: ``value`` is a class id (an integer >= 0)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise bad_type(attribute.name, "a class id (an integer >= 0)", value)
    if value < 0:
        raise bad_argument(attribute.name, "a class id (an integer >= 0)", value)


def check_below(name: str, value: int, output: Any) -> None:
    """A clear error when index ``value`` is past the output's last axis."""
    check_under(name, value, output.shape[-1])


def check_under(name: str, value: int, size: int | None) -> None:
    """A clear error when index ``value`` is not below ``size`` (None: not known yet)."""
    if size is not None and value >= size:
        raise bad_argument(name, f"an index below the output's {size} units", value)


def check_rank(output: Any, rank: int, expected: str, score: Any, *, hint: str = "") -> None:
    """A clear error unless the output has ``rank`` axes, as score function ``score`` needs."""
    if len(output.shape) != rank:
        raise bad_argument(
            "targets",
            f"{expected} for {type(score).__name__}",
            said(f"output shape {tuple(output.shape)}"),
            hint=hint,
        )
