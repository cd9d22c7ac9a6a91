"""Score functions that differ only in numbers share one compiled function.

A detector's detections are score functions of one kind
(:class:`~explainimg.targets.DetectionScore`, :class:`~explainimg.targets.DetectionSimilarity`)
that change from image to image only in numbers: which anchors, which class, which box.
Baked into the compiled call, each image's functions would trace the model again (seconds
per image). Such a function tells its numbers (``parameters(output_shape)``: a dict of NumPy
arrays, None when it cannot) and scores a batch from them (``batched(output, parameters)``,
a static method: one per type). The plan is then keyed on one :class:`ScoreSlot` per target
(the type and the shapes of its numbers), and the numbers enter the compiled call as inputs,
one row per image, after the model's other inputs: the methods that perturb images take them
by row as they take those inputs.

>>> from explainimg.targets import DetectionSimilarity
>>> first = DetectionSimilarity(0, (0, 0, 8, 8), (1.0, 0.0))
>>> second = DetectionSimilarity(1, (4, 4, 9, 9), (0.0, 1.0))
>>> (group,) = scoring_groups([(first,), (second,)], output_shape=(None, 10, 2))
>>> group.rows, [slot.score_type.__name__ for slot in group.functions]
([0, 1], ['DetectionSimilarity'])
>>> [values.shape for values in group.parameters]
[(2, 4), (2, 2)]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np

Shape = Sequence[int | None] | None


@attrs.frozen
class ScoreSlot:
    """Stands for the score function of one target position in a compiled call: its type
    (``score_type``, which has a static ``batched``) and the (name, shape, dtype) of each
    number it gets per image (``spec``)."""

    score_type: type
    spec: tuple[tuple[str, tuple[int, ...], str], ...]

    @property
    def gives_confidence(self) -> bool:
        return bool(getattr(self.score_type, "gives_confidence", False))

    @property
    def input_specs(self) -> list[tuple[tuple[int | None, ...], str]]:
        """The compiled call's input specs for this slot's numbers (batch axis open)."""
        return [((None, *shape), dtype) for _, shape, dtype in self.spec]

    def scored(self, output: Any, values: Sequence[Any]) -> Any:
        """The scores of a batch whose rows bring ``values`` (in ``spec`` order)."""
        names = [name for name, _, _ in self.spec]
        return self.score_type.batched(output, dict(zip(names, values, strict=True)))


def _slotted(functions: Sequence[Any], output_shape: Shape) -> tuple[tuple, list] | None:
    """(slots, flat parameter arrays) of one image's functions, or None unless every one
    tells its numbers."""
    slots, values = [], []
    for function in functions:
        tell = getattr(function, "parameters", None)
        numbers = tell(tuple(output_shape or ())) if callable(tell) else None
        if numbers is None:
            return None
        arrays = {name: np.asarray(value) for name, value in numbers.items()}
        spec = tuple((name, a.shape, a.dtype.name) for name, a in arrays.items())
        slots.append(ScoreSlot(type(function), spec))
        values.extend(arrays.values())
    return tuple(slots), values


@attrs.frozen
class ScoringGroup:
    """Images explained in one compiled call: their positions in the batch (``rows``), what
    the plan is keyed on (``functions``: slots, or the functions themselves when they don't
    tell numbers) and the numbers, one (rows, ...) array per slot number."""

    rows: list[int]
    functions: tuple[Any, ...]
    parameters: list[np.ndarray]


def scoring_groups(per_image: Sequence[Sequence[Any]], output_shape: Shape) -> list[ScoringGroup]:
    """The images of a batch, each with its own score functions (``per_image``), grouped so
    that each group runs as one compiled call: images whose functions fill the same slots,
    or, for functions that don't tell numbers, the same functions; in order of first row."""
    groups: list[tuple[tuple, list[int], list[list]]] = []
    for row, functions in enumerate(per_image):
        slotted = _slotted(functions, output_shape)
        key, values = slotted if slotted is not None else (tuple(functions), [])
        for group_key, rows, columns in groups:
            if group_key == key:
                rows.append(row)
                columns.append(values)
                break
        else:
            groups.append((key, [row], [values]))
    return [
        ScoringGroup(rows, key, [np.stack(column) for column in zip(*columns, strict=True)])
        for key, rows, columns in groups
    ]
