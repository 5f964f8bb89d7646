"""The text picture of a :class:`BlockMask` (``str(block_mask)``, ``block_mask.to_string()``)."""

from __future__ import annotations

import itertools

import numpy as np

# A picture cell stands for one block, or a group of blocks when there are too many: empty,
# partly computed, or fully computed.
_SHADES = ("  ", "░░", "██")


def _cell(fraction: float) -> str:
    if fraction <= 0.0:
        return _SHADES[0]
    return _SHADES[2] if fraction >= 1.0 else _SHADES[1]


def _picture(blocks: np.ndarray, grid_size) -> str:
    """Rows of cells for one (nQ, nKV) 0/1 block array, pooled down to at most grid_size."""
    rows, cols = blocks.shape
    gr, gc = (grid_size, grid_size) if isinstance(grid_size, int) else tuple(grid_size)
    step_r, step_c = -(-rows // max(gr, 1)), -(-cols // max(gc, 1))
    lines = []
    for r in range(0, rows, step_r):
        cells = [
            _cell(blocks[r : r + step_r, c : c + step_c].mean()) for c in range(0, cols, step_c)
        ]
        lines.append("".join(cells))
    return "\n".join(lines)


def block_mask_string(mask, grid_size=(20, 20), limit: int = 4) -> str:
    """The pictures of the first ``limit`` (batch, head) pairs, each under its ``(b, h)``."""
    dense = np.asarray(mask.to_dense().cpu()._data)
    nb, nh = dense.shape[:2]
    pictures = []
    for count, (b, h) in enumerate(itertools.product(range(nb), range(nh))):
        if count >= limit:
            pictures.append(
                "...\nTo print out more, set BlockMask.to_string(limit=N)\nYou can also index "
                "(BlockMask[batch, head]) to choose a specific batch or head"
            )
            break
        pictures.append(f"({b}, {h})\n{_picture(dense[b, h], grid_size)}")
    truncated = len(pictures) > limit
    return "\n\n".join(pictures) + ("" if truncated else "\n")


def block_mask_str(mask) -> str:
    """``str(block_mask)``: its shape, sparsity and :func:`block_mask_string`."""
    head = f"BlockMask(shape={mask.shape}, sparsity={mask.sparsity():.2f}%, "
    body = block_mask_string(mask)
    newline = "" if body.endswith("\n") else "\n"
    return f"{head}\n{body}{newline})"
