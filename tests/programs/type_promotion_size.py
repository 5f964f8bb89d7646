"""The "Tensor Attributes" page's type-promotion examples and the ``torch.Size`` arithmetic that
shape code relies on, as written for PyTorch: the promotion of tensor/tensor, tensor/zero-dim
and tensor/Python-number pairs by category (bool < integer < floating < complex),
``torch.result_type``, ``torch.promote_types``, ``torch.can_cast``, true and floor division
of integers, the in-place rule ("result type Float can't be cast to the desired output type
Long"), ``out=`` casting, and ``torch.Size``: a tuple subclass that concatenates, slices,
compares, multiplies out with ``numel()`` and prints as ``torch.Size([...])``."""

import torch

float_tensor = torch.ones(1, dtype=torch.float)
double_tensor = torch.ones(1, dtype=torch.double)
complex_float_tensor = torch.ones(1, dtype=torch.complex64)
complex_double_tensor = torch.ones(1, dtype=torch.complex128)
int_tensor = torch.ones(1, dtype=torch.int)
long_tensor = torch.ones(1, dtype=torch.long)
uint_tensor = torch.ones(1, dtype=torch.uint8)
bool_tensor = torch.ones(1, dtype=torch.bool)
# zero-dim tensors
long_zerodim = torch.tensor(1, dtype=torch.long)
int_zerodim = torch.tensor(1, dtype=torch.int)

promoted = {
    "5 * 5": (torch.add(5, 5)).dtype,
    "int + 5": (int_tensor + 5).dtype,
    "int + long_zerodim": (int_tensor + long_zerodim).dtype,
    "long + float": (long_tensor + float_tensor).dtype,
    "int + double": (int_tensor + double_tensor).dtype,
    "float + double": (float_tensor + double_tensor).dtype,
    "float + complex128": (float_tensor + complex_double_tensor).dtype,
    "complex64 + double": (complex_float_tensor + double_tensor).dtype,
    "bool + long_zerodim": (bool_tensor + long_zerodim).dtype,
    "bool + bool": (bool_tensor + bool_tensor).dtype,
    "int + 5.5": (int_tensor + 5.5).dtype,
    "int + 1j": (int_tensor + 1j).dtype,
    "uint8 + int8": (uint_tensor + torch.ones(1, dtype=torch.int8)).dtype,
    "uint8 + -1 zerodim int": (uint_tensor + torch.tensor(-1)).dtype,
    "float16 + float zerodim": (torch.ones(1, dtype=torch.half) + torch.tensor(1.0)).dtype,
    "bfloat16 + float16": (
        torch.ones(1, dtype=torch.bfloat16) + torch.ones(1, dtype=torch.half)
    ).dtype,
    "double zerodim + float": (torch.tensor(1.0, dtype=torch.double) + float_tensor).dtype,
    "int / int": (int_tensor / int_tensor).dtype,
    "int // int": (int_tensor // 2).dtype,
    "bool * 2.0": (bool_tensor * 2.0).dtype,
}
promoted = {k: str(v) for k, v in promoted.items()}

uint8_wrap = (torch.tensor([250], dtype=torch.uint8) + 10).tolist()
true_div = (torch.tensor([5, -5]) / 2).tolist()
floor_div = (torch.tensor([5, -5]) // 2).tolist()
trunc_div = torch.div(torch.tensor([5, -5]), 2, rounding_mode="trunc").tolist()
remainder = (torch.tensor([5, -5]) % 3).tolist()
fmod = torch.fmod(torch.tensor([5, -5]), 3).tolist()

result_types = [
    str(torch.result_type(torch.tensor([1, 2], dtype=torch.int), 1.0)),
    str(torch.result_type(torch.tensor([1, 2], dtype=torch.uint8), torch.tensor(1))),
    str(torch.result_type(2, 3.0)),
    str(torch.result_type(torch.tensor(1.0, dtype=torch.double), torch.ones(2, dtype=torch.half))),
]
promote = [
    str(torch.promote_types(torch.int32, torch.float32)),
    str(torch.promote_types(torch.uint8, torch.int8)),
    str(torch.promote_types(torch.bool, torch.int16)),
    str(torch.promote_types(torch.bfloat16, torch.float16)),
    str(torch.promote_types(torch.float64, torch.complex64)),
]
can_cast = [
    torch.can_cast(torch.double, torch.float),
    torch.can_cast(torch.float, torch.int),
    torch.can_cast(torch.int, torch.float),
    torch.can_cast(torch.bool, torch.uint8),
    torch.can_cast(torch.complex64, torch.float),
    torch.can_cast(torch.long, torch.int8),
]

# In-place and out= follow the destination's dtype; a category upgrade is an error.
float_tensor *= float_tensor
float_tensor *= int_tensor
float_tensor *= uint_tensor
float_tensor *= bool_tensor
float_tensor *= double_tensor
int_tensor *= long_tensor
int_tensor *= uint_tensor
uint_tensor *= int_tensor
inplace_dtypes = [str(float_tensor.dtype), str(int_tensor.dtype), str(uint_tensor.dtype)]
inplace_errors = []
for dest, src in (
    (int_tensor, float_tensor),
    (bool_tensor, int_tensor),
    (float_tensor, complex_float_tensor),
):
    try:
        dest *= src
        inplace_errors.append(None)
    except RuntimeError as e:
        inplace_errors.append(str(e))
out_float = torch.empty(2)
torch.add(torch.tensor([1, 2]), torch.tensor([3, 4]), out=out_float)
out_values = [str(out_float.dtype), out_float.tolist()]
try:
    torch.add(torch.tensor([1.5]), torch.tensor([1.0]), out=torch.empty(1, dtype=torch.long))
    out_error = None
except RuntimeError as e:
    out_error = str(e)

# torch.Size arithmetic, as shape code uses it.
x = torch.zeros(2, 3, 4)
s = x.size()
size_facts = {
    "type": type(s).__name__,
    "is_tuple": isinstance(s, tuple),
    "repr": repr(s),
    "concat": repr(s + (5,)),
    "radd": repr((1,) + s),
    "slice": repr(s[1:]),
    "index": s[-1],
    "numel": s.numel(),
    "equals_tuple": s == (2, 3, 4),
    "equals_list": s == [2, 3, 4],
    "times_two": repr(s * 2),
    "count": torch.Size([1, 2, 1]).count(1),
    "index_of": s.index(4),
    "empty_numel": torch.Size([]).numel(),
    "unpacked": [*s],
    "hash_equal": hash(s) == hash((2, 3, 4)),
    "new_view": list(x.view(s[0], -1).shape),
    "zeros_from_size": list(torch.zeros(s[:2]).shape),
    "as_dict_key": {s: "ok"}[(2, 3, 4)],
    "str": str(torch.Size([7])),
}
batch_shape = x.shape[:-1] + (8,)
reshaped = list(torch.randn(24).reshape(x.shape).transpose(0, 2).shape)
