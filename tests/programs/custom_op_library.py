"""Custom operators as extension code writes them with ``torch.library``: a ``custom_op`` with
a fake (meta) implementation for shape inference, autograd registered with
``register_autograd`` + ``setup_context`` (saving inputs and non-tensor attributes on ctx), an
in-place op declared with ``mutates_args``, ``gradcheck`` through the op, the op reached as
``torch.ops.<namespace>.<name>`` and ``.default``; then a small model with a fused
"bias + GELU + scale" custom op trained next to the same model written with built-in ops.
(``torch.library.opcheck`` is left to the unit tests: PyTorch's imports its compiler stack.)"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.library import custom_op, register_fake

torch.manual_seed(0)


@custom_op("mylib::bias_gelu", mutates_args=())
def bias_gelu(x: torch.Tensor, bias: torch.Tensor, scale: float) -> torch.Tensor:
    y = x + bias
    return scale * 0.5 * y * (1.0 + torch.erf(y / math.sqrt(2.0)))


@bias_gelu.register_fake
def _(x, bias, scale):
    torch._check(x.shape[-1] == bias.shape[0])
    return torch.empty_like(x)


def _setup(ctx, inputs, output):
    x, bias, scale = inputs
    ctx.save_for_backward(x, bias)
    ctx.scale = scale


def _backward(ctx, grad):
    x, bias = ctx.saved_tensors
    y = x + bias
    cdf = 0.5 * (1.0 + torch.erf(y / math.sqrt(2.0)))
    pdf = torch.exp(-0.5 * y * y) / math.sqrt(2.0 * math.pi)
    gy = grad * ctx.scale * (cdf + y * pdf)
    return gy, gy.reshape(-1, gy.shape[-1]).sum(0), None


bias_gelu.register_autograd(_backward, setup_context=_setup)


@custom_op("mylib::clamp_norm_", mutates_args={"x"})
def clamp_norm_(x: torch.Tensor, max_norm: float) -> None:
    norms = x.norm(dim=1, keepdim=True).clamp(min=max_norm)
    x.mul_(max_norm / norms)


@register_fake("mylib::clamp_norm_")
def _(x, max_norm):
    return None


class CustomMLP(nn.Module):
    def __init__(self, use_custom):
        super().__init__()
        self.fc1 = nn.Linear(6, 16, bias=False)
        self.b1 = nn.Parameter(torch.zeros(16))
        self.fc2 = nn.Linear(16, 3)
        self.use_custom = use_custom

    def forward(self, x):
        h = self.fc1(x)
        if self.use_custom:
            h = torch.ops.mylib.bias_gelu(h, self.b1, 1.5)
        else:
            h = 1.5 * F.gelu(h + self.b1)
        return self.fc2(h)


x = torch.randn(5, 4, dtype=torch.float64, requires_grad=True)
b = torch.randn(4, dtype=torch.float64, requires_grad=True)
grad_ok = torch.autograd.gradcheck(lambda x, b: bias_gelu(x, b, 0.7), (x, b))
out = bias_gelu(x, b, 0.7)
value_gap = (out - 0.7 * F.gelu(x + b)).abs().max().item()
via_ops = torch.ops.mylib.bias_gelu.default(x, b, 0.7)
ops_gap = (via_ops - out).abs().max().item()
grads = torch.autograd.grad(out.sum(), (x, b))
grad_sample = [round(v, 8) for v in grads[1].tolist()]

w = torch.randn(4, 3) * 3
clamp_norm_(w, 1.0)
clamped_norms = [round(v, 5) for v in w.norm(dim=1).tolist()]

torch.manual_seed(1)
base = CustomMLP(True)
twin = CustomMLP(False)
twin.load_state_dict(base.state_dict())
data = torch.randn(64, 6)
target = (data[:, :3] * data[:, 3:]).argmax(1)
losses, twin_losses = [], []
for model, record in ((base, losses), (twin, twin_losses)):
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    for step in range(15):
        loss = F.cross_entropy(model(data), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            clamp_norm_(model.fc2.weight, 2.0)
        record.append(loss.item())
bias_after = [round(v, 6) for v in base.b1[:4].tolist()]
row_norm_max = base.fc2.weight.norm(dim=1).max().item()
