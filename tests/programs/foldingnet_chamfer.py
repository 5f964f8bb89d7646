"""A point-cloud autoencoder in the style of FoldingNet (Yang et al. 2018) as the common PyTorch
ports write it, scaled down: a PointNet encoder (shared Conv1d MLP, ``torch.max`` over points)
to a codeword, a folding decoder that concatenates the codeword (``unsqueeze(2).repeat``) with a
fixed 2-D grid from ``torch.meshgrid`` and folds it twice through Conv1d MLPs into 3-D points,
and the Chamfer distance written with ``torch.cdist`` (exact differences: ``compute_mode=
"donot_use_mm_for_euclid_dist"``) and ``min`` in both directions (the usual stand-in for the
CUDA chamfer kernels); Adam with ExponentialLR. The clouds are ellipsoid
surfaces of random axes; the program records the losses, the Chamfer of the reconstructions
against a per-point nearest-neighbour check by ``argmin`` + ``gather``, and the codewords'
spread."""

import torch
import torch.nn as nn

torch.manual_seed(0)
N_POINTS, GRID = 48, 7


def ellipsoids(n):
    directions = torch.randn(n, N_POINTS, 3)
    directions = directions / directions.norm(dim=-1, keepdim=True)
    axes = 0.5 + torch.rand(n, 1, 3)
    return directions * axes  # (B, N, 3)


def chamfer_distance(a, b):
    """Mean squared distance from each point to its nearest neighbour in the other set, both
    ways; a (B, N, 3), b (B, M, 3)."""
    # exact differences, not PyTorch's default |a|^2 + |b|^2 - 2ab past 25 points, whose
    # cancellation would blur the small distances the loss is made of
    d = torch.cdist(a, b, compute_mode="donot_use_mm_for_euclid_dist").pow(2)  # (B, N, M)
    return d.min(dim=2)[0].mean(dim=1) + d.min(dim=1)[0].mean(dim=1)


class Encoder(nn.Module):
    def __init__(self, code=16):
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Conv1d(3, 32, 1), nn.ReLU(), nn.Conv1d(32, 64, 1), nn.ReLU(), nn.Conv1d(64, code, 1)
        )

    def forward(self, points):  # (B, N, 3)
        features = self.mlp(points.transpose(1, 2))
        return torch.max(features, 2, keepdim=False)[0]


class FoldingDecoder(nn.Module):
    def __init__(self, code=16):
        super().__init__()
        lin = torch.linspace(-0.5, 0.5, GRID)
        u, v = torch.meshgrid(lin, lin, indexing="ij")
        self.register_buffer("grid", torch.stack([u.reshape(-1), v.reshape(-1)]))  # (2, G*G)
        self.fold1 = nn.Sequential(
            nn.Conv1d(code + 2, 32, 1),
            nn.ReLU(),
            nn.Conv1d(32, 32, 1),
            nn.ReLU(),
            nn.Conv1d(32, 3, 1),
        )
        self.fold2 = nn.Sequential(
            nn.Conv1d(code + 3, 32, 1),
            nn.ReLU(),
            nn.Conv1d(32, 32, 1),
            nn.ReLU(),
            nn.Conv1d(32, 3, 1),
        )

    def forward(self, codeword):
        b, m = codeword.shape[0], self.grid.shape[1]
        code = codeword.unsqueeze(2).repeat(1, 1, m)
        grid = self.grid.unsqueeze(0).expand(b, -1, -1)
        folded = self.fold1(torch.cat([code, grid], dim=1))
        folded = self.fold2(torch.cat([code, folded], dim=1))
        return folded.transpose(1, 2)  # (B, G*G, 3)


encoder, decoder = Encoder(), FoldingDecoder()
params = list(encoder.parameters()) + list(decoder.parameters())
optimizer = torch.optim.Adam(params, lr=1e-2)
scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.97)
train = ellipsoids(16)
losses = []
for step in range(30):
    batch = train[(step % 2) * 8 : (step % 2) * 8 + 8]
    recon = decoder(encoder(batch))
    loss = chamfer_distance(recon, batch).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    scheduler.step()
    losses.append(loss.item())

with torch.no_grad():
    test = ellipsoids(4)
    codes = encoder(test)
    recon = decoder(codes)
    test_chamfer = chamfer_distance(recon, test).tolist()
    # the same one-way term by explicit nearest neighbours
    nearest = torch.cdist(test, recon, compute_mode="donot_use_mm_for_euclid_dist").argmin(
        dim=2
    )  # (B, N)
    matched = torch.gather(recon, 1, nearest.unsqueeze(-1).expand(-1, -1, 3))
    one_way = ((matched - test) ** 2).sum(-1).mean(1)
    one_way_gap = (
        (
            one_way
            - torch.cdist(test, recon, compute_mode="donot_use_mm_for_euclid_dist")
            .pow(2)
            .min(2)[0]
            .mean(1)
        )
        .abs()
        .max()
        .item()
    )
    code_spread = codes.std(dim=0).mean().item()
    shuffled = encoder(test[:, torch.randperm(N_POINTS)])
permutation_gap = (shuffled - codes).abs().max().item()
recon_shape = tuple(recon.shape)
final_lr = scheduler.get_last_lr()[0]
