"""Rows of the op table for convolution, pooling and attention ops."""

ROWS = []
