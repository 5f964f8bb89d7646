"""PyTorch's ``*_copy`` functions (``torch.transpose_copy``, ``torch.split_copy``, ...): each
runs its view op and returns a copy of the result (a tuple of copies for the splitting ops),
so the output never shares memory with the input. Differentiable through the view op and
``clone``; ``out=`` as PyTorch's. Generated from one table, with PyTorch's signatures."""

from __future__ import annotations

from . import ops as _ops
from ._out import with_out
from .autograd.graph import named_as


def _slice(input, dim=0, start=None, end=None, step=1):
    index = [slice(None)] * input.ndim
    index[dim] = slice(start, end, step)
    return input[tuple(index)]


def _squeeze(input, dim=None):
    return input.squeeze() if dim is None else input.squeeze(dim)


def _expand(input, size, *, implicit=False):
    return input.expand(size)


# name -> (the view op, PyTorch's signature for the docstring)
VIEWS = {
    "alias_copy": (lambda input: input.view(input.shape), "(input)"),
    "detach_copy": (lambda input: input.detach(), "(input)"),
    "diagonal_copy": (
        lambda input, offset=0, dim1=0, dim2=1: input.diagonal(offset, dim1, dim2),
        "(input, offset=0, dim1=0, dim2=1)",
    ),
    "expand_copy": (_expand, "(input, size, *, implicit=False)"),
    "permute_copy": (lambda input, dims: input.permute(*dims), "(input, dims)"),
    "select_copy": (lambda input, dim, index: input.select(dim, index), "(input, dim, index)"),
    "slice_copy": (_slice, "(input, dim=0, start=None, end=None, step=1)"),
    "split_copy": (
        lambda input, split_size, dim=0: input.split(split_size, dim),
        "(input, split_size, dim=0)",
    ),
    "split_with_sizes_copy": (
        lambda input, split_sizes, dim=0: input.split_with_sizes(split_sizes, dim),
        "(input, split_sizes, dim=0)",
    ),
    "squeeze_copy": (_squeeze, "(input, dim=None)"),
    "t_copy": (lambda input: input.t(), "(input)"),
    "transpose_copy": (
        lambda input, dim0, dim1: input.transpose(dim0, dim1),
        "(input, dim0, dim1)",
    ),
    "unbind_copy": (lambda input, dim=0: input.unbind(dim), "(input, dim=0)"),
    "unfold_copy": (
        lambda input, dimension, size, step: input.unfold(dimension, size, step),
        "(input, dimension, size, step)",
    ),
    "unsqueeze_copy": (lambda input, dim: input.unsqueeze(dim), "(input, dim)"),
    "view_as_complex_copy": (_ops.view_as_complex, "(input)"),
    "view_as_real_copy": (_ops.view_as_real, "(input)"),
    "view_copy": (lambda input, size: input.view(size), "(input, size_or_dtype)"),
}


def _copy(view):
    """A copy of ``view`` whose node shows PyTorch's name for it: the view's, with ``_copy``
    (``TransposeBackward0_copy``)."""
    out = view.clone()
    if view.grad_fn is not None:
        named_as(out, view.grad_fn.name() + "_copy")
    return out


def _copy_function(name: str, view, signature: str):
    def fn(input, *args, **kwargs):
        out = view(input, *args, **kwargs)
        if isinstance(out, (tuple, list)):
            return tuple(_copy(part) for part in out)
        return _copy(out)

    base = name[: -len("_copy")]
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``{name}{signature}``: ``{base}`` followed by ``clone`` (never a view)."
    return fn


__all__ = sorted(VIEWS)
# with PyTorch's ``out=`` (a tensor, or a sequence of them for the splitting ops)
globals().update({name: with_out(_copy_function(name, *VIEWS[name])) for name in VIEWS})
