"""DGCNN (Wang et al. 2019, "Dynamic Graph CNN for Learning on Point Clouds") as
WangYueFT/dgcnn's pytorch/model.py writes it, scaled down: ``knn`` from the pairwise distance
``-xx - inner - xx.transpose(2, 1)`` and ``topk``, ``get_graph_feature`` gathering neighbours
through a flat index (``idx + idx_base``, ``x.view(batch_size * num_points, -1)[idx, :]``) and
concatenating ``feature - x`` with ``x``, EdgeConv by a 1x1 Conv2d + BatchNorm2d +
LeakyReLU(0.2) and ``max(dim=-1, keepdim=False)[0]``, the graph rebuilt in feature space by the
second layer, global ``adaptive_max_pool1d`` and ``adaptive_avg_pool1d`` concatenated; trained
with the repository's ``cal_loss`` (label smoothing by ``scatter``) on synthetic shapes (sphere,
cube surface, cylinder) under random rotations about the up axis; BatchNorm's statistics
recomputed as cumulative averages (``reset_running_stats``, ``momentum=None``) before testing."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
N_POINTS, K = 32, 6


def sample_shape(kind, n):
    if kind == 0:  # sphere
        p = torch.randn(n, 3)
        p = p / p.norm(dim=1, keepdim=True)
    elif kind == 1:  # cube surface
        p = torch.rand(n, 3) * 2 - 1
        face = torch.randint(0, 3, (n,))
        p[torch.arange(n), face] = torch.sign(torch.randn(n))
    else:  # cylinder
        theta = torch.rand(n) * 2 * math.pi
        p = torch.stack([theta.cos(), theta.sin(), torch.rand(n) * 2 - 1], dim=1)
    angle = torch.rand(()) * 2 * math.pi
    c, s = math.cos(angle), math.sin(angle)
    rotation = torch.tensor([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    return (p @ rotation.T + 0.02 * torch.randn(n, 3)).T  # (3, N) as the repository keeps it


def make_set(n):
    labels = torch.arange(n) % 3
    return torch.stack([sample_shape(int(k), N_POINTS) for k in labels]), labels


def knn(x, k):
    inner = -2 * torch.matmul(x.transpose(2, 1), x)
    xx = torch.sum(x**2, dim=1, keepdim=True)
    pairwise_distance = -xx - inner - xx.transpose(2, 1)
    idx = pairwise_distance.topk(k=k, dim=-1)[1]  # (batch_size, num_points, k)
    return idx


def get_graph_feature(x, k=20, idx=None):
    batch_size = x.size(0)
    num_points = x.size(2)
    x = x.view(batch_size, -1, num_points)
    if idx is None:
        idx = knn(x, k=k)
    idx_base = torch.arange(0, batch_size, device=x.device).view(-1, 1, 1) * num_points
    idx = idx + idx_base
    idx = idx.view(-1)
    _, num_dims, _ = x.size()
    x = x.transpose(2, 1).contiguous()
    feature = x.view(batch_size * num_points, -1)[idx, :]
    feature = feature.view(batch_size, num_points, k, num_dims)
    x = x.view(batch_size, num_points, 1, num_dims).repeat(1, 1, k, 1)
    feature = torch.cat((feature - x, x), dim=3).permute(0, 3, 1, 2).contiguous()
    return feature


class DGCNN(nn.Module):
    def __init__(self, k=K, emb_dims=32, output_channels=3):
        super().__init__()
        self.k = k
        self.bn1, self.bn2 = nn.BatchNorm2d(16), nn.BatchNorm2d(16)
        self.bn3 = nn.BatchNorm1d(emb_dims)
        self.conv1 = nn.Sequential(
            nn.Conv2d(6, 16, kernel_size=1, bias=False), self.bn1, nn.LeakyReLU(negative_slope=0.2)
        )
        self.conv2 = nn.Sequential(
            nn.Conv2d(32, 16, kernel_size=1, bias=False), self.bn2, nn.LeakyReLU(negative_slope=0.2)
        )
        self.conv3 = nn.Sequential(
            nn.Conv1d(32, emb_dims, kernel_size=1, bias=False),
            self.bn3,
            nn.LeakyReLU(negative_slope=0.2),
        )
        self.linear1 = nn.Linear(emb_dims * 2, 16, bias=False)
        self.bn6 = nn.BatchNorm1d(16)
        self.dp1 = nn.Dropout(p=0.5)
        self.linear2 = nn.Linear(16, output_channels)

    def forward(self, x):
        batch_size = x.size(0)
        x = get_graph_feature(x, k=self.k)
        x1 = self.conv1(x).max(dim=-1, keepdim=False)[0]
        x = get_graph_feature(x1, k=self.k)  # the graph is rebuilt in feature space
        x2 = self.conv2(x).max(dim=-1, keepdim=False)[0]
        x = self.conv3(torch.cat((x1, x2), dim=1))
        x1 = F.adaptive_max_pool1d(x, 1).view(batch_size, -1)
        x2 = F.adaptive_avg_pool1d(x, 1).view(batch_size, -1)
        x = torch.cat((x1, x2), 1)
        x = F.leaky_relu(self.bn6(self.linear1(x)), negative_slope=0.2)
        return self.linear2(self.dp1(x))


def cal_loss(pred, gold, smoothing=True):
    """Cross entropy with label smoothing, as the repository's util.py."""
    gold = gold.contiguous().view(-1)
    if smoothing:
        eps = 0.2
        n_class = pred.size(1)
        one_hot = torch.zeros_like(pred).scatter(1, gold.view(-1, 1), 1)
        one_hot = one_hot * (1 - eps) + (1 - one_hot) * eps / (n_class - 1)
        log_prb = F.log_softmax(pred, dim=1)
        loss = -(one_hot * log_prb).sum(dim=1).mean()
    else:
        loss = F.cross_entropy(pred, gold, reduction="mean")
    return loss


points, labels = make_set(24)
test_points, test_labels = make_set(12)
first_idx = knn(points[:1], K)[0, :4].tolist()
model = DGCNN()
opt = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=1e-4)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(opt, 10, eta_min=0.0001)
losses = []
for epoch in range(10):
    model.train()
    for batch in torch.randperm(24).split(12):
        opt.zero_grad()
        loss = cal_loss(model(points[batch]), labels[batch])
        loss.backward()
        opt.step()
        losses.append(loss.item())
    scheduler.step()
# "precise BN": the running statistics still remember their initial values after so few steps,
# so they are recomputed as cumulative averages over the training set before evaluation
bn_layers = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
for bn in bn_layers:
    bn.reset_running_stats()
    bn.momentum = None
with torch.no_grad():
    for batch in torch.arange(24).split(12):
        model(points[batch])
bn_batches = [int(bn.num_batches_tracked) for bn in bn_layers]
model.eval()
with torch.no_grad():
    logits = model(test_points)
    shuffled = model(test_points[:, :, torch.randperm(N_POINTS)])
test_accuracy = (logits.argmax(1) == test_labels).float().mean().item()
permutation_gap = (logits - shuffled).abs().max().item()
plain_ce = cal_loss(logits, test_labels, smoothing=False).item()
