"""``torch.nn.modules.utils``: the small helpers layer code written for PyTorch imports
(``_pair`` for a kernel size given as an int or a pair, ``_reverse_repeat_tuple`` for padding
arguments) and ``consume_prefix_in_state_dict_if_present``, which strips the ``module.`` prefix
that ``DataParallel``/``DistributedDataParallel`` checkpoints carry."""

from __future__ import annotations

import collections.abc
from itertools import repeat


def _ntuple(n: int, name: str = "parse"):
    """A function that returns an iterable argument as a tuple and repeats anything else
    ``n`` times (``_ntuple(2)(3) == (3, 3)``)."""

    def parse(x):
        if isinstance(x, collections.abc.Iterable):
            return tuple(x)
        return tuple(repeat(x, n))

    parse.__name__ = name
    return parse


_single = _ntuple(1, "_single")
_pair = _ntuple(2, "_pair")
_triple = _ntuple(3, "_triple")
_quadruple = _ntuple(4, "_quadruple")


def _reverse_repeat_tuple(t, n: int) -> tuple:
    """Each entry of ``t`` repeated ``n`` times, in reverse order: a conv's per-dimension
    padding ``(ph, pw)`` becomes ``F.pad``'s ``(pw, pw, ph, ph)``."""
    return tuple(x for x in reversed(t) for _ in range(n))


def _list_with_default(out_size, defaults) -> list:
    """``out_size`` with its None entries taken from the matching trailing ``defaults``
    (adaptive pooling's output sizes); an int is returned as it is."""
    if isinstance(out_size, int):
        return out_size
    if len(defaults) <= len(out_size):
        raise ValueError(f"Input dimension should be at least {len(out_size) + 1}")
    tail = defaults[-len(out_size) :]
    return [d if v is None else v for v, d in zip(out_size, tail)]


def consume_prefix_in_state_dict_if_present(state_dict: dict, prefix: str) -> None:
    """Strip ``prefix`` from the keys of ``state_dict`` that start with it, in place (and from
    its ``_metadata`` keys), so a checkpoint saved from a wrapped model loads into the bare one.

    Example:
        >>> sd = minigrad.load("ddp_checkpoint.pt")
        >>> consume_prefix_in_state_dict_if_present(sd, "module.")
        >>> model.load_state_dict(sd)
    """
    for key in list(state_dict.keys()):
        if key.startswith(prefix):
            state_dict[key[len(prefix) :]] = state_dict.pop(key)
    metadata = getattr(state_dict, "_metadata", None)
    if metadata is not None:
        for key in list(metadata.keys()):
            if not key:
                continue
            if key == prefix.replace(".", "") or key.startswith(prefix):
                metadata[key[len(prefix) :]] = metadata.pop(key)


__all__ = [
    "_ntuple",
    "_pair",
    "_quadruple",
    "_reverse_repeat_tuple",
    "_single",
    "_triple",
    "_list_with_default",
    "consume_prefix_in_state_dict_if_present",
]
