"""The "Hooks for autograd saved tensors" tutorial, as written for PyTorch: the saved tensors a
node keeps (``grad_fn._saved_self``/``_saved_other`` are the inputs themselves, ``exp``'s
``_saved_result`` an equal tensor that is not ``y``), pack/unpack hooks that log, scale,
return an index into a list, a tuple with a closure, or the ``repr`` read back with ``eval``;
hooks that move saved tensors to the CPU and ``save_on_cpu(pin_memory=True)`` around a module;
saving to disk (the "incorrect version" whose second ``_saved_self`` access fails after the
file is removed, then ``SelfDeletingTempFile`` whose files disappear when backward frees the
graph), the size-threshold ``SaveToDisk`` module under ``nn.DataParallel`` (the tutorial's
``tensor`` slip written ``x``), and hooks registered on one saved tensor through
``grad_fn._raw_saved_self.register_hooks``, including the error once the graph is freed."""

import os
import tempfile
import uuid

import torch
import torch.nn as nn

torch.manual_seed(0)
a = torch.randn(5, requires_grad=True)
b = torch.ones(5, requires_grad=True)
y = a * b
identity = [y.grad_fn._saved_self is a, y.grad_fn._saved_other is b]
y = torch.exp(a)
identity += [y.grad_fn._saved_result.equal(y), y.grad_fn._saved_result is y]
log = []


def pack_hook(x):
    log.append(("Packing", x.tolist()))
    return x


def unpack_hook(x):
    log.append(("Unpacking", x.tolist()))
    return x


a = torch.ones(5, requires_grad=True)
b = torch.ones(5, requires_grad=True) * 2
with torch.autograd.graph.saved_tensors_hooks(pack_hook, unpack_hook):
    y = a * b
y.sum().backward()

x = torch.randn(5, requires_grad=True)
with torch.autograd.graph.saved_tensors_hooks(lambda x: x * 4, lambda x: x / 4):
    y = torch.pow(x, 2)
y.sum().backward()
checks = [x.grad.equal(2 * x)]

storage = []


def pack(x):
    storage.append(x)
    return len(storage) - 1


def unpack(x):
    return storage[x]


x = torch.randn(5, requires_grad=True)
with torch.autograd.graph.saved_tensors_hooks(pack, unpack):
    y = x * x
y.sum().backward()
checks += [x.grad.equal(2 * x), len(storage)]


def pack(x):
    delta = torch.randn(*x.size())
    return x - delta, lambda x: x + delta


def unpack(packed):
    x, f = packed
    return f(x)


x = torch.randn(5, requires_grad=True)
with torch.autograd.graph.saved_tensors_hooks(pack, unpack):
    y = x * x
y.sum().backward()
checks.append(torch.allclose(x.grad, 2 * x))
x = torch.randn(5, requires_grad=True)
with torch.autograd.graph.saved_tensors_hooks(lambda x: repr(x), lambda x: eval("torch." + x)):
    y = x * x
y.sum().backward()
checks.append(bool(torch.all(x.grad - 2 * x <= 1e-4)))


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.randn(5))

    def forward(self, x):
        with torch.autograd.graph.save_on_cpu(pin_memory=True):
            return self.w * x


class SaveToCpu(nn.Module):
    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, *args, **kwargs):
        with torch.autograd.graph.save_on_cpu(pin_memory=True):
            return self.module(*args, **kwargs)


x = torch.randn(5)
model = Model()
model(x).sum().backward()
checks.append(torch.allclose(model.w.grad, x))
model = nn.Sequential(nn.Linear(10, 100), SaveToCpu(nn.Linear(100, 100)), nn.Linear(100, 10))
model(torch.randn(10)).sum().backward()
cpu_grad_norm = model[1].module.weight.grad.norm().item()

tmp_dir_obj = tempfile.TemporaryDirectory()
tmp_dir = tmp_dir_obj.name


def pack_hook(tensor):
    name = os.path.join(tmp_dir, str(uuid.uuid4()))
    torch.save(tensor, name)
    return name


def unpack_hook(name):
    tensor = torch.load(name)
    os.remove(name)
    return tensor


x = torch.ones(5, requires_grad=True)
with torch.autograd.graph.saved_tensors_hooks(pack_hook, unpack_hook):
    y = x.pow(2)
first_access = repr(y.grad_fn._saved_self)  # a leaf, as x is
try:
    print(y.grad_fn._saved_self)
    double_access = "Double access succeeded!"
except Exception:
    double_access = "Double access failed!"
print(double_access)


class SelfDeletingTempFile:
    def __init__(self):
        self.name = os.path.join(tmp_dir, str(uuid.uuid4()))

    def __del__(self):
        os.remove(self.name)


SAVE_ON_DISK_THRESHOLD = 1000


def pack_hook(x):
    if x.numel() < SAVE_ON_DISK_THRESHOLD:
        return x
    temp_file = SelfDeletingTempFile()
    torch.save(x, temp_file.name)
    return temp_file


def unpack_hook(tensor_or_sctf):
    if isinstance(tensor_or_sctf, torch.Tensor):
        return tensor_or_sctf
    return torch.load(tensor_or_sctf.name)


class SaveToDisk(nn.Module):
    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, *args, **kwargs):
        with torch.autograd.graph.saved_tensors_hooks(pack_hook, unpack_hook):
            return self.module(*args, **kwargs)


net = nn.DataParallel(SaveToDisk(nn.Sequential(nn.Linear(40, 40), nn.Tanh(), nn.Linear(40, 1))))
inputs = torch.randn(32, 40)
loss = net(inputs).pow(2).mean()
files_during = len(os.listdir(tmp_dir))
loss.backward()
del loss
files_after = len(os.listdir(tmp_dir))
disk_grad_norm = net.module.module[0].weight.grad.norm().item()

x = torch.randn(5, requires_grad=True)
y = x.pow(2)
raw_log = []
y.grad_fn._raw_saved_self.register_hooks(
    lambda t: raw_log.append("pack") or t * 2, lambda t: raw_log.append("unpack") or t / 2
)
raw_log.append("registered")
y.sum().backward()
raw_checks = [raw_log, x.grad.equal(2 * x)]
try:
    y.grad_fn._raw_saved_self.register_hooks(lambda t: t, lambda t: t)
except RuntimeError as e:
    freed_error = str(e).split(".")[0]
tmp_dir_obj.cleanup()
