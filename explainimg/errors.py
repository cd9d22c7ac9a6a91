"""Errors raised by explainimg, and the one way their messages are worded.

Every complaint about an argument says which argument, what was expected and what came::

    >>> str(bad_argument("top", "an integer between 1 and 10", 12))
    'top: expected an integer between 1 and 10, got 12'
"""

from __future__ import annotations

from typing import Any


class ExplanationError(RuntimeError):
    """The model and arguments were valid, but no trustworthy explanation could be made."""


def describe(value: Any) -> str:
    """A short description of ``value`` for error messages (type, shape, no data dumps)."""
    shape = getattr(value, "shape", None)
    if shape is not None and not isinstance(value, (int, float)):
        dims = tuple(None if d is None else int(d) for d in shape)
        return f"{type(value).__name__} of shape {dims}"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (bool, int, float)) or value is None:
        return repr(value)
    if isinstance(value, (list, tuple)) and len(value) <= 10:
        return repr(value)
    return type(value).__name__


def bad_argument(name: str, expected: str, got: Any, *, hint: str = "") -> ValueError:
    """A ValueError naming the argument, what was expected and what came."""
    got_text = got if isinstance(got, _Said) else describe(got)
    message = f"{name}: expected {expected}, got {got_text}"
    return ValueError(f"{message}. {hint}" if hint else message)


def bad_type(name: str, expected: str, got: Any, *, hint: str = "") -> TypeError:
    """A TypeError naming the argument, the expected type and the type that came (or, for
    text marked with :func:`said`, that text).

    >>> str(bad_type("top", "an integer", 2.5, hint="Use top=2."))
    'top: expected an integer, got float. Use top=2.'
    """
    got_text = got if isinstance(got, _Said) else type(got).__name__
    message = f"{name}: expected {expected}, got {got_text}"
    return TypeError(f"{message}. {hint}" if hint else message)


class _Said(str):
    """Text already worded for a message; ``bad_argument`` uses it as is."""


def said(text: str) -> _Said:
    """Mark ``text`` as a ready description of what came (e.g. ``said("shape (2, 8)")``)."""
    return _Said(text)
