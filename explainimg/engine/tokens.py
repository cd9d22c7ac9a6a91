"""Vision-transformer tokens as a feature map.

A transformer layer outputs a token sequence (batch, tokens, dim): a few tokens that are not
image patches (class, distillation or register tokens, at the front) followed by one token
per patch, row by row. :func:`infer_grid` finds the patch grid (h, w) from the number of
tokens and the image's aspect ratio, taking the fewest non-patch tokens that leave a grid of
the image's shape; :func:`to_grid` drops the leading non-patch tokens and reshapes the rest
to (batch, h, w, dim), so every CAM method works on transformers as on CNNs. Pass
``token_grid=(h, w)`` where the grid cannot be inferred.

>>> infer_grid(65, (32, 32))  # ViT: 1 class token + 8x8 patches
TokenGrid(height=8, width=8, skip=1)
>>> infer_grid(66, (32, 32))  # DeiT: class and distillation tokens
TokenGrid(height=8, width=8, skip=2)
>>> infer_grid(12, (48, 64))  # no class token, 3:4 image
TokenGrid(height=3, width=4, skip=0)
"""

from __future__ import annotations

import math
from typing import Any

import attrs
from keras import ops

from ..errors import bad_argument, bad_type, said

MAX_EXTRA_TOKENS = 8


@attrs.frozen
class TokenGrid:
    """Patch grid of a token sequence: ``skip`` leading tokens, then height x width patches."""

    height: int
    width: int
    skip: int

    def __call__(self, tokens: Any) -> Any:
        return to_grid(tokens, self)


def _fits(count: int, image_size: tuple[int, int]) -> tuple[int, int] | None:
    image_height, image_width = image_size
    height = round(math.sqrt(count * image_height / image_width))
    if height < 1 or count % height:
        return None
    width = count // height
    # Square patches: the same patch size along both axes, up to a pixel of rounding.
    if abs(image_height / height - image_width / width) >= 1:
        return None
    return height, width


def infer_grid(tokens: int, image_size: tuple[int | None, int | None]) -> TokenGrid | None:
    """The patch grid of ``tokens`` tokens for an image of ``image_size`` (H, W), or None."""
    if image_size[0] is None or image_size[1] is None:
        return None
    for skip in range(0, min(MAX_EXTRA_TOKENS, tokens - 1) + 1):
        fit = _fits(tokens - skip, (int(image_size[0]), int(image_size[1])))
        if fit is not None:
            return TokenGrid(fit[0], fit[1], skip)
    return None


def checked_grid(token_grid: Any, tokens: int, where: str) -> TokenGrid:
    """``token_grid=(h, w)`` from the user, checked against ``tokens`` tokens of ``where``."""
    if (
        not isinstance(token_grid, (tuple, list))
        or len(token_grid) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in token_grid)
    ):
        raise bad_type("token_grid", "a pair of integers (height, width)", token_grid)
    height, width = token_grid
    if height < 1 or width < 1 or height * width > tokens:
        raise bad_argument(
            "token_grid",
            f"(height, width) with height * width between 1 and the {tokens} tokens of {where}",
            tuple(token_grid),
        )
    return TokenGrid(height, width, tokens - height * width)


def grid_error(tokens: int, where: str, image_size: tuple[int | None, int | None]) -> Exception:
    """The error for a token layer whose patch grid cannot be inferred."""
    return bad_argument(
        "token_grid",
        "(height, width) of the patch grid",
        said(
            f"None, and the {tokens} tokens of {where} form no grid of the image's "
            f"{image_size[0]}x{image_size[1]} shape after dropping up to "
            f"{MAX_EXTRA_TOKENS} leading tokens"
        ),
    )


def to_grid(tokens: Any, grid: TokenGrid) -> Any:
    """(B, T, D) tokens -> (B, height, width, D), dropping the ``skip`` leading tokens."""
    patches = tokens[:, grid.skip :, :]
    return ops.reshape(patches, (-1, grid.height, grid.width, patches.shape[-1]))
