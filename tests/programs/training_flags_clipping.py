"""The switches and guards at the top of modern training scripts: ``torch.set_float32_matmul_
precision("high")`` and the TF32/cuDNN flags (with their getters), global module hooks
(``register_module_forward_hook`` logging every layer's output scale, removed after),
``torch.nn.utils.get_total_norm`` + ``clip_grads_with_norm_`` computing one norm over two
parameter groups (as FSDP scripts split it), ``clip_grad_value_``, and
``torch.autograd.set_detect_anomaly`` turning a NaN made in backward into an error naming the
node; the flags are restored at the end."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.modules.module import register_module_forward_hook
from torch.nn.utils import clip_grad_value_, clip_grads_with_norm_, get_total_norm

before = (
    torch.get_float32_matmul_precision(),
    torch.backends.cuda.matmul.allow_tf32,
    torch.backends.cudnn.allow_tf32,
)
torch.set_float32_matmul_precision("high")
torch.backends.cuda.matmul.allow_tf32 = True
torch.backends.cudnn.allow_tf32 = True
flags = [
    torch.get_float32_matmul_precision(),
    torch.backends.cuda.matmul.allow_tf32,
    torch.backends.cudnn.allow_tf32,
]

torch.manual_seed(0)
encoder = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 16))
decoder = nn.Sequential(nn.ReLU(), nn.Linear(16, 10))
scales = {}


def log_scale(module, args, output):
    if isinstance(output, torch.Tensor) and not list(module.children()):
        name = type(module).__name__
        scales.setdefault(name, []).append(round(output.detach().abs().mean().item(), 5))


handle = register_module_forward_hook(log_scale)
x = torch.randn(32, 10)
groups = [list(encoder.parameters()), list(decoder.parameters())]
opt = torch.optim.SGD(encoder.parameters(), lr=0.05)
opt.add_param_group({"params": decoder.parameters(), "lr": 0.02})
losses, norms = [], []
for step in range(10):
    loss = F.mse_loss(decoder(encoder(x)), x)
    opt.zero_grad()
    loss.backward()
    group_norms = [get_total_norm([p.grad for p in g]) for g in groups]
    total = get_total_norm(torch.stack(group_norms))
    clip_grads_with_norm_([p for g in groups for p in g], max_norm=0.2, total_norm=total)
    if step % 2:
        clip_grad_value_(decoder.parameters(), clip_value=0.01)
    opt.step()
    losses.append(loss.item())
    norms.append(round(total.item(), 6))
handle.remove()
calls_after_remove = len(scales["Linear"])
encoder(x)
hook_removed = len(scales["Linear"]) == calls_after_remove
clipped_max = max(p.grad.abs().max().item() for p in decoder.parameters())


class SqrtOfNegative(torch.autograd.Function):
    @staticmethod
    def forward(ctx, t):
        ctx.save_for_backward(t)
        return t.clone()

    @staticmethod
    def backward(ctx, grad):
        (t,) = ctx.saved_tensors
        return grad * torch.sqrt(t - 10.0)  # NaN for every entry below 10


anomaly = []
w = torch.ones(3, requires_grad=True)
with torch.autograd.set_detect_anomaly(True):
    out = SqrtOfNegative.apply(w * 2).sum()
    try:
        out.backward()
    except RuntimeError as e:
        anomaly.append(str(e).split("'")[1] if "'" in str(e) else str(e))
anomaly_enabled_after = torch.is_anomaly_enabled()

torch.set_float32_matmul_precision(before[0])
torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = before[1], before[2]
restored = [torch.get_float32_matmul_precision(), torch.backends.cuda.matmul.allow_tf32]
