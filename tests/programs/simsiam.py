"""SimSiam (Chen and He), following the reference ``simsiam/builder.py`` and ``main_simsiam.py``:
an encoder whose ``fc`` is replaced by a 3-layer projector ending in ``BatchNorm1d(dim,
affine=False)`` (the reference's ``encoder.fc[6].bias.requires_grad = False`` hack on the last
linear), a bottleneck predictor, the symmetric negative-cosine loss with stop-gradient
(``criterion(p1, z2.detach())`` with ``nn.CosineSimilarity(dim=1)``), SGD whose predictor group
keeps a fixed learning rate (``fix_lr``) while the rest follow a cosine schedule, and the
collapse monitor of the paper (the std of the l2-normalized output); then a linear probe."""

import math

import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)


class Encoder(nn.Module):
    def __init__(self, num_classes, zero_init_residual=True):
        super().__init__()
        self.stem = nn.Sequential(nn.Linear(12, 20), nn.BatchNorm1d(20), nn.ReLU(inplace=True))
        self.fc = nn.Linear(20, num_classes)

    def forward(self, x):
        return self.fc(self.stem(x))


class SimSiam(nn.Module):
    def __init__(self, base_encoder, dim=16, pred_dim=6):
        super().__init__()
        self.encoder = base_encoder(num_classes=dim, zero_init_residual=True)
        prev_dim = self.encoder.fc.weight.shape[1]
        self.encoder.fc = nn.Sequential(
            nn.Linear(prev_dim, prev_dim, bias=False),
            nn.BatchNorm1d(prev_dim),
            nn.ReLU(inplace=True),  # first layer
            nn.Linear(prev_dim, prev_dim, bias=False),
            nn.BatchNorm1d(prev_dim),
            nn.ReLU(inplace=True),  # second layer
            self.encoder.fc,
            nn.BatchNorm1d(dim, affine=False),
        )  # output layer
        self.encoder.fc[6].bias.requires_grad = False  # hack: not use bias as it is followed by BN
        self.predictor = nn.Sequential(
            nn.Linear(dim, pred_dim, bias=False),
            nn.BatchNorm1d(pred_dim),
            nn.ReLU(inplace=True),  # hidden layer
            nn.Linear(pred_dim, dim),
        )  # output layer

    def forward(self, x1, x2):
        z1 = self.encoder(x1)  # NxC
        z2 = self.encoder(x2)  # NxC
        p1 = self.predictor(z1)  # NxC
        p2 = self.predictor(z2)  # NxC
        return p1, p2, z1.detach(), z2.detach()


def adjust_learning_rate(optimizer, init_lr, epoch, epochs):
    cur_lr = init_lr * 0.5 * (1.0 + math.cos(math.pi * epoch / epochs))
    for param_group in optimizer.param_groups:
        if "fix_lr" in param_group and param_group["fix_lr"]:
            param_group["lr"] = init_lr
        else:
            param_group["lr"] = cur_lr


labels = torch.randint(0, 3, (96,))
data = torch.randn(3, 12)[labels] * 1.5 + 0.5 * torch.randn(96, 12)
loader = torch.utils.data.DataLoader(
    torch.utils.data.TensorDataset(data, labels), batch_size=32, shuffle=True, drop_last=True
)
model = SimSiam(Encoder)
criterion = nn.CosineSimilarity(dim=1)
init_lr = 0.05 * 32 / 256 * 8
optim_params = [
    {"params": model.encoder.parameters(), "fix_lr": False},
    {"params": model.predictor.parameters(), "fix_lr": True},
]
optimizer = torch.optim.SGD(optim_params, init_lr, momentum=0.9, weight_decay=1e-4)

epochs = 8
losses, output_std, group_lrs = [], [], []
for epoch in range(epochs):
    adjust_learning_rate(optimizer, init_lr, epoch, epochs)
    group_lrs.append([g["lr"] for g in optimizer.param_groups])
    for images, _ in loader:
        x1 = images * (1 + 0.1 * torch.randn(len(images), 1)) + 0.3 * torch.randn_like(images)
        x2 = images * (1 + 0.1 * torch.randn(len(images), 1)) + 0.3 * torch.randn_like(images)
        p1, p2, z1, z2 = model(x1=x1, x2=x2)
        loss = -(criterion(p1, z2).mean() + criterion(p2, z1).mean()) * 0.5
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    with torch.no_grad():
        output_std.append(F.normalize(z1, dim=1).std(dim=0).mean().item())

fc_bias_grad_none = model.encoder.fc[6].bias.grad is None
last_bn_params = len(list(model.encoder.fc[7].parameters()))
z_grad_fn = type(z1.grad_fn).__name__ if z1.grad_fn is not None else None

model.eval()
with torch.no_grad():
    feats = model.encoder.stem(data)
probe = nn.Linear(20, 3)
opt = torch.optim.LBFGS(probe.parameters(), lr=0.5, max_iter=30)


def closure():
    opt.zero_grad()
    loss = F.cross_entropy(probe(feats), labels)
    loss.backward()
    return loss


probe_loss = opt.step(closure).item()
probe_acc = (probe(feats).argmax(1) == labels).float().mean().item()
