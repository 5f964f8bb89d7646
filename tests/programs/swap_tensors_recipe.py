"""The "Extension points in nn.Module for load_state_dict and tensor subclasses" recipe, as
written for PyTorch: ``torch.utils.swap_tensors`` on two tensors, the optimizer that keeps the
old parameter after ``mod.weight = nn.Parameter(2 * mod.weight)``, a weight subclass carried
through ``Module.double()`` with and without
``torch.__future__.set_swap_module_params_on_conversion(True)`` (the parameter objects keep
their ids), and ``load_state_dict`` into a model built on the ``meta`` device whose
``__torch_function__`` handles ``torch.Tensor.module_load`` to quantize the checkpoint's plain
tensors on the way in, with ``assign=True`` and ``assign=False`` and the swap path on and off.
minigrad has no ``__torch_dispatch__`` (no ATen layer), so the recipe's
``_make_wrapper_subclass`` weight is written here as a ``__torch_function__`` subclass made with
``Tensor._make_subclass``. Each load gets a fresh state dict: PyTorch's ``assign=True`` writes
its flag into the state dict's ``_metadata`` (pytorch/pytorch#188166, a bug with a fix under
review), so a later ``assign=False`` load of the same dict would assign; minigrad does not."""

import torch
import torch.nn as nn

torch.manual_seed(0)
t1 = torch.arange(2)
t2 = torch.arange(3)
print(f"Before swapping, t1: {t1}, t2: {t2}")
torch.utils.swap_tensors(t1, t2)
print(f"After swapping, t1: {t1}, t2: {t2}")
swapped = (t1.tolist(), t2.tolist())

mod = torch.nn.Linear(1, 2, bias=False)
optimizer = torch.optim.SGD(mod.parameters())
print(f"weight in mod: {mod.weight}")
mod.weight = torch.nn.Parameter(2 * mod.weight)
print(f"weight in optimizer: {optimizer.param_groups[0]['params']}")
optimizer_sees_new_weight = optimizer.param_groups[0]["params"][0] is mod.weight


class MyQuantizedLinearWeight(torch.Tensor):
    """A weight kept on a grid of step ``scale``; the scale rides along through ops."""

    @staticmethod
    def __new__(cls, elem, scale):
        return torch.Tensor._make_subclass(cls, elem.detach(), elem.requires_grad)

    def __init__(self, elem, scale):
        self.scale = scale

    def __repr__(self):
        return f"MyQuantizedLinearWeight({self.tolist()}, scale={self.scale})"

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        kwargs = {} if kwargs is None else kwargs
        if func is torch.Tensor.module_load:
            dest, src = args[0], args[1]
            assert type(dest) is cls and type(src) is torch.Tensor
            loads.append((type(dest).__name__, type(src).__name__, kwargs.get("assign")))
            return MyQuantizedLinearWeight((src / dest.scale).round() * dest.scale, dest.scale)
        result = super().__torch_function__(func, types, args, kwargs)
        if isinstance(result, cls) and not hasattr(result, "scale"):
            result.scale = next(a.scale for a in args if isinstance(a, cls))
        return result


loads = []
conversions = []
for swap in (False, True):
    torch.__future__.set_swap_module_params_on_conversion(swap)
    m = nn.Linear(3, 5, dtype=torch.float32)
    m.weight = torch.nn.Parameter(MyQuantizedLinearWeight(m.weight, 0.5))
    before = (id(m.weight), id(m.bias))
    m.double()
    after = (id(m.weight), id(m.bias))
    print(f"swap={swap}: same ids {before == after}, m.weight.dtype: {m.weight.dtype}")
    conversions.append(
        (
            before == after,
            str(m.weight.dtype),
            type(m.weight).__name__,
            m.weight.scale,
            str(m.bias.dtype),
            isinstance(m.weight, nn.Parameter),
        )
    )
    torch.__future__.set_swap_module_params_on_conversion(False)


def fn(m):
    if isinstance(m, nn.Linear):
        requires_grad = m.weight.requires_grad
        m.weight = torch.nn.Parameter(
            MyQuantizedLinearWeight(m.weight, 0.5), requires_grad=requires_grad
        )


outcomes = {}
for assign in (True, False):
    for swap in (True, False):
        state_dict = nn.Linear(3, 5).state_dict()  # a fresh one: pytorch#188166, see above
        with torch.device("meta"):
            m = nn.Linear(3, 5)
            m.apply(fn)
        if not assign:
            m.to_empty(device="cpu")
        meta_state = {k: (type(v).__name__, v.device.type) for k, v in m.state_dict().items()}
        torch.__future__.set_swap_module_params_on_conversion(swap)
        opt = torch.optim.SGD(m.parameters(), lr=0.1)
        before = (id(m.weight), id(m.bias))
        try:
            m.load_state_dict(state_dict, assign=assign)
        finally:
            torch.__future__.set_swap_module_params_on_conversion(False)
        error = (m.weight - state_dict["weight"]).abs().max().item()
        outcomes[(assign, swap)] = (
            before == (id(m.weight), id(m.bias)),
            type(m.weight).__name__,
            m.weight.device.type,
            m.bias.device.type,
            error <= 0.25,
            error > 0,
            m.weight is opt.param_groups[0]["params"][0],
            isinstance(m.weight, nn.Parameter),
        )
        print(f"assign={assign} swap={swap}: {outcomes[(assign, swap)]}")

x = torch.randn(4, 3)
loss = m(x).pow(2).mean()
loss.backward()
weight_grad = m.weight.grad.tolist()
grad_type = type(m.weight.grad).__name__
