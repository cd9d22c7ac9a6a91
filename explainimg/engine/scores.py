"""What a score function returns, checked in one place for every kind of target.

Every target but a class id reaches the engine as a score function (``ClassScore``,
``SegmentationScore``, a user's own function, and every later target kind).
:func:`score_per_image` is the one place that calls it, on the explained output while the
compiled function is traced (before any gradient), and checks what comes back:

- a tensor computed with ``keras.ops``. Score functions are traced: the output they get is a
  symbolic tensor, so NumPy, ``float()`` and Python loops over the batch fail on it or return a
  Python list. Either way the error names ``targets[i]`` (i: the function's position in
  ``targets``) and points to ``keras.ops`` (TypeError);
- of floats, shape (batch,) or (batch, 1): exactly one score per image (ValueError otherwise).
  Besides the traced output, the function is also run on two probe batches of zeros (2 and 3
  images), so that the wrong number of scores is caught where the traced batch size is unknown
  (TensorFlow) or happens to equal the number of scores, and is described the same way on every
  backend, with ``batch`` for the batch size: ``(batch * 4,)``.

Whether the scores are finite is known only when they are computed: an image whose score is
NaN or inf gets an Explanation with ``error`` set (see :class:`explainimg.Explainer`), never a
NaN map.

>>> import numpy as np
>>> from keras import ops
>>> output = ops.zeros((5, 4))
>>> tuple(score_per_image(lambda out: out[:, 2:3], 0, output).shape)
(5,)
>>> def got(function):
...     try:
...         score_per_image(function, 0, output)
...     except (TypeError, ValueError) as error:
...         return type(error).__name__, str(error).split(", got ")[1].split(". ")[0]
>>> got(lambda out: ops.reshape(out, (-1,)))
('ValueError', 'shape (batch * 4,)')
>>> got(lambda out: out[0])
('ValueError', 'shape (4,)')
>>> got(lambda out: np.exp(out[:, 0]).tolist())
('TypeError', 'one that uses NumPy or Python on the output')
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import keras
import numpy as np
from keras import ops

from ..errors import bad_argument, bad_type, said
from .score_slots import ScoreSlot

Shape = tuple[int | None, ...]

PROBE_BATCHES = (2, 3)
"""The batch sizes of the zero batches a score function is also run on (two, so that a size
that grows with the batch is told from a fixed one)."""

TRACED = (
    "Score functions are traced: the output they get is a tensor of the whole batch (symbolic "
    "on TensorFlow and JAX), which NumPy and Python loops cannot use. Write, e.g., "
    "keras.ops.mean(output[:, 3:5], axis=1) instead of np.mean(output[:, 3:5], axis=1), "
    "and output[:, 0] instead of [row[0] for row in output]."
)
"""Why NumPy and Python loops fail in a score function, and what to write instead."""

_SHAPE = "one score per image, shape (batch,) or (batch, 1)"
_ONE_PER_IMAGE = f"a score function returning {_SHAPE}"
_REDUCE = (
    "Index or reduce every axis but the batch axis, e.g. output[:, 0] or "
    "keras.ops.mean(output, axis=1)."
)
_PACKAGE = str(Path(__file__).resolve().parent.parent)


def score_per_image(
    function: Callable[[Any], Any], index: int, output: Any, *, probe: bool = True
) -> Any:
    """``function(output)`` checked and as float32 of shape (batch,); ``index`` is the
    function's position in ``targets`` (errors name ``targets[index]``); ``probe``: also
    run it on the zero batches (not for a slot, whose numbers come one row per image)."""
    name = f"targets[{index}]"
    score = _called(function, name, output)
    probes = _probe_shapes(function, name, output) if probe else []
    shape = tuple(score.shape)
    probes_fit = all(_one_per_image(probe, count) for count, probe in probes)
    if not probes_fit or not _one_per_image(shape, output.shape[0]):
        described = "" if probes_fit else _described(probes)
        got = said(f"shape {described or _text(shape)}")
        raise bad_argument(name, _ONE_PER_IMAGE, got, hint=_REDUCE)
    return ops.reshape(ops.cast(score, "float32"), (-1,))


def custom_scores(
    functions: Sequence[Callable[[Any], Any] | ScoreSlot],
    output: Any,
    parameters: Sequence[Any] = (),
) -> list[Any]:
    """One checked (batch,) score per function, in ``targets`` order; a
    :class:`~explainimg.engine.score_slots.ScoreSlot` takes its numbers from ``parameters``
    (every slot's, in slot order)."""
    values = iter(parameters)
    scores = []
    for i, function in enumerate(functions):
        if isinstance(function, ScoreSlot):
            scored = partial(function.scored, values=[next(values) for _ in function.spec])
            scores.append(score_per_image(scored, i, output, probe=False))
        else:
            scores.append(score_per_image(function, i, output))
    return scores


def _called(function: Callable[[Any], Any], name: str, output: Any) -> Any:
    """``function(output)``, with tracing errors and non-tensor results named."""
    try:
        score = function(output)
    except (TypeError, NotImplementedError, RuntimeError) as error:
        if _raised_by_explainimg(error) or not _is_tracing_error(error):
            raise
        raise _untraceable(name) from error
    if isinstance(score, (list, tuple, np.ndarray, np.generic)):
        raise _untraceable(name)
    if not ops.is_tensor(score):
        raise bad_type(name, f"a score function returning a tensor of {_SHAPE}", score)
    dtype = keras.backend.standardize_dtype(score.dtype)
    if not dtype.startswith(("float", "bfloat")):
        raise bad_type(
            name,
            "a score function returning float scores (an integer or boolean score has no gradient)",
            said(f"{dtype} scores"),
        )
    return score


def _untraceable(name: str) -> TypeError:
    return bad_type(
        name,
        "a score function computed with keras.ops",
        said("one that uses NumPy or Python on the output"),
        hint=TRACED,
    )


def _is_tracing_error(error: BaseException) -> bool:
    """True for what NumPy, Python and the backends raise on a traced tensor: TypeErrors
    (TensorFlow's OperatorNotAllowedInGraphError, JAX's TracerArrayConversionError and
    ConcretizationTypeError, ``float()``/``len()``/``range()`` of a symbolic tensor or of its
    unknown batch size), NotImplementedError (NumPy on a symbolic TensorFlow tensor) and
    PyTorch's RuntimeError on NumPy conversion of a tensor that requires gradients."""
    if type(error) is RuntimeError:  # NotImplementedError is a RuntimeError too
        return "numpy()" in str(error)
    return True


def _raised_by_explainimg(error: BaseException) -> bool:
    """True when explainimg's own code raised ``error`` (a target object's argument check):
    that error already says what is wrong and goes on as it is."""
    traceback = error.__traceback__
    while traceback is not None and traceback.tb_next is not None:
        traceback = traceback.tb_next
    return traceback is not None and traceback.tb_frame.f_code.co_filename.startswith(_PACKAGE)


def _probe_shapes(
    function: Callable[[Any], Any], name: str, output: Any
) -> list[tuple[int, Shape]]:
    """(batch size, score shape) of ``function`` on zero batches of PROBE_BATCHES images
    shaped like ``output``; none when the output's other sizes are unknown."""
    rest = tuple(output.shape[1:])
    if any(size is None for size in rest):
        return []
    return [
        (count, tuple(_called(function, name, ops.zeros((count, *rest), "float32")).shape))
        for count in PROBE_BATCHES
    ]


def _one_per_image(shape: Shape, batch: int | None) -> bool:
    return len(shape) in (1, 2) and shape[0] == batch and shape[1:] in ((), (1,))


def _described(probes: list[tuple[int, Shape]]) -> str:
    """The score shape as a function of the batch size, from two probes: ``(batch * 4,)``,
    ``(batch, 4)``, ``(4,)``; "" when the probes disagree in rank."""
    (small, first), (large, second) = probes
    if len(first) != len(second):
        return ""
    sizes = []
    for a, b in zip(first, second, strict=True):
        if a == b:
            sizes.append(str(a))
        elif a is not None and b is not None and a * large == b * small and a % small == 0:
            per_image = a // small
            sizes.append("batch" if per_image == 1 else f"batch * {per_image}")
        else:
            sizes.append("?")
    return _text(sizes)


def _text(sizes: Sequence[Any]) -> str:
    inner = ", ".join(str(size) for size in sizes)
    return f"({inner},)" if len(sizes) == 1 else f"({inner})"
