"""Kolmogorov-Arnold networks (Liu et al. 2024) as Blealtan/efficient-kan writes its KANLinear:
a per-input B-spline grid kept as a buffer (``torch.arange`` knots, ``expand``), the
Cox-de Boor recursion on broadcast comparisons and slices, a base branch ``F.linear(SiLU(x))``
plus a spline branch over the flattened basis, spline weights initialized from noise through
``torch.linalg.lstsq`` (``curve2coeff``), a per-edge spline scaler, grid updates that re-fit the
coefficients to adaptive (sorted-data quantile) knots with ``torch.sort``, ``linspace`` indices,
``torch.concatenate``, and the L1 + entropy regularization; fitted to ``exp(sin(pi x) + y^2)``
with Adam, a grid update in the middle."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


class KANLinear(nn.Module):
    def __init__(self, in_features, out_features, grid_size=5, spline_order=3, scale_noise=0.1):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.grid_size, self.spline_order = grid_size, spline_order
        h = 2.0 / grid_size  # grid_range [-1, 1]
        grid = (torch.arange(-spline_order, grid_size + spline_order + 1) * h - 1).expand(
            in_features, -1
        )
        self.register_buffer("grid", grid.contiguous())
        self.base_weight = nn.Parameter(torch.empty(out_features, in_features))
        self.spline_weight = nn.Parameter(
            torch.empty(out_features, in_features, grid_size + spline_order)
        )
        self.spline_scaler = nn.Parameter(torch.empty(out_features, in_features))
        self.base_activation, self.grid_eps = nn.SiLU(), 0.02
        nn.init.kaiming_uniform_(self.base_weight, a=math.sqrt(5))
        with torch.no_grad():
            noise = (torch.rand(grid_size + 1, in_features, out_features) - 0.5) * scale_noise
            noise = noise / grid_size
            knots = self.grid.T[spline_order:-spline_order]
            self.spline_weight.data.copy_(self.curve2coeff(knots, noise))
            nn.init.kaiming_uniform_(self.spline_scaler, a=math.sqrt(5))

    def b_splines(self, x):  # (batch, in) -> (batch, in, grid_size + spline_order)
        grid = self.grid
        x = x.unsqueeze(-1)
        bases = ((x >= grid[:, :-1]) & (x < grid[:, 1:])).to(x.dtype)
        for k in range(1, self.spline_order + 1):
            left = (x - grid[:, : -(k + 1)]) / (grid[:, k:-1] - grid[:, : -(k + 1)])
            right = (grid[:, k + 1 :] - x) / (grid[:, k + 1 :] - grid[:, 1:(-k)])
            bases = left * bases[:, :, :-1] + right * bases[:, :, 1:]
        return bases.contiguous()

    def curve2coeff(self, x, y):  # least-squares spline coefficients through (x, y)
        A = self.b_splines(x).transpose(0, 1)  # (in, batch, coeff)
        B = y.transpose(0, 1)  # (in, batch, out)
        solution = torch.linalg.lstsq(A, B).solution  # (in, coeff, out)
        return solution.permute(2, 0, 1).contiguous()

    @property
    def scaled_spline_weight(self):
        return self.spline_weight * self.spline_scaler.unsqueeze(-1)

    def forward(self, x):
        base_output = F.linear(self.base_activation(x), self.base_weight)
        spline_output = F.linear(
            self.b_splines(x).view(x.size(0), -1),
            self.scaled_spline_weight.view(self.out_features, -1),
        )
        return base_output + spline_output

    @torch.no_grad()
    def update_grid(self, x, margin=0.01):
        batch = x.size(0)
        splines = self.b_splines(x).permute(1, 0, 2)  # (in, batch, coeff)
        orig_coeff = self.scaled_spline_weight.permute(1, 2, 0)  # (in, coeff, out)
        unreduced = torch.bmm(splines, orig_coeff).permute(1, 0, 2)  # (batch, in, out)
        x_sorted = torch.sort(x, dim=0)[0]
        grid_adaptive = x_sorted[
            torch.linspace(0, batch - 1, self.grid_size + 1, dtype=torch.int64, device=x.device)
        ]
        uniform_step = (x_sorted[-1] - x_sorted[0] + 2 * margin) / self.grid_size
        grid_uniform = (
            torch.arange(self.grid_size + 1, dtype=torch.float32, device=x.device).unsqueeze(1)
            * uniform_step
            + x_sorted[0]
            - margin
        )
        grid = self.grid_eps * grid_uniform + (1 - self.grid_eps) * grid_adaptive
        steps = torch.arange(self.spline_order, 0, -1, device=x.device).unsqueeze(1)
        grid = torch.concatenate(
            [
                grid[:1] - uniform_step * steps,
                grid,
                grid[-1:] + uniform_step * torch.arange(1, self.spline_order + 1).unsqueeze(1),
            ],
            dim=0,
        )
        self.grid.copy_(grid.T)
        self.spline_weight.data.copy_(self.curve2coeff(x, unreduced))

    def regularization_loss(self, regularize_activation=1.0, regularize_entropy=1.0):
        l1_fake = self.spline_weight.abs().mean(-1)
        regularization_loss_activation = l1_fake.sum()
        p = l1_fake / regularization_loss_activation
        regularization_loss_entropy = -torch.sum(p * p.log())
        return (
            regularize_activation * regularization_loss_activation
            + regularize_entropy * regularization_loss_entropy
        )


class KAN(nn.Module):
    def __init__(self, widths):
        super().__init__()
        self.layers = nn.ModuleList(KANLinear(a, b) for a, b in zip(widths[:-1], widths[1:]))

    def forward(self, x, update_grid=False):
        for layer in self.layers:
            if update_grid:
                layer.update_grid(x)
            x = layer(x)
        return x

    def regularization_loss(self):
        return sum(layer.regularization_loss() for layer in self.layers)


def target_fn(x):
    return torch.exp(torch.sin(math.pi * x[:, :1]) + x[:, 1:] ** 2)


x_train = torch.rand(128, 2) * 2 - 1
y_train = target_fn(x_train)
model = KAN([2, 4, 1])
basis_sums = model.layers[0].b_splines(x_train[:4]).sum(-1).tolist()  # partition of unity
optimizer = torch.optim.Adam(model.parameters(), lr=5e-2)
losses = []
for step in range(20):
    pred = model(x_train, update_grid=(step == 10))
    loss = F.mse_loss(pred, y_train) + 1e-4 * model.regularization_loss()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
grid_after = model.layers[0].grid[0].tolist()
x_test = torch.rand(64, 2) * 2 - 1
with torch.no_grad():
    test_mse = F.mse_loss(model(x_test), target_fn(x_test)).item()
    reg = model.regularization_loss().item()
print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}, test mse {test_mse:.4f}, reg {reg:.3f}")
