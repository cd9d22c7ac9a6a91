"""Class activation maps from channel weights: the part Grad-CAM, Grad-CAM++ and Score-CAM share.

>>> import numpy as np
>>> from keras import ops
>>> maps = weighted_sum(np.ones((1, 2, 2, 3)), np.array([[1.0, -1.0, 2.0]]))
>>> ops.convert_to_numpy(maps).tolist()
[[[2.0, 2.0], [2.0, 2.0]]]
"""

from __future__ import annotations

from typing import Any

from keras import ops


def weighted_sum(activations: Any, weights: Any) -> Any:
    """ReLU(sum_k w_k A_k): (B, h, w, c) activations, (B, c) weights -> (B, h, w)."""
    return ops.relu(ops.einsum("bhwc,bc->bhw", activations, weights))
