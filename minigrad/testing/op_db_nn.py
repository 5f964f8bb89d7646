"""Rows of the op table for ``minigrad.nn.functional``'s fused ops (norms, softmax, losses)."""

ROWS = []
