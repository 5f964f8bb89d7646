"""In-place operations and autograd, as the Stack Overflow questions about them show it: a
``sigmoid`` output changed by ``+=`` (the error "one of the variables needed for gradient
computation has been modified by an inplace operation" with its version numbers), ``ReLU(inplace
=True)`` after a ``sigmoid``, ``x[mask] = 0`` on a tensor that ``exp`` saved, the fix with
``.clone()``, writing into a leaf that requires grad ("a leaf Variable that requires grad is being
used in an in-place operation") and the ``with torch.no_grad()`` update that is allowed, ``.data``
edits that autograd does not see (a silently different gradient) against ``.detach()`` edits that
it does, ``_version`` counting, a second ``backward`` without ``retain_graph`` ("Trying to backward
through the graph a second time"), ``.grad`` of a non-leaf (``None``, with the warning) and
``retain_grad``, and ``requires_grad`` on an integer tensor."""

import warnings

import torch
from torch import nn

torch.manual_seed(0)


def error_of(fn):
    """The error's type name and message, or None when fn runs."""
    try:
        fn()
    except Exception as e:  # the program records whichever error it gets
        return [type(e).__name__, str(e)]
    return None


# 1. y = sigmoid(x); y += 1; backward: sigmoid saved its output.
x = torch.randn(3, 4, requires_grad=True)


def sigmoid_then_add():
    y = torch.sigmoid(x)
    y += 1
    y.sum().backward()


sigmoid_error = error_of(sigmoid_then_add)

# 2. The same with nn.ReLU(inplace=True) after a Sigmoid layer.
net = nn.Sequential(nn.Linear(4, 5), nn.Sigmoid(), nn.ReLU(inplace=True), nn.Linear(5, 1))
relu_error = error_of(lambda: net(torch.randn(2, 4)).sum().backward())
# ReLU(inplace=True) after a Linear is fine: addmm saves its inputs, not its output.
net_ok = nn.Sequential(nn.Linear(4, 5), nn.ReLU(inplace=True), nn.Linear(5, 1))
net_ok(torch.randn(2, 4)).sum().backward()
relu_ok_grad = net_ok[0].weight.grad.abs().sum().item()

# 3. Masked assignment into exp's output, then the clone() fix.
w = torch.randn(6, requires_grad=True)


def masked_write():
    e = w.exp()
    e[e > 1] = 0
    e.sum().backward()


masked_error = error_of(masked_write)
e = w.exp().clone()
e[e > 1] = 0
# the clone is what was modified: exp's own output is intact, backward works
e.sum().backward()
masked_fix_grad = w.grad.tolist()

# 4. Writing into a leaf that requires grad, and the no_grad update that is allowed.
leaf = torch.ones(3, requires_grad=True)
leaf_error = error_of(lambda: leaf.add_(1))
leaf_index_error = error_of(lambda: leaf.__setitem__(0, 5.0))
with torch.no_grad():
    leaf.add_(1)
    leaf[0] = 5.0
leaf_after = [leaf.tolist(), leaf.requires_grad, leaf.is_leaf, leaf.grad_fn is None]

# 5. .data vs .detach(): .data edits are invisible to autograd (a wrong gradient, no error);
# .detach() shares the version counter, so the edit is caught.
a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
out = a.sigmoid()
out.data.zero_()
out.sum().backward()
data_grad = a.grad.tolist()  # sigmoid'(x) computed from the zeroed output: 0 * (1 - 0) = 0
b = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
out2 = b.sigmoid()
out2.detach().zero_()
detach_error = error_of(lambda: out2.sum().backward())
detach_flags = [out2.detach().requires_grad, out2.data.requires_grad, out2.detach().is_leaf]

# 6. Version counter: each in-place op bumps it, views share it.
v = torch.zeros(4)
versions = [v._version]
v.add_(1)
versions.append(v._version)
v[1:3].mul_(2)
versions.append(v._version)
view = v.view(2, 2)
view.fill_(7)
versions += [v._version, view._version]
v2 = v + 1  # out of place: a new tensor at version 0
versions.append(v2._version)

# 7. A second backward without retain_graph, then with it (gradients accumulate).
p = torch.tensor([2.0, -1.0], requires_grad=True)
loss = (p.exp() * p).sum()
loss.backward()
first_grad = p.grad.tolist()
second_error = error_of(loss.backward)
p.grad = None
loss = (p.exp() * p).sum()
loss.backward(retain_graph=True)
loss.backward()
retained_grad = p.grad.tolist()

# 8. .grad of a non-leaf: None with a UserWarning, unless retain_grad() was called.
q = torch.tensor([1.0, 2.0], requires_grad=True)
h = q * 3
h2 = q * 4
h2.retain_grad()
(h.sum() + (h2**2).sum()).backward()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    nonleaf_grad = h.grad
nonleaf = [
    nonleaf_grad is None,
    len(caught) > 0 and "is not a leaf Tensor is being accessed" in str(caught[0].message),
    h.is_leaf,
    h2.grad.tolist(),
    q.grad.tolist(),
]

# 9. requires_grad on integer tensors.
int_error = error_of(lambda: torch.tensor([1, 2, 3], requires_grad=True))
int_error_method = error_of(lambda: torch.arange(3).requires_grad_())
float_ok = torch.arange(3.0).requires_grad_().requires_grad
