"""Integrated gradients (Sundararajan et al.) written the way Captum's ``IntegratedGradients``
does it: Riemann step sizes and alphas for the ``riemann_left/right/middle/trapezoid`` and
``gausslegendre`` methods (``np.polynomial.legendre.leggauss``), the scaled inputs of all
steps stacked into one batch (``torch.cat`` of ``baseline + alpha * (input - baseline)``),
``torch.autograd.grad`` of the selected target logits (``gather``), the gradients reshaped per
step, weighted and summed, multiplied by ``input - baseline``; the completeness check
(``convergence_delta``), baselines of zeros, a blurred input and uniform noise, and the
attributions of a small trained CNN in float64."""

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)


def riemann_builders(method, n):
    if method == "gausslegendre":
        x, w = np.polynomial.legendre.leggauss(n)
        return list(0.5 * np.array(w)), list(0.5 * (np.array(x) + 1))
    step = 1.0 / n
    if method == "riemann_trapezoid":
        alphas = list(np.linspace(0, 1, n))
        sizes = [step / 2] + [step] * (n - 2) + [step / 2]
        return [s * n / (n - 1) for s in sizes], alphas
    sizes = [step] * n
    if method == "riemann_left":
        return sizes, list(np.linspace(0, 1 - step, n))
    if method == "riemann_right":
        return sizes, list(np.linspace(step, 1, n))
    return sizes, list(np.linspace(step / 2, 1 - step / 2, n))  # riemann_middle


class IntegratedGradients:
    def __init__(self, forward_func):
        self.forward_func = forward_func

    def attribute(self, inputs, baselines, target, n_steps=32, method="gausslegendre"):
        step_sizes, alphas = riemann_builders(method, n_steps)
        scaled = torch.cat([baselines + alpha * (inputs - baselines) for alpha in alphas], dim=0)
        scaled.requires_grad_()
        output = self.forward_func(scaled)
        selected = output.gather(1, target.repeat(n_steps).unsqueeze(1))
        (grads,) = torch.autograd.grad(torch.unbind(selected), scaled)
        scaled_grads = grads.contiguous().view(n_steps, -1) * torch.tensor(step_sizes).view(
            n_steps, 1
        )
        total_grads = scaled_grads.reshape((n_steps,) + inputs.shape).sum(0)
        return total_grads * (inputs - baselines)

    def convergence_delta(self, attributions, inputs, baselines, target):
        with torch.no_grad():
            start = self.forward_func(baselines).gather(1, target.unsqueeze(1)).squeeze(1)
            end = self.forward_func(inputs).gather(1, target.unsqueeze(1)).squeeze(1)
        return attributions.flatten(1).sum(1) - (end - start)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.conv2 = nn.Conv2d(4, 6, 3, padding=1)
        self.fc = nn.Linear(6 * 4 * 4, 3)

    def forward(self, x):
        x = F.max_pool2d(F.softplus(self.conv1(x), beta=4), 2)
        x = F.softplus(self.conv2(x), beta=4)
        return self.fc(x.flatten(1))


def make_images(n):  # class = which third of the image holds a bright bar
    labels = torch.arange(n) % 3
    x = 0.1 * torch.randn(n, 1, 8, 8)
    for i, c in enumerate(labels.tolist()):
        x[i, 0, :, 2 * c + 1 : 2 * c + 3] += 1.0
    return x, labels


x, y = make_images(48)
model = Net()
opt = torch.optim.Adam(model.parameters(), lr=0.01)
train_losses = []
for epoch in range(25):
    opt.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    train_losses.append(loss.item())
model.eval()
accuracy = (model(x).argmax(1) == y).double().mean().item()

ig = IntegratedGradients(model)
inputs, target = x[:6], y[:6]
blurred = F.avg_pool2d(F.pad(inputs, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
baselines = {
    "zeros": torch.zeros_like(inputs),
    "blurred": blurred,
    "uniform": torch.rand(inputs.shape),
}
deltas, attr_sums, bar_share = {}, {}, {}
for method in ("riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid"):
    attr = ig.attribute(inputs, baselines["zeros"], target, n_steps=20, method=method)
    deltas[method] = ig.convergence_delta(attr, inputs, baselines["zeros"], target).abs().max()
    deltas[method] = deltas[method].item()
for name, base in baselines.items():
    attr = ig.attribute(inputs, base, target, n_steps=24, method="gausslegendre")
    deltas[name] = ig.convergence_delta(attr, inputs, base, target).abs().max().item()
    attr_sums[name] = attr.flatten(1).sum(1).tolist()
    cols = torch.arange(8)
    on_bar = ((cols >= 2 * target[:, None] + 1) & (cols <= 2 * target[:, None] + 2)).double()
    mass = attr.clamp(min=0).sum(dim=2).squeeze(1)  # positive attribution per column
    bar_share[name] = ((mass * on_bar).sum(1) / mass.sum(1)).mean().item()
torch.set_default_dtype(torch.float32)
