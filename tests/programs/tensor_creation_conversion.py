"""Creating and converting tensors, the questions every forum has: ``torch.Tensor(3)`` (an
uninitialised vector of 3) against ``torch.tensor(3)`` (a scalar), ``torch.tensor`` of a tensor
(the copy-construct warning), of a list of tensors (the error) and ``torch.stack`` instead,
``torch.FloatTensor``/``LongTensor`` and ``x.type()``, dtype inference from Python ints, floats
and bools, ``from_numpy`` and ``.numpy()`` sharing memory while ``torch.tensor(ndarray)`` copies,
NumPy's float64 against PyTorch's float32 default, ``.numpy()`` on a tensor that requires grad
(the error), ``int()``/``float()``/``bool()`` of multi-element tensors (the errors), ``.item()``,
``tolist`` of 0-d tensors, ``torch.as_tensor`` sharing, ``zeros_like`` keeping the dtype,
``new_tensor``/``new_zeros``, ``torch.arange`` with a float step (the end excluded, count by
ceil) against ``linspace``, and ``torch.full`` inferring its dtype from the fill value."""

import warnings

import numpy as np
import torch


def error_of(fn):
    try:
        fn()
    except Exception as e:  # the program records whichever error it gets
        return [type(e).__name__, str(e)]
    return None


ctor = [
    list(torch.Tensor(3).shape),
    list(torch.tensor(3).shape),
    torch.Tensor([3]).tolist(),
    str(torch.Tensor([3]).dtype),
    list(torch.Tensor(2, 3).shape),
    list(torch.empty(0).shape),
    torch.Tensor().numel(),
]
legacy = [
    torch.FloatTensor([1, 2]).type(),
    torch.LongTensor([1, 2]).type(),
    torch.tensor([1.5]).long().type(),
    str(torch.tensor([1, 2]).type(torch.float64).dtype),
    torch.zeros(2, dtype=torch.bool).type(),
]
inference = [
    str(torch.tensor([1, 2]).dtype),
    str(torch.tensor([1, 2.0]).dtype),
    str(torch.tensor([True, False]).dtype),
    str(torch.tensor([True, 2]).dtype),
    str(torch.tensor(np.array([1.0, 2.0])).dtype),
    str(torch.tensor(np.array([1, 2], dtype=np.int32)).dtype),
    str(torch.tensor(3.0 + 1j).dtype),
    str(torch.tensor([]).dtype),
    str(torch.full((2,), 7).dtype),
    str(torch.full((2,), 7.0).dtype),
    str(torch.full((2,), True).dtype),
]

source = torch.arange(3.0)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    copied = torch.tensor(source)
copy_warning = [str(w.message) for w in caught]
copied[0] = 100.0
copy_facts = [source[0].item(), copied[0].item()]
list_error = error_of(lambda: torch.tensor([torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0])]))
scalars_ok = torch.tensor([torch.tensor(1.0), torch.tensor(2.0)]).tolist()  # 0-d: allowed
stacked = torch.stack([torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0])]).tolist()
ragged_error = error_of(lambda: torch.tensor([[1, 2], [3]]))

# NumPy sharing.
arr = np.zeros(3, dtype=np.float32)
shared = torch.from_numpy(arr)
as_t = torch.as_tensor(arr)
copy_t = torch.tensor(arr)
arr[0] = 5.0
back = shared.numpy()
shared[1] = 7.0
sharing = [shared.tolist(), as_t.tolist(), copy_t.tolist(), back.tolist(), arr.tolist()]
dtype_from_numpy = [
    str(torch.from_numpy(np.ones(2)).dtype),
    str(torch.from_numpy(np.ones(2, dtype=np.int64)).dtype),
    str(torch.as_tensor([1.0, 2.0]).dtype),
]
grad_tensor = torch.ones(2, requires_grad=True)
numpy_error = error_of(lambda: grad_tensor.numpy())
numpy_ok = grad_tensor.detach().numpy().tolist()
noncontig_from_numpy = torch.from_numpy(np.arange(6.0).reshape(2, 3).T.copy()).tolist()
negative_stride = error_of(lambda: torch.from_numpy(np.arange(4.0)[::-1]))

# Python scalars out of tensors.
many = torch.tensor([1.5, 2.5])
scalar_errors = [
    error_of(lambda: float(many)),
    error_of(lambda: int(many)),
    error_of(lambda: bool(many)),
    error_of(lambda: many.item()),
    error_of(lambda: bool(torch.tensor([]))),
]
scalars = [
    float(torch.tensor([2.5])),
    int(torch.tensor([[7]])),
    bool(torch.tensor([0.0])),
    torch.tensor(3).item(),
    type(torch.tensor(3).item()).__name__,
    type(torch.tensor(3.0).item()).__name__,
    torch.tensor(3.0).tolist(),
    torch.tensor([[1, 2]]).tolist(),
]

# *_like and new_* keep dtype and device; arange and linspace.
ints = torch.tensor([1, 2, 3])
likes = [
    str(torch.zeros_like(ints).dtype),
    str(torch.rand_like(ints.float()).dtype),
    str(ints.new_tensor([0.5]).dtype),
    ints.new_tensor([0.5]).tolist(),
    str(ints.new_zeros(2).dtype),
    str(torch.ones_like(ints, dtype=torch.float16).dtype),
]
like_error = error_of(lambda: torch.rand_like(ints))
ranges = [
    torch.arange(0, 1, 0.25).tolist(),
    torch.arange(0, 1.0001, 0.25).tolist(),
    len(torch.arange(1, 2.5, 0.5)),
    str(torch.arange(5).dtype),
    str(torch.arange(5.0).dtype),
    torch.linspace(0, 1, 5).tolist(),
    torch.arange(10, 0, -3).tolist(),
]
range_error = error_of(lambda: torch.arange(0, 5, -1))
