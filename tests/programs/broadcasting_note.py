"""The "Broadcasting semantics" note, as its examples are written for PyTorch: which shape
pairs broadcast and to what (``torch.broadcast_shapes``, the result of ``x + y``), the
errors for pairs that do not, in-place operations that may not change their tensor's shape
(``x.add_(y)`` with a larger ``y``), the backwards-compatibility case (a 4-element row and a
4-element column: once pointwise, now a 4x4 table), plus the gradient side: a bias broadcast
over a batch gets the batch's summed gradient, and ``expand``/``broadcast_to``/
``broadcast_tensors`` views."""

import torch

torch.manual_seed(0)

# Same shapes are always broadcastable.
x = torch.empty(5, 7, 3)
y = torch.empty(5, 7, 3)
same = list((x + y).shape)

# x and y are not broadcastable, because x does not have at least 1 dimension.
x = torch.empty((0,))
y = torch.empty(2, 2)
try:
    x + y
    empty_error = None
except RuntimeError as e:
    empty_error = str(e)

# Trailing dimensions line up.
x = torch.empty(5, 3, 4, 1)
y = torch.empty(3, 1, 1)
lined_up = list((x + y).shape)

# x and y are not broadcastable, because in the 3rd trailing dimension 2 != 3.
x = torch.empty(5, 2, 4, 1)
y = torch.empty(3, 1, 1)
try:
    x + y
    mismatch_error = None
except RuntimeError as e:
    mismatch_error = str(e)

# The result's size, dimension by dimension.
x = torch.empty(5, 1, 4, 1)
y = torch.empty(3, 1, 1)
result_shapes = [list((x + y).size())]
x = torch.empty(1)
y = torch.empty(3, 1, 7)
result_shapes.append(list((x + y).size()))
x = torch.empty(5, 2, 4, 1)
y = torch.empty(3, 1, 1)
try:
    torch.broadcast_shapes(x.shape, y.shape)
    shapes_error = None
except RuntimeError as e:
    shapes_error = str(e)
broadcast_shapes = [
    list(torch.broadcast_shapes((5, 1, 4, 1), (3, 1, 1))),
    list(torch.broadcast_shapes((1,), (3, 1, 7), (7,))),
    list(torch.broadcast_shapes((2,), ())),
]

# In-place semantics: the in-place tensor may not change shape.
x = torch.empty(5, 3, 4, 1)
y = torch.empty(3, 1, 1)
inplace_ok = list(x.add_(y).size())
x = torch.empty(1, 3, 1)
y = torch.empty(3, 1, 7)
try:
    x.add_(y)
    inplace_error = None
except RuntimeError as e:
    inplace_error = str(e)
try:
    torch.ones(3, 1).mul_(torch.ones(1, 4))
    mul_inplace_error = None
except RuntimeError as e:
    mul_inplace_error = str(e)

# Backwards compatibility: same number of elements but different shapes now broadcast.
row = torch.ones(4)
col = torch.arange(4.0).view(4, 1)
add_table = (row + col).tolist()
pointwise = (row + col.view(4)).tolist()

# Gradients of broadcast operands are reduced back to their own shapes.
batch = torch.randn(6, 3)
weight = torch.randn(3, requires_grad=True)
bias = torch.zeros(1, 3, requires_grad=True)
scale = torch.tensor(2.0, requires_grad=True)
loss = ((batch * weight + bias) * scale).pow(2).sum()
loss.backward()
grad_shapes = [list(weight.grad.shape), list(bias.grad.shape), list(scale.grad.shape)]
bias_grad = bias.grad.flatten().tolist()
weight_grad = weight.grad.tolist()
scale_grad = scale.grad.item()
bias_grad_by_hand = (2 * (batch * weight + bias) * scale * scale).sum(0).tolist()

# expand / broadcast_to / broadcast_tensors are views with stride 0.
base = torch.arange(3.0)
expanded = base.expand(4, 3)
expanded_strides = list(expanded.stride())
shares_storage = expanded.data_ptr() == base.data_ptr()
to = torch.broadcast_to(base.view(3, 1), (3, 2))
a, b = torch.broadcast_tensors(torch.zeros(2, 1), torch.zeros(1, 5))
broadcast_tensor_shapes = [list(a.shape), list(b.shape), list(to.shape)]
try:
    expanded.add_(1)
    expanded_write_error = None
except RuntimeError as e:
    expanded_write_error = str(e)
expand_minus_one = list(torch.zeros(2, 1, 3).expand(-1, 4, -1).shape)
