"""How concentrated is a map? Sparseness (a Gini index) and complexity (an entropy), NumPy only.

Both read a target's heatmap at its own resolution (one value per cell: upsampling would only
repeat cells) and its absolute values, so a signed map counts evidence of either sign.

- :func:`sparseness`: the Gini index of the values (Chalasani et al. 2020), 0 for a flat map,
  (n - 1) / n when all the heat sits in one of n cells. Higher: a sparser, more focused map.
- :func:`complexity`: the entropy of the values normalised to sum to 1 (Bhatt et al. 2020), in
  nats: 0 when one cell holds all the heat, ln n for a flat map. Lower: a simpler map.

A map with no heat at all has neither (an error says so, rather than a NaN).

>>> import numpy as np
>>> peaked = np.zeros((2, 2)); peaked[0, 1] = 1.0
>>> sparseness(peaked), complexity(peaked)
(0.75, 0.0)
>>> round(complexity(np.ones((2, 2))), 4) == round(float(np.log(4)), 4)
True
"""

from __future__ import annotations

import numpy as np

from ..errors import bad_argument, said
from ..explanation import Explanation, target_at


def _heat(subject: Explanation | np.ndarray, target: int) -> np.ndarray:
    """The absolute heat values of ``subject`` (an Explanation's target, or a map), flat."""
    if isinstance(subject, Explanation):
        values = target_at(subject, target).heatmap
        name = "expl"
    else:
        values = np.asarray(subject, dtype=np.float64)
        name = "heatmap"
        if values.ndim != 2 or values.size == 0 or not np.isfinite(values).all():
            raise bad_argument(name, "a non-empty 2-D array of finite values", values)
    heat = np.abs(np.asarray(values, dtype=np.float64)).ravel()
    if not heat.any():
        raise bad_argument(name, "a map with some heat", said("a map that is zero everywhere"))
    return heat


def sparseness(subject: Explanation | np.ndarray, *, target: int = 0) -> float:
    """The Gini index of the map of ``subject.targets[target]`` (or of a 2-D map): with the n
    absolute values a_1 <= ... <= a_n, sum_i (2i - n - 1) a_i / (n sum_i a_i).

    >>> sparseness(np.array([[1.0, 1.0], [1.0, 1.0]]))
    0.0
    """
    heat = np.sort(_heat(subject, target))
    n = heat.size
    ranks = np.arange(1, n + 1)
    return float(np.sum((2 * ranks - n - 1) * heat) / (n * np.sum(heat)))


def complexity(subject: Explanation | np.ndarray, *, target: int = 0) -> float:
    """The entropy -sum_i p_i ln p_i of the map's absolute values normalised to sum to 1
    (cells without heat add nothing).

    >>> complexity(np.array([[0.0, 2.0], [0.0, 2.0]])) == float(np.log(2))
    True
    """
    heat = _heat(subject, target)
    shares = heat[heat > 0] / heat.sum()
    return max(0.0, float(-np.sum(shares * np.log(shares))))  # never -0.0
