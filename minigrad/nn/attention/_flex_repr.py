"""The text picture of a :class:`BlockMask` (``str(block_mask)``, ``block_mask.to_string()``)."""

from __future__ import annotations

import itertools

import numpy as np

# Shades by the fraction of computed blocks a picture cell stands for (when blocks are pooled).
_SHADES = ("  ", "░░", "▒▒", "▓▓", "██")


def _cell(fraction: float) -> str:
    if fraction <= 0.0:
        return _SHADES[0]
    if fraction >= 1.0:
        return _SHADES[-1]
    return _SHADES[1 + min(int(fraction * 3), 2)]


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
    """``BlockMask(shape=..., sparsity=..%,`` then the picture of each (batch, head) pair."""
    dense = np.asarray(mask.to_dense().cpu()._data)
    nb, nh = dense.shape[:2]
    out = [f"BlockMask(shape={mask.shape}, sparsity={mask.sparsity():.2f}%, "]
    for count, (b, h) in enumerate(itertools.product(range(nb), range(nh))):
        if count >= limit:
            out.append("...")
            out.append("To print out more, set BlockMask.to_string(limit=N)")
            out.append(
                "You can also index (BlockMask[batch, head]) to choose a specific batch or head"
            )
            break
        out.append(f"({b}, {h})")
        out.append(_picture(dense[b, h], grid_size))
        out.append("")
    if out[-1] == "":
        out.pop()
    out.append(")")
    return "\n".join(out)
