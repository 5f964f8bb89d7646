"""``default_collate``: a list of samples stacked into a batch (``torch.utils.data._utils.collate``);
``default_convert``: one sample's NumPy arrays made tensors (what a loader without batching does).

Its own module so that the DataLoader and its worker processes (``_fetch``) share it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ... import creation, dtypes
from ...ops import stack
from ...tensor import Tensor


def default_collate(batch):
    """Stack a list of samples into a batch: tensors are stacked, NumPy arrays and numbers
    become tensors (Python floats as float64, ints as int64, NumPy values keep their dtype, as
    PyTorch collates them), and tuples, lists and dicts are collated field by field."""
    first = batch[0]
    if isinstance(first, Tensor):
        return stack(batch)
    if isinstance(first, np.ndarray):
        return creation.tensor(np.stack(batch))
    if isinstance(first, float):  # Python floats are float64, as PyTorch collates them
        return creation.tensor(batch, dtype=dtypes.float64)
    if isinstance(first, (bool, int, np.number, np.bool_)):
        return creation.tensor(batch)
    if isinstance(first, (str, bytes)):  # as given: a tuple of a field, the list of a batch
        return batch
    if isinstance(first, Mapping):
        return {key: default_collate([sample[key] for sample in batch]) for key in first}
    if isinstance(first, tuple) and hasattr(first, "_fields"):
        return type(first)(*(default_collate(field) for field in zip(*batch)))
    if isinstance(first, Sequence):
        if any(len(sample) != len(first) for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(field) for field in zip(*batch)]
    raise TypeError(
        f"default_collate: batch must contain tensors, NumPy arrays, numbers, dicts or lists; "
        f"found {type(first).__name__}"
    )


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
