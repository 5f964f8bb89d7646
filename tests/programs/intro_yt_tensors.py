"""The "Introduction to PyTorch Tensors" page of the "Introduction to PyTorch" video series, as
written for PyTorch: creation (``empty``/``zeros``/``ones``/``rand`` and the ``_like`` forms),
``manual_seed`` repeating random tensors, ``tensor`` of tuples and lists, ``dtype=torch.int16``
and ``.to(torch.int32)``, arithmetic with scalars and elementwise powers, broadcasting, the math
zoo (``abs``/``ceil``/``floor``/``clamp``, ``sin``/``asin``, ``bitwise_xor``, ``eq``,
``max``/``mean``/``std``/``prod``/``unique``, ``linalg.cross``/``matmul``/``svd``), in-place
``sin_``/``add_``/``mul_``, ``out=`` keeping the output object, ``clone``/``detach``,
``unsqueeze``/``squeeze``/``unsqueeze_``/``reshape``, and the NumPy bridge sharing memory.
What the page prints is kept as strings (PyTorch's ``repr`` formatting) and values."""

import math

import numpy as np
import torch

shown = {}


def show(name, value):
    shown[name] = str(value)
    print(name, value)


x = torch.empty(3, 4)
show("type", type(x).__name__)
show("zeros", torch.zeros(2, 3))
show("ones", torch.ones(2, 3))
torch.manual_seed(1729)
show("random", torch.rand(2, 3))
torch.manual_seed(1729)
random1, random2 = torch.rand(2, 3), torch.rand(2, 3)
torch.manual_seed(1729)
random3, random4 = torch.rand(2, 3), torch.rand(2, 3)
seeds_repeat = torch.equal(random1, random3) and torch.equal(random2, random4)

x = torch.empty(2, 2, 3)
like_shapes = [tuple(f(x).shape) for f in (torch.empty_like, torch.zeros_like, torch.ones_like)]
show("rand_like", torch.rand_like(x))
show("some_constants", torch.tensor([[3.1415926, 2.71828], [1.61803, 0.0072897]]))
show("some_integers", torch.tensor((2, 3, 5, 7, 11, 13, 17, 19)))
show("more_integers", torch.tensor(((2, 4, 6), [3, 6, 9])))
show("int16", torch.ones((2, 3), dtype=torch.int16))
b = torch.rand((2, 3), dtype=torch.float64) * 20.0
show("float64", b)
show("int32", b.to(torch.int32))

ones = torch.zeros(2, 2) + 1
twos = torch.ones(2, 2) * 2
threes = (torch.ones(2, 2) * 7 - 1) / 2
fours = twos**2
show("sqrt2s", twos**0.5)
show("powers2", twos ** torch.tensor([[1, 2], [3, 4]]))
show("fives", ones + fours)
show("dozens", threes * fours)
rand = torch.rand(2, 4)
show("doubled", rand * (torch.ones(1, 4) * 2))
a = torch.ones(4, 3, 2)
broadcast_shapes = [tuple((a * torch.rand(*s)).shape) for s in ((3, 2), (3, 1), (1, 2))]
try:
    a * torch.rand(2, 3)
except RuntimeError as e:
    broadcast_error = str(e)

a = torch.rand(2, 4) * 2 - 1
for name, fn in (("abs", torch.abs), ("ceil", torch.ceil), ("floor", torch.floor)):
    show(name, fn(a))
show("clamp", torch.clamp(a, -0.5, 0.5))
angles = torch.tensor([0, math.pi / 4, math.pi / 2, 3 * math.pi / 4])
sines = torch.sin(angles)
show("sines", sines)
show("inverses", torch.asin(sines))
show("xor", torch.bitwise_xor(torch.tensor([1, 5, 11]), torch.tensor([2, 7, 10])))
d = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
show("eq", torch.eq(d, torch.ones(1, 2)))
show("max", torch.max(d))
reductions = [torch.max(d).item(), torch.mean(d).item(), torch.std(d).item(), torch.prod(d).item()]
show("unique", torch.unique(torch.tensor([1, 2, 1, 2, 1, 2])))
v1, v2 = torch.tensor([1.0, 0.0, 0.0]), torch.tensor([0.0, 1.0, 0.0])
show("cross", torch.linalg.cross(v2, v1))
m1 = torch.rand(2, 2)
m3 = torch.linalg.matmul(m1, torch.tensor([[3.0, 0.0], [0.0, 3.0]]))
U, S, Vh = torch.linalg.svd(m3)
svd_check = [S.tolist(), torch.allclose(U @ torch.diag(S) @ Vh, m3, atol=1e-6)]

a = torch.tensor([0, math.pi / 4, math.pi / 2, 3 * math.pi / 4])
show("sin", torch.sin(a))
show("sin_", a.sin_())
a, b = torch.ones(2, 2), torch.rand(2, 2)
show("add_", a.add_(b))
show("mul_", b.mul_(b))
a, b, c = torch.rand(2, 2), torch.rand(2, 2), torch.zeros(2, 2)
old_id = id(c)
d = torch.matmul(a, b, out=c)
out_kept = [c is d, id(c) == old_id]
torch.rand(2, 2, out=c)
show("rand_out", c)
out_kept.append(id(c) == old_id)

a = torch.ones(2, 2)
b = a
a[0][1] = 561
show("alias", b)
b = a.clone()
a[0][1] = 562
clone_independent = [b is not a, bool(torch.eq(a, b).all()), b[0][1].item()]
a = torch.rand(2, 2, requires_grad=True)
show("clone_grad", a.clone())
show("detach_clone", a.detach().clone())

a = torch.rand(3, 26, 26)
squeezes = [tuple(a.unsqueeze(0).shape), tuple(torch.rand(1, 20).squeeze(0).shape)]
squeezes.append(tuple(torch.rand(2, 2).squeeze(0).shape))
squeezes.append(tuple(torch.rand(3).unsqueeze(1).shape))
batch_me = torch.rand(3, 26, 26)
batch_me.unsqueeze_(0)
output3d = torch.rand(6, 20, 20)
squeezes += [tuple(batch_me.shape), tuple(output3d.reshape(6 * 20 * 20).shape)]
squeezes.append(tuple(torch.reshape(output3d, (6 * 20 * 20,)).shape))

numpy_array = np.ones((2, 3))
pytorch_tensor = torch.from_numpy(numpy_array)
show("from_numpy", pytorch_tensor)
pytorch_rand = torch.rand(2, 3)
numpy_rand = pytorch_rand.numpy()
numpy_array[1, 1] = 23
pytorch_rand[1, 1] = 17
show("shared_tensor", pytorch_tensor)
shared_numpy = numpy_rand.tolist()
