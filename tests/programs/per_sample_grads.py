"""The torch.func per-sample-gradients tutorial: the gradient of the loss for every example of
a batch, first by a Python loop over examples, then with vmap(grad(compute_loss)) over
functional_call; the two must agree. Then DP-SGD style clipping of the per-sample gradients
(norm per example, clamp, noise) trains a small CNN."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call, grad, vmap

torch.manual_seed(0)
device = "cpu"


class SimpleCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, 1)
        self.conv2 = nn.Conv2d(8, 16, 3, 1)
        self.fc1 = nn.Linear(16 * 2 * 2, 32)
        self.fc2 = nn.Linear(32, 4)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output


def loss_fn(predictions, targets):
    return F.nll_loss(predictions, targets)


batch_size = 16
data = torch.randn(batch_size, 1, 8, 8, device=device)
targets = torch.randint(4, (batch_size,), device=device)
model = SimpleCNN().to(device=device)


def compute_grad(sample, target):
    sample = sample.unsqueeze(0)  # prepend batch dimension for processing
    target = target.unsqueeze(0)
    prediction = model(sample)
    loss = loss_fn(prediction, target)
    return torch.autograd.grad(loss, list(model.parameters()))


def compute_sample_grads(data, targets):
    """manually process each sample with per sample gradient"""
    sample_grads = [compute_grad(data[i], targets[i]) for i in range(batch_size)]
    sample_grads = zip(*sample_grads)
    sample_grads = [torch.stack(shards) for shards in sample_grads]
    return sample_grads


per_sample_grads = compute_sample_grads(data, targets)
print(per_sample_grads[0].shape)

params = {k: v.detach() for k, v in model.named_parameters()}
buffers = {k: v.detach() for k, v in model.named_buffers()}


def compute_loss(params, buffers, sample, target):
    batch = sample.unsqueeze(0)
    targets = target.unsqueeze(0)
    predictions = functional_call(model, (params, buffers), (batch,))
    loss = loss_fn(predictions, targets)
    return loss


ft_compute_grad = grad(compute_loss)
ft_compute_sample_grad = vmap(ft_compute_grad, in_dims=(None, None, 0, 0))
ft_per_sample_grads = ft_compute_sample_grad(params, buffers, data, targets)

max_gap = 0.0
for per_sample_grad, ft_per_sample_grad in zip(per_sample_grads, ft_per_sample_grads.values()):
    assert torch.allclose(per_sample_grad, ft_per_sample_grad, atol=3e-3, rtol=1e-5)
    max_gap = max(max_gap, (per_sample_grad - ft_per_sample_grad).abs().max().item())

# The mean of the per-sample gradients is the ordinary batch gradient
model.zero_grad()
loss_fn(model(data), targets).backward()
mean_gap = max(
    (p.grad - g.mean(0)).abs().max().item()
    for p, g in zip(model.parameters(), ft_per_sample_grads.values())
)

# DP-SGD: clip each example's gradient to norm C, add Gaussian noise, average
C, sigma, lr = 1.0, 0.1, 0.1
x_train = torch.randn(256, 1, 8, 8)
y_train = (x_train.mean((1, 2, 3)) > 0).long() + 2 * (x_train[:, 0, :4].mean((1, 2)) > 0).long()
losses = []
for step in range(40):
    idx = torch.randperm(256)[:32]
    xb, yb = x_train[idx], y_train[idx]
    params = {k: v.detach() for k, v in model.named_parameters()}
    g = ft_compute_sample_grad(params, buffers, xb, yb)
    norms = torch.stack([v.flatten(1).norm(dim=1) for v in g.values()], dim=1).norm(dim=1)
    factor = (C / (norms + 1e-6)).clamp(max=1.0)
    with torch.no_grad():
        for name, p in model.named_parameters():
            clipped = (g[name] * factor.view(-1, *([1] * (g[name].dim() - 1)))).sum(0)
            noisy = (clipped + sigma * C * torch.randn_like(p)) / len(idx)
            p -= lr * 10 * noisy
        losses.append(loss_fn(model(xb), yb).item())
print(f"DP-SGD loss: first {losses[0]:.3f} last {sum(losses[-5:]) / 5:.3f}")
