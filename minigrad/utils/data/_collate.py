"""``default_collate``: a list of samples stacked into a batch (``torch.utils.data._utils.collate``);
``default_convert``: one sample's NumPy arrays made tensors (what a loader without batching does).

Its own module so that the DataLoader and its worker processes (``_fetch``) share it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np

from ... import creation, dtypes
from ...tensor import Tensor


def collate_tensor_fn(batch, *, collate_fn_map=None):
    """Tensors stacked along a new first dimension (by the public ``stack``, which hands a
    Tensor subclass's batch to its ``__torch_function__``, as monai's ``MetaTensor`` needs)."""
    from ... import stack as public_stack  # (set up after this module, in minigrad/__init__)

    return public_stack(batch)


def collate_numpy_array_fn(batch, *, collate_fn_map=None):
    """NumPy arrays stacked into one tensor; string and object arrays are refused."""
    if np_str_obj_array_pattern.search(batch[0].dtype.str) is not None:
        raise TypeError(_UNSUPPORTED.format(batch[0].dtype))
    return creation.tensor(np.stack(batch))


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    """NumPy scalars as a tensor keeping their dtype."""
    return creation.tensor(batch)


def collate_float_fn(batch, *, collate_fn_map=None):
    """Python floats as a float64 tensor, as PyTorch collates them."""
    return creation.tensor(batch, dtype=dtypes.float64)


def collate_int_fn(batch, *, collate_fn_map=None):
    """Python ints (and bools) as a tensor."""
    return creation.tensor(batch)


def collate_str_fn(batch, *, collate_fn_map=None):
    """Strings and bytes as given: the list of a batch."""
    return batch


np_str_obj_array_pattern = re.compile(r"[SaUO]")  # NumPy kinds that are not numbers
_UNSUPPORTED = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
)

# PyTorch's registry: the collate function of each element type, looked up by exact type, then
# by isinstance in this order; libraries add their tensor subclasses (monai's MetaTensor)
default_collate_fn_map = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.number, np.bool_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    (str, bytes): collate_str_fn,
}


def collate(batch, *, collate_fn_map=None):
    """Join a list of samples with the function ``collate_fn_map`` gives their first element's
    type; dicts, named tuples, tuples and lists are collated field by field with the same
    map, as PyTorch's ``collate``."""
    first = batch[0]
    if collate_fn_map is not None:
        if type(first) in collate_fn_map:
            return collate_fn_map[type(first)](batch, collate_fn_map=collate_fn_map)
        for kind, fn in collate_fn_map.items():
            if isinstance(first, kind):
                return fn(batch, collate_fn_map=collate_fn_map)
    again = lambda items: collate(items, collate_fn_map=collate_fn_map)  # noqa: E731
    if isinstance(first, Mapping):
        return {key: again([sample[key] for sample in batch]) for key in first}
    if isinstance(first, tuple) and hasattr(first, "_fields"):
        return type(first)(*(again(field) for field in zip(*batch)))
    if isinstance(first, Sequence):
        if any(len(sample) != len(first) for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [again(field) for field in zip(*batch)]
    raise TypeError(_UNSUPPORTED.format(type(first)))


def default_collate(batch):
    """Stack a list of samples into a batch: tensors are stacked, NumPy arrays and numbers
    become tensors (Python floats as float64, ints as int64, NumPy values keep their dtype, as
    PyTorch collates them), and tuples, lists and dicts are collated field by field
    (:data:`default_collate_fn_map` says which function takes which type)."""
    return collate(batch, collate_fn_map=default_collate_fn_map)


def default_convert(data):
    """One sample's NumPy arrays and NumPy scalars as tensors, through dicts, named tuples,
    tuples (which become lists, as in PyTorch) and lists; strings, string arrays, Python
    numbers and tensors are left as they are. What a DataLoader with ``batch_size=None`` does
    to each sample when no ``collate_fn`` is given."""
    if isinstance(data, np.ndarray):
        return data if data.dtype.kind in "USOa" else creation.tensor(data)
    if isinstance(data, (np.number, np.bool_)):
        return creation.tensor(data)
    if isinstance(data, Mapping):
        return {key: default_convert(value) for key, value in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        return [default_convert(d) for d in data]
    return data
