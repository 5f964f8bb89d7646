"""Turning op-table samples into minigrad and PyTorch arguments, and comparing results."""

from __future__ import annotations

import numpy as np

import minigrad
from minigrad.testing.samples import Index, Mask, Typed, make_arrays, wants_grad


def build(op, index, m, dtype_name="float64", device="cpu"):
    """The sample's arguments for module ``m`` (minigrad or torch), and which need grad."""
    specs = op.samples[index].args
    args, grad_args = [], []
    for spec, a in zip(specs, make_arrays(op, index)):
        if not isinstance(a, np.ndarray):
            args.append(a)
            continue
        if isinstance(spec, (Index, Mask, Typed)):
            t = _to(m, a, None, device)
        else:
            t = _to(m, a.astype(dtype_name), dtype_name, device)
            if op.grad and wants_grad(spec):
                t.requires_grad_(True)
                grad_args.append(t)
        args.append(t)
    return args, grad_args


def _to(m, a, dtype_name, device):
    if m is minigrad:
        if device == "cpu":
            return minigrad.as_tensor(a)  # keeps non-contiguous (transposed) layouts
        return minigrad.tensor(a, device=device)
    return m.tensor(a) if dtype_name is None else m.tensor(a, dtype=getattr(m, dtype_name))


def outputs(result) -> list:
    """A result as a flat list (tuples, named tuples and lists of tensors)."""
    if isinstance(result, (tuple, list)):
        return [x for r in result for x in outputs(r)]
    return [result]


def to_numpy(t) -> np.ndarray:
    if isinstance(t, minigrad.Tensor):
        return t.detach().cpu().numpy()
    if hasattr(t, "detach"):
        return t.detach().cpu().numpy()
    return np.asarray(t)
