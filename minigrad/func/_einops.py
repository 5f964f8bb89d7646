"""``rearrange``: einops-style reordering of a tensor's axes, as ``torch.func.rearrange``.

A pattern such as ``"b (h1 h) w c -> (b h1) h w c"`` names each axis of the input (left) and
of the result (right); parentheses group axes that share one dimension, ``...`` stands for the
axes not named, ``1`` and ``()`` are axes of length 1. The result is one ``reshape`` into the
elementary axes, one ``permute`` and one ``reshape`` into the groups of the right side: a view
of the input where the strides allow, as PyTorch's.
"""

from __future__ import annotations

import math
import re

from ..tensor import Tensor

_ELLIPSIS = "…"  # the ellipsis as one token; its axes become "…0", "…1", ...
_TOKEN = re.compile(r"\(|\)|…|[^\s()…]+")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")


class DimensionBindError(Exception):
    """A length that does not fit: a group's size is not the product of its axes' lengths."""


def rearrange(tensor, pattern: str, **axes_lengths) -> Tensor:
    """``tensor`` (or a sequence of tensors, stacked first) with its axes reordered, split and
    merged as ``pattern`` says; ``axes_lengths`` give the lengths that the input cannot tell
    (one unknown per group at most).

    Example:
        >>> x = minigrad.zeros(32, 30, 40, 3)
        >>> rearrange(x, "b (h1 h) (w1 w) c -> (b h1 w1) h w c", h1=2, w1=2).shape
        minigrad.Size([128, 15, 20, 3])

    Raises:
        ValueError: a malformed pattern, a name on one side only or repeated, a pattern whose
            left side does not have ``tensor.ndim`` axes, a length of an axis not in it.
        DimensionBindError: a group's length is not a multiple of its known axes' lengths.
    """
    if not isinstance(tensor, Tensor):
        from ..ops.joining import stack

        tensor = stack(list(tensor))
    if pattern.count("->") != 1:
        raise ValueError("Pattern must contain a single '->' separator")
    left_text, right_text = pattern.replace("...", _ELLIPSIS).split("->")
    left, right = _groups(left_text, "left"), _groups(right_text, "right")
    for side, other, name in ((right, left, "right"), (left, right, "left")):
        if _has_ellipsis(side) and not _has_ellipsis(other):
            other_name = "left" if name == "right" else "right"
            raise ValueError(
                f"Ellipsis found in {name} side, but not {other_name} side of a pattern {pattern}"
            )
    n_named = sum(1 for g in left if g != [_ELLIPSIS])
    has_ellipsis = [_ELLIPSIS] in left
    if len(left) != tensor.ndim and not (has_ellipsis and n_named <= tensor.ndim):
        raise ValueError(
            f"Number of dimensions in pattern ({len(left)}) must be equal to the number of "
            f"dimensions in the tensor ({tensor.ndim})"
        )
    n_rest = tensor.ndim - n_named
    left, right = _expand(left, n_rest), _expand(right, n_rest)
    names_left = [a for g in left for a in g if a != "1"]
    names_right = [a for g in right for a in g if a != "1"]
    if set(names_left) != set(names_right):
        one_side = set(names_left) ^ set(names_right)
        raise ValueError(
            f"Identifiers only on one side of rearrange expression (should be on both): {one_side}"
        )
    unknown = set(axes_lengths) - set(names_left)
    if unknown:
        raise ValueError(f"Identifiers not found in rearrange expression: {unknown}")
    lengths = _bind(left, tensor.shape, axes_lengths)
    flat = tensor.reshape([lengths[a] for a in names_left])
    moved = flat.permute([names_left.index(a) for a in names_right])
    return moved.reshape([math.prod(lengths.get(a, 1) for a in g) for g in right])


def _groups(text: str, side: str) -> list[list[str]]:
    """The axes of one side of a pattern, group by group (a bare name is a group of one)."""
    groups, current = [], None
    for token in _TOKEN.findall(text):
        if token == "(":
            if current is not None:
                raise ValueError(f"rearrange: nested parentheses in the {side} side of the pattern")
            current = []
        elif token == ")":
            if current is None:
                raise ValueError(f"rearrange: unbalanced parentheses in the {side} side")
            groups.append(current)
            current = None
        else:
            if token not in ("1", _ELLIPSIS) and not _NAME.match(token):
                if token.isdigit():
                    raise ValueError("rearrange only supports unnamed axes of size 1")
                raise ValueError(f"rearrange: invalid axis name {token!r} in the pattern")
            if token == _ELLIPSIS and current is not None and side == "left":
                raise ValueError("rearrange: an ellipsis in parentheses on the left side")
            if current is None:
                groups.append([token])
            else:
                current.append(token)
    if current is not None:
        raise ValueError(f"rearrange: unbalanced parentheses in the {side} side")
    names = [a for g in groups for a in g if a != "1"]
    for name in names:
        if names.count(name) > 1:
            if name == _ELLIPSIS:
                raise ValueError(
                    "Expression may contain dots only inside ellipsis (...); only one ellipsis "
                    "for tensor "
                )
            raise ValueError(f"Indexing expression contains duplicate dimension '{name}'")
    return groups


def _has_ellipsis(groups: list[list[str]]) -> bool:
    return any(_ELLIPSIS in g for g in groups)


def _expand(groups: list[list[str]], n_rest: int) -> list[list[str]]:
    """The ellipsis replaced by the ``n_rest`` axes it stands for: separate axes at the top
    level, one group inside parentheses."""
    rest = [f"{_ELLIPSIS}{i}" for i in range(n_rest)]
    out = []
    for group in groups:
        if group == [_ELLIPSIS]:
            out.extend([a] for a in rest)
        else:
            out.append([a for name in group for a in (rest if name == _ELLIPSIS else [name])])
    return out


def _bind(left: list[list[str]], shape, axes_lengths: dict) -> dict[str, int]:
    """The length of every elementary axis: from ``axes_lengths``, or the one unknown of a
    group from the group's size."""
    lengths = {}
    for group, size in zip(left, shape):
        known = [axes_lengths[a] for a in group if a in axes_lengths]
        missing = [a for a in group if a not in axes_lengths and a != "1"]
        if "1" in group and size != 1 and len(group) == 1:
            raise ValueError(f"rearrange: an axis of length 1 ('1') where the tensor has {size}")
        if len(missing) > 1:
            raise DimensionBindError(
                f"rearrange: cannot infer the lengths of {missing} from one dimension of {size}"
            )
        product = math.prod(known)
        if (missing and (product == 0 or size % product)) or (not missing and product != size):
            shown = tuple(axes_lengths.get(a, "?") for a in group if a != "1")
            raise DimensionBindError(
                f"inferred dimension does not evenly fit into larger dimension: {size} vs {shown}"
            )
        for a in group:
            if a != "1":
                lengths[a] = axes_lengths[a] if a in axes_lengths else size // max(product, 1)
    return lengths
