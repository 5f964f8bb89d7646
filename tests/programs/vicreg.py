"""VICReg (Bardes, Ponce and LeCun), as the reference ``main_vicreg.py`` writes it: two
augmented views through a backbone and an expander (``Linear``/``BatchNorm1d``/``ReLU`` built
from a string spec), the invariance term (``F.mse_loss``), the variance hinge on
``torch.sqrt(x.var(dim=0) + 0.0001)`` after centring, and the covariance term that sums the
squared off-diagonal entries picked with the reference's ``off_diagonal`` view trick
(``flatten()[:-1].view(n - 1, n + 1)[:, 1:]``); SGD with momentum in the reference's two parameter groups (biases and norms without weight decay) and a cosine
schedule (``LambdaLR``), then a linear probe on frozen features."""

import math

import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)


def Projector(mlp, embedding):
    mlp_spec = f"{embedding}-{mlp}"
    layers = []
    f = list(map(int, mlp_spec.split("-")))
    for i in range(len(f) - 2):
        layers.append(nn.Linear(f[i], f[i + 1]))
        layers.append(nn.BatchNorm1d(f[i + 1]))
        layers.append(nn.ReLU(True))
    layers.append(nn.Linear(f[-2], f[-1], bias=False))
    return nn.Sequential(*layers)


def off_diagonal(x):
    n, m = x.shape
    assert n == m
    return x.flatten()[:-1].view(n - 1, n + 1)[:, 1:].flatten()


class VICReg(nn.Module):
    def __init__(self, in_dim=8, embedding=6, mlp="16-16", batch_size=32):
        super().__init__()
        self.num_features = int(mlp.split("-")[-1])
        self.batch_size = batch_size
        self.backbone = nn.Sequential(nn.Linear(in_dim, 12), nn.ReLU(), nn.Linear(12, embedding))
        self.projector = Projector(mlp, embedding)
        self.sim_coeff, self.std_coeff, self.cov_coeff = 25.0, 25.0, 1.0

    def forward(self, x, y):
        x = self.projector(self.backbone(x))
        y = self.projector(self.backbone(y))
        repr_loss = F.mse_loss(x, y)
        x = x - x.mean(dim=0)
        y = y - y.mean(dim=0)
        std_x = torch.sqrt(x.var(dim=0) + 0.0001)
        std_y = torch.sqrt(y.var(dim=0) + 0.0001)
        std_loss = torch.mean(F.relu(1 - std_x)) / 2 + torch.mean(F.relu(1 - std_y)) / 2
        cov_x = (x.T @ x) / (self.batch_size - 1)
        cov_y = (y.T @ y) / (self.batch_size - 1)
        cov_loss = off_diagonal(cov_x).pow_(2).sum().div(self.num_features) + off_diagonal(
            cov_y
        ).pow_(2).sum().div(self.num_features)
        loss = self.sim_coeff * repr_loss + self.std_coeff * std_loss + self.cov_coeff * cov_loss
        return loss, (repr_loss.item(), std_loss.item(), cov_loss.item())


def augment(x, generator):
    noise = torch.randn(x.shape, generator=generator) * 0.3
    mask = (torch.rand(x.shape, generator=generator) > 0.15).float()
    return (x + noise) * mask


n, batch = 128, 32
labels = torch.randint(0, 4, (n,))
centres = torch.randn(4, 8) * 2
data = centres[labels] + 0.5 * torch.randn(n, 8)
gen = torch.Generator().manual_seed(1)

model = VICReg(batch_size=batch)
decay = [p for p in model.parameters() if p.ndim > 1]
no_decay = [p for p in model.parameters() if p.ndim == 1]  # exclude_bias_and_norm
optimizer = torch.optim.SGD(
    [{"params": decay, "weight_decay": 1e-4}, {"params": no_decay, "weight_decay": 0.0}],
    lr=0.05,
    momentum=0.9,
)
epochs = 6
steps = epochs * (n // batch)
scheduler = torch.optim.lr_scheduler.LambdaLR(
    optimizer, lambda s: 0.5 * (1 + math.cos(math.pi * s / steps))
)
terms, losses = [], []
for epoch in range(epochs):
    perm = torch.randperm(n, generator=gen)
    for i in range(0, n, batch):
        x = data[perm[i : i + batch]]
        loss, parts = model(augment(x, gen), augment(x, gen))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    terms.append(parts)

model.eval()
with torch.no_grad():
    feats = model.backbone(data)
    z = model.projector(feats)
    embed_std = z.std(dim=0).mean().item()
    cov = torch.cov(z.T)
    off_cov = off_diagonal(cov).abs().mean().item()

probe = nn.Linear(feats.shape[1], 4)
probe_opt = torch.optim.SGD(probe.parameters(), lr=0.5, momentum=0.9)
for _ in range(40):
    probe_opt.zero_grad()
    probe_loss = F.cross_entropy(probe(feats), labels)
    probe_loss.backward()
    probe_opt.step()
probe_acc = (probe(feats).argmax(1) == labels).float().mean().item()
final_lr = scheduler.get_last_lr()[0]
projector_names = [type(m).__name__ for m in model.projector]
