"""The "Modules" note, as its examples are written for PyTorch: a custom ``MyLinear`` with
``extra_repr``, modules as building blocks (``named_children``, ``modules``), ``apply`` for
initialization, module state (a ``RunningMean`` with a persistent buffer and one registered
with ``persistent=False`` that stays out of the ``state_dict``), module initialization on the
``meta`` device then ``to_empty`` + ``reset_parameters``, global hooks for every module
(``torch.nn.modules.module.register_module_forward_pre_hook`` /
``register_module_forward_hook`` / ``register_module_full_backward_hook``), and state-dict
hooks (``register_state_dict_post_hook`` adding a key, ``register_load_state_dict_pre_hook``
renaming an old checkpoint's keys); a small training loop runs between them."""

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules.module import (
    register_module_forward_hook,
    register_module_forward_pre_hook,
    register_module_full_backward_hook,
)

torch.manual_seed(0)


class MyLinear(nn.Module):
    def __init__(self, in_features, out_features, device=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = nn.Parameter(torch.empty(out_features, in_features, device=device))
        self.bias = nn.Parameter(torch.empty(out_features, device=device))
        self.reset_parameters()

    def reset_parameters(self):
        nn.init.kaiming_uniform_(self.weight, a=5**0.5)
        nn.init.uniform_(self.bias, -0.1, 0.1)

    def forward(self, input):
        return (input @ self.weight.t()) + self.bias

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}"


class RunningMean(nn.Module):
    def __init__(self, num_features, momentum=0.9):
        super().__init__()
        self.momentum = momentum
        self.register_buffer("mean", torch.zeros(num_features))
        self.register_buffer("steps", torch.tensor(0), persistent=False)

    def forward(self, x):
        if self.training:
            self.mean = self.momentum * self.mean + (1.0 - self.momentum) * x.mean(0)
            self.steps += 1
        return self.mean


class Net(nn.Module):
    def __init__(self, device=None):
        super().__init__()
        self.l0 = MyLinear(4, 8, device=device)
        self.l1 = MyLinear(8, 1, device=device)
        self.stats = RunningMean(8)

    def forward(self, x):
        h = F.relu(self.l0(x))
        self.stats(h.detach())
        return self.l1(h)


net = Net()
net_repr = repr(net)
children = [name for name, _ in net.named_children()]
module_types = [type(m).__name__ for m in net.modules()]


@torch.no_grad()
def init_weights(m):
    if isinstance(m, MyLinear):
        m.weight.copy_(torch.linspace(-0.5, 0.5, m.weight.numel()).view_as(m.weight))
        m.bias.zero_()


net.apply(init_weights)
state_keys = list(net.state_dict().keys())
buffer_names = [name for name, _ in net.named_buffers()]

# Global hooks: every module's calls are seen, without registering on each one.
calls = []
pre = register_module_forward_pre_hook(lambda m, inp: calls.append(("pre", type(m).__name__)))
post = register_module_forward_hook(
    lambda m, inp, out: calls.append(("fwd", type(m).__name__, tuple(out.shape)))
)
grad_norms = []
back = register_module_full_backward_hook(
    lambda m, gin, gout: grad_norms.append((type(m).__name__, round(gout[0].norm().item(), 5)))
)
x = torch.randn(16, 4)
y = x.sum(1, keepdim=True).sin()
out = net(x)
F.mse_loss(out, y).backward()
for h in (pre, post, back):
    h.remove()
net.zero_grad()
net(x)
calls_after_remove = len(calls)

# A training loop; the non-persistent step counter still counts.
opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
losses = []
for _ in range(30):
    opt.zero_grad()
    loss = F.mse_loss(net(x), y)
    loss.backward()
    opt.step()
    losses.append(loss.item())
steps = int(net.stats.steps)
running_mean = net.stats.mean.tolist()
net.eval()
eval_mean_unchanged = torch.equal(net.stats(torch.ones(2, 8)), net.stats.mean)

# State-dict hooks: add the step count on save; rename old keys ("layer0.") on load.


def add_version(module, state_dict, prefix, local_metadata):
    state_dict[prefix + "format_version"] = torch.tensor(2)


net.register_state_dict_post_hook(add_version)
saved = net.state_dict()
saved_keys = list(saved.keys())

old_checkpoint = {k.replace("l0.", "layer0."): v.clone() for k, v in saved.items()}
del old_checkpoint["format_version"]


def rename_old_keys(
    module, state_dict, prefix, local_metadata, strict, missing, unexpected, errors
):
    for key in list(state_dict):
        if key.startswith(prefix + "layer0."):
            state_dict[prefix + "l0." + key[len(prefix + "layer0.") :]] = state_dict.pop(key)


# Module initialization on the meta device: no memory, then to_empty + reset_parameters.
with torch.device("meta"):
    fresh = Net()
meta_device = str(fresh.l0.weight.device)
fresh.to_empty(device="cpu")
for m in fresh.modules():
    if isinstance(m, MyLinear):
        m.reset_parameters()
fresh.stats.mean.zero_()
fresh.stats.steps.zero_()
fresh.register_load_state_dict_pre_hook(rename_old_keys)
result = fresh.load_state_dict(old_checkpoint, strict=False)
load_report = [sorted(result.missing_keys), sorted(result.unexpected_keys)]
fresh.eval()
reload_gap = (fresh(x) - net(x)).abs().max().item()
fresh_steps = int(fresh.stats.steps)  # not in the state_dict: still 0
try:
    fresh.load_state_dict({"l0.weight": torch.zeros(3, 3)}, strict=False)
    size_error = None
except RuntimeError as e:
    size_error = str(e)
