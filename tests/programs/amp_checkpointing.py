"""The automatic-mixed-precision recipe on CPU and activation checkpointing: a deep MLP trained
under torch.autocast("cpu", dtype=torch.bfloat16) with torch.amp.GradScaler(enabled=False)
(the recipe's switchable scaler), outputs checked to be bfloat16 while the loss and the
parameters stay float32; then torch.utils.checkpoint.checkpoint and checkpoint_sequential
recompute activations in backward and give the same gradients as the plain model."""

import torch
import torch.nn as nn
from torch.utils.checkpoint import checkpoint, checkpoint_sequential

torch.manual_seed(0)
device = "cpu"


def make_model(in_size, out_size, num_layers):
    layers = []
    for _ in range(num_layers - 1):
        layers.append(torch.nn.Linear(in_size, in_size))
        layers.append(torch.nn.ReLU())
    layers.append(torch.nn.Linear(in_size, out_size))
    return torch.nn.Sequential(*tuple(layers)).to(device=device)


batch_size, in_size, out_size, num_layers, num_batches, epochs = 64, 64, 64, 3, 8, 3
data = [torch.randn(batch_size, in_size, device=device) for _ in range(num_batches)]
targets = [d.roll(1, dims=1) * 0.5 for d in data]
loss_fn = torch.nn.MSELoss().to(device)

# Default precision
net = make_model(in_size, out_size, num_layers)
opt = torch.optim.SGD(net.parameters(), lr=0.05)
for epoch in range(epochs):
    for input, target in zip(data, targets):
        output = net(input)
        loss = loss_fn(output, target)
        loss.backward()
        opt.step()
        opt.zero_grad()  # set_to_none=True here can modestly improve performance
fp32_loss = loss.item()

# All together: "Automatic Mixed Precision"
use_amp = True
torch.manual_seed(0)
net = make_model(in_size, out_size, num_layers)
opt = torch.optim.SGD(net.parameters(), lr=0.05)
scaler = torch.amp.GradScaler("cpu", enabled=False)
amp_losses = []
for epoch in range(epochs):
    for input, target in zip(data, targets):
        with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=use_amp):
            output = net(input)
            assert output.dtype is torch.bfloat16
            loss = loss_fn(output, target)
            assert loss.dtype is torch.float32  # mse_loss autocasts to float32
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        opt.zero_grad()
    amp_losses.append(loss.item())
print(f"fp32 loss {fp32_loss:.4f}, bf16 autocast losses {[round(v, 4) for v in amp_losses]}")
param_dtypes = {p.dtype for p in net.parameters()}
grad_dtypes_ok = all(p.grad is None for p in net.parameters())
scale = scaler.get_scale() if scaler.is_enabled() else None

# Saving/resuming with the scaler's state dict
checkpoint_state = {
    "model": net.state_dict(),
    "optimizer": opt.state_dict(),
    "scaler": scaler.state_dict(),
}
net.load_state_dict(checkpoint_state["model"])
opt.load_state_dict(checkpoint_state["optimizer"])
scaler.load_state_dict(checkpoint_state["scaler"])

# Inference under autocast
with torch.no_grad(), torch.autocast(device_type="cpu", dtype=torch.bfloat16):
    inference_dtype = net(data[0]).dtype


# Activation checkpointing
class CheckpointedBlock(nn.Module):
    def __init__(self, width, depth):
        super().__init__()
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.Linear(width, width), nn.Tanh(), nn.Linear(width, width))
            for _ in range(depth)
        )
        self.use_checkpoint = True

    def forward(self, x):
        for block in self.blocks:
            if self.use_checkpoint and self.training:
                x = x + checkpoint(block, x, use_reentrant=False)
            else:
                x = x + block(x)
        return x


torch.manual_seed(1)
model = CheckpointedBlock(32, 4)
x = torch.randn(16, 32)
model(x).pow(2).mean().backward()
grads_ckpt = [p.grad.clone() for p in model.parameters()]
model.zero_grad()
model.use_checkpoint = False
model(x).pow(2).mean().backward()
grads_plain = [p.grad.clone() for p in model.parameters()]
checkpoint_gap = max((a - b).abs().max().item() for a, b in zip(grads_ckpt, grads_plain))

seq = nn.Sequential(*[nn.Sequential(nn.Linear(32, 32), nn.ReLU()) for _ in range(6)])
x = torch.randn(8, 32, requires_grad=True)
out = checkpoint_sequential(seq, 3, x, use_reentrant=False)
out.sum().backward()
g_seq = x.grad.clone()
x.grad = None
seq(x).sum().backward()
sequential_gap = (g_seq - x.grad).abs().max().item()
print(f"checkpoint gradient gaps: {checkpoint_gap:.2e}, {sequential_gap:.2e}")
