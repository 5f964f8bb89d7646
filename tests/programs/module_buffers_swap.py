"""Module state as PyTorch 2.5+ code declares and moves it: ``nn.Buffer`` attributes (persistent
and not) next to ``register_buffer``, ``torch.__future__.set_swap_module_params_on_conversion``
so that ``module.to(dtype)`` swaps tensors in place (references held by an optimizer stay
valid, ``p.grad`` converted too), ``torch.utils.swap_tensors`` on two tensors,
``load_state_dict(assign=True)`` keeping the loaded tensors' dtype, ``get_submodule`` /
``set_submodule`` to replace a layer by its path, ``register_state_dict_post_hook`` and
``state_dict(keep_vars=True)``; a model is trained before and after a float64 conversion."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


class RunningNorm(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.mean = nn.Buffer(torch.zeros(dim))
        self.count = nn.Buffer(torch.tensor(0), persistent=False)
        self.register_buffer("var", torch.ones(dim))

    def forward(self, x):
        if self.training:
            with torch.no_grad():
                self.count += 1
                self.mean.lerp_(x.mean(0), 0.1)
                self.var.lerp_(x.var(0), 0.1)
        return (x - self.mean) / (self.var + 1e-5).sqrt()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm = RunningNorm(6)
        self.body = nn.Sequential(nn.Linear(6, 12), nn.Tanh(), nn.Linear(12, 2))

    def forward(self, x):
        return self.body(self.norm(x))


net = Net()
buffer_names = [name for name, _ in net.named_buffers()]
state_keys = list(net.state_dict().keys())
buffer_types = (type(net.norm.mean).__name__, isinstance(net.norm.mean, torch.Tensor))

x = torch.randn(16, 6) * 3 + 1
y = torch.randint(0, 2, (16,))
opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
losses = []
for _ in range(3):
    loss = F.cross_entropy(net(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())

first_weight = net.body[0].weight
before = torch.__future__.get_swap_module_params_on_conversion()
torch.__future__.set_swap_module_params_on_conversion(True)
net.double()
torch.__future__.set_swap_module_params_on_conversion(before)
same_object = net.body[0].weight is first_weight
converted = (
    str(first_weight.dtype),
    str(first_weight.grad.dtype),
    str(net.norm.mean.dtype),
    str(net.norm.count.dtype),
    opt.param_groups[0]["params"][0] is first_weight,
)
x64 = x.double()
for _ in range(3):
    loss = F.cross_entropy(net(x64), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())
running = (net.norm.count.item(), net.norm.mean.tolist())

a, b = torch.arange(3.0), torch.ones(2, 2)
a_ref = a
torch.utils.swap_tensors(a, b)
swapped = (a.tolist(), b.tolist(), a is a_ref)

fresh = Net()
fresh.load_state_dict(net.state_dict(), assign=True)
assigned = (str(fresh.body[0].weight.dtype), isinstance(fresh.body[0].weight, nn.Parameter))
shares_tensors = fresh.norm.mean is net.norm.mean and fresh.body[0].weight is net.body[0].weight
fresh.eval(), net.eval()
gap = (fresh(x64) - net(x64)).abs().max().item()

old = net.get_submodule("body.1")
net.set_submodule("body.1", nn.GELU())
replaced = (type(old).__name__, type(net.get_submodule("body.1")).__name__)
seen_hooks = []
handle = net.register_state_dict_post_hook(
    lambda module, state_dict, prefix, local_metadata: seen_hooks.append(len(state_dict))
)
kept = net.state_dict(keep_vars=True)
handle.remove()
keep_vars_info = (kept["body.0.weight"] is net.body[0].weight, seen_hooks)
print(f"losses {[round(v, 5) for v in losses]}")
