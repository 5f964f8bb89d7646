"""The "Autograd mechanics" note, as its examples are written for PyTorch: the in-place
correctness checks (a tensor saved for backward and then changed in place: the version counter
and the error naming the modified output; ``x._version``), locally disabling gradients
(``requires_grad_`` on a frozen backbone, ``no_grad``, ``inference_mode`` tensors that cannot
enter autograd), multithreaded autograd (ten threads each running ``train_fn``'s own backward,
and threads sharing one graph with ``retain_graph=True`` so their gradients accumulate), and
complex autograd (the conjugate Wirtinger convention: ``|z|^2`` has gradient ``2z``,
``abs`` and ``angle`` backward, a real loss of a complex linear map checked against the same
map written on ``view_as_real`` parts)."""

import threading

import torch
from torch import nn

torch.manual_seed(0)

# -- In-place correctness checks: exp saves its output, so changing it breaks backward.
a = torch.randn(3, requires_grad=True)
b = a.exp()
versions = [b._version]
b.mul_(2)
versions.append(b._version)
try:
    b.sum().backward()
    inplace_error = None
except RuntimeError as e:
    inplace_error = str(e)
inplace_error_head = inplace_error.split(":")[0]
names_version = "is at version 1; expected version 0 instead" in inplace_error

# sin saves its input; an in-place op on the *output* is fine, on the input it is not.
x = torch.randn(4, requires_grad=True)
h = x * 1.0
y = h.sin()
y.add_(1)  # sin's backward needs h, not y
y.sum().backward()
sin_grad_ok = torch.allclose(x.grad, x.detach().cos())
h2 = x * 1.0
y2 = h2.sin()
h2.zero_()
try:
    y2.sum().backward()
    input_modified_raises = False
except RuntimeError:
    input_modified_raises = True

# -- Locally disabling gradient computation: freeze a backbone, train a head.
backbone = nn.Linear(6, 4)
head = nn.Linear(4, 2)
backbone.requires_grad_(False)
inp = torch.randn(5, 6)
out = head(backbone(inp))
out.pow(2).mean().backward()
frozen = [backbone.weight.grad is None, head.weight.grad is not None]
with torch.no_grad():
    z = head(backbone(inp))
no_grad_flags = [z.requires_grad, z.grad_fn is None]
with torch.inference_mode():
    t_inf = torch.ones(3) * 2
inference_flags = [t_inf.is_inference(), t_inf.requires_grad]
w = torch.ones(3, requires_grad=True)
try:
    (w * t_inf).sum().backward()  # inference tensors may be used by non-saving ops
    inference_use = "ok"
except RuntimeError as e:
    inference_use = "error: " + str(e).split(".")[0]
try:
    t_inf.add_(1)  # but not changed in place outside inference mode
    inference_inplace = "ok"
except RuntimeError as e:
    inference_inplace = str(e).split(".")[0]


# -- Multithreaded autograd: each thread owns its graph.
results = {}


def train_fn(i):
    x = torch.ones(5, 5, requires_grad=True) * (i + 1)
    x.retain_grad()
    y = (x + 3) * (x + 4) * 0.5
    y.sum().backward()
    results[i] = x.grad[0, 0].item()


threads = []
for i in range(10):
    p = threading.Thread(target=train_fn, args=(i,))
    p.start()
    threads.append(p)
for p in threads:
    p.join()
thread_grads = [results[i] for i in range(10)]  # d/dx of (x+3)(x+4)/2 = x + 3.5

# Threads sharing one graph: retain_graph so each may backward; grads accumulate in the leaf.
shared = torch.randn(3, requires_grad=True)
loss = (shared.tanh() * torch.arange(1.0, 4.0)).sum()


def backward_shared():
    loss.backward(retain_graph=True)


workers = [threading.Thread(target=backward_shared) for _ in range(4)]
for p in workers:
    p.start()
for p in workers:
    p.join()
expected = 4 * (1 - shared.detach().tanh() ** 2) * torch.arange(1.0, 4.0)
shared_accumulated = torch.allclose(shared.grad, expected)

# Grad mode is thread-local: no_grad in the main thread does not reach a worker.
flags = {}


def grad_mode_probe():
    flags["worker"] = torch.is_grad_enabled()


with torch.no_grad():
    t = threading.Thread(target=grad_mode_probe)
    t.start()
    t.join()
    flags["main"] = torch.is_grad_enabled()

# -- Complex autograd.
zr = torch.randn(4, dtype=torch.cfloat, generator=torch.Generator().manual_seed(1))
z = zr.clone().requires_grad_()
(z * z.conj()).real.sum().backward()
abs2_grad = torch.view_as_real(z.grad).flatten().tolist()  # 2z
abs2_is_2z = torch.allclose(z.grad, 2 * z.detach())

z.grad = None
z.abs().sum().backward()
abs_grad = torch.view_as_real(z.grad).flatten().tolist()  # z / |z|
z.grad = None
z.angle().sum().backward()
angle_grad = torch.view_as_real(z.grad).flatten().tolist()

# A complex linear layer's real loss, against the same map written on real and imaginary parts.
g = torch.Generator().manual_seed(2)
W = torch.randn(3, 4, dtype=torch.cfloat, generator=g).requires_grad_()
v = torch.randn(4, dtype=torch.cfloat, generator=g)
out_c = W @ v
loss_c = (out_c.abs() ** 2).sum()
loss_c.backward()
Wr = torch.view_as_real(W.detach()).clone().requires_grad_()
re, im = Wr[..., 0], Wr[..., 1]
out_re = re @ v.real - im @ v.imag
out_im = re @ v.imag + im @ v.real
(out_re**2 + out_im**2).sum().backward()
complex_vs_real_gap = (torch.view_as_real(W.grad) - Wr.grad).abs().max().item()
complex_loss = loss_c.item()
complex_grad_dtype = str(W.grad.dtype)
try:
    out_c.sum().backward()
    complex_output_error = None
except RuntimeError as e:
    complex_output_error = str(e)
