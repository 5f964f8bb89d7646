"""SimCLR (Chen et al. 2020) as people write it for PyTorch: two random augmentations of each
image, a small CNN encoder with a projection head, the NT-Xent loss written three common ways
(masked_fill + cross_entropy, the sthalles/SimCLR positives/negatives split, and the UvA tutorial's
cosine_similarity + logsumexp), then a linear probe on the frozen features; on synthetic 12x12
images of three shapes."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
device = "cuda" if torch.cuda.is_available() else "cpu"

size, n_classes = 12, 3
batch_size, epochs, temperature = 32, 4, 0.5
n_views = 2


def make_data(n):
    """Class 0: a cross, 1: a square outline, 2: a filled disc; random place and brightness."""
    x = torch.zeros(n, 1, size, size)
    y = torch.randint(0, n_classes, (n,))
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    for i in range(n):
        cy, cx = torch.randint(4, size - 4, (2,)).tolist()
        level = 0.6 + 0.4 * torch.rand(1).item()
        if y[i] == 0:
            x[i, 0, cy, cx - 3 : cx + 4] = level
            x[i, 0, cy - 3 : cy + 4, cx] = level
        elif y[i] == 1:
            x[i, 0, cy - 3 : cy + 4, cx - 3 : cx + 4] = level
            x[i, 0, cy - 2 : cy + 3, cx - 2 : cx + 3] = 0.0
        else:
            disc = ((yy - cy) ** 2 + (xx - cx) ** 2) <= 9
            x[i, 0][disc] = level
    return x, y


def augment(x):
    """Random crop (after reflection padding), horizontal flip, brightness and noise, per image."""
    n = x.shape[0]
    padded = F.pad(x, (2, 2, 2, 2), mode="reflect")
    offsets = torch.randint(0, 5, (n, 2))
    out = torch.stack(
        [padded[i, :, r : r + size, c : c + size] for i, (r, c) in enumerate(offsets.tolist())]
    )
    flip = torch.rand(n) < 0.5
    out = torch.where(flip[:, None, None, None], out.flip(-1), out)
    brightness = torch.empty(n, 1, 1, 1).uniform_(0.7, 1.3)
    out = out * brightness + 0.05 * torch.randn_like(out)
    return out.clamp(0, 1)


class Encoder(nn.Module):
    def __init__(self, feat_dim=32, proj_dim=16):
        super().__init__()
        self.backbone = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),
            nn.BatchNorm2d(16),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.BatchNorm2d(32),
            nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d((1, 1)),
            nn.Flatten(),
            nn.Linear(32, feat_dim),
        )
        self.projector = nn.Sequential(
            nn.Linear(feat_dim, feat_dim), nn.ReLU(inplace=True), nn.Linear(feat_dim, proj_dim)
        )

    def forward(self, x):
        h = self.backbone(x)
        return h, self.projector(h)


def nt_xent(z1, z2, temperature):
    """NT-Xent: each view's positive is the other view of the same image among 2N - 1 others."""
    z = F.normalize(torch.cat([z1, z2], dim=0), dim=1)
    n = z1.shape[0]
    sim = z @ z.t() / temperature
    sim = sim.masked_fill(torch.eye(2 * n, dtype=torch.bool, device=z.device), float("-inf"))
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
    return F.cross_entropy(sim, targets)


def info_nce_loss(features, batch_size, temperature):
    """The sthalles/SimCLR formulation: positives first, then the negatives, label 0."""
    labels = torch.cat([torch.arange(batch_size) for i in range(n_views)], dim=0)
    labels = (labels.unsqueeze(0) == labels.unsqueeze(1)).float()
    labels = labels.to(device)

    features = F.normalize(features, dim=1)
    similarity_matrix = torch.matmul(features, features.T)

    # discard the main diagonal from both the labels and the similarities matrix
    mask = torch.eye(labels.shape[0], dtype=torch.bool).to(device)
    labels = labels[~mask].view(labels.shape[0], -1)
    similarity_matrix = similarity_matrix[~mask].view(similarity_matrix.shape[0], -1)

    positives = similarity_matrix[labels.bool()].view(labels.shape[0], -1)
    negatives = similarity_matrix[~labels.bool()].view(similarity_matrix.shape[0], -1)

    logits = torch.cat([positives, negatives], dim=1)
    labels = torch.zeros(logits.shape[0], dtype=torch.long).to(device)
    logits = logits / temperature
    return logits, labels


def uva_nll(feats, temperature):
    """The UvA deep learning tutorial's form, with its top-1 accuracy of the positive."""
    cos_sim = F.cosine_similarity(feats[:, None, :], feats[None, :, :], dim=-1)
    self_mask = torch.eye(cos_sim.shape[0], dtype=torch.bool, device=cos_sim.device)
    cos_sim.masked_fill_(self_mask, -9e15)
    pos_mask = self_mask.roll(shifts=cos_sim.shape[0] // 2, dims=0)
    cos_sim = cos_sim / temperature
    nll = -cos_sim[pos_mask] + torch.logsumexp(cos_sim, dim=-1)
    comb_sim = torch.cat([cos_sim[pos_mask][:, None], cos_sim.masked_fill(pos_mask, -9e15)], dim=-1)
    sim_argsort = comb_sim.argsort(dim=-1, descending=True).argmin(dim=-1)
    return nll.mean(), (sim_argsort == 0).float().mean()


train_x, train_y = make_data(256)
test_x, test_y = make_data(96)
loader = DataLoader(TensorDataset(train_x), batch_size=batch_size, shuffle=True, drop_last=True)

model = Encoder().to(device)
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-4)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs * len(loader))

losses, gaps, top1 = [], [], []
for epoch in range(epochs):
    model.train()
    total = 0.0
    for (images,) in loader:
        images = images.to(device)
        x1, x2 = augment(images), augment(images)
        _, z1 = model(x1)
        _, z2 = model(x2)
        loss = nt_xent(z1, z2, temperature)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        total += loss.item()
        with torch.no_grad():  # the other two formulations give the same loss
            feats = torch.cat([z1, z2], dim=0)
            logits, labels = info_nce_loss(feats, images.shape[0], temperature)
            ce = nn.CrossEntropyLoss()(logits, labels)
            nll, acc = uva_nll(feats, temperature)
            gaps.append(max(abs(ce.item() - loss.item()), abs(nll.item() - loss.item())))
            top1.append(acc.item())
    losses.append(total / len(loader))
    print(f"Epoch {epoch}: NT-Xent {losses[-1]:.4f}  top-1 positive {top1[-1]:.3f}")

# Linear evaluation: a logistic-regression probe on frozen backbone features
model.eval()
with torch.no_grad():
    train_feats = model.backbone(train_x.to(device))
    test_feats = model.backbone(test_x.to(device))
mean, std = train_feats.mean(0, keepdim=True), train_feats.std(0, keepdim=True) + 1e-6
train_feats, test_feats = (train_feats - mean) / std, (test_feats - mean) / std
probe = nn.Linear(train_feats.shape[1], n_classes).to(device)
probe_opt = torch.optim.SGD(probe.parameters(), lr=0.5, momentum=0.9)
for step in range(100):
    probe_opt.zero_grad()
    probe_loss = F.cross_entropy(probe(train_feats), train_y.to(device))
    probe_loss.backward()
    probe_opt.step()
with torch.no_grad():
    probe_acc = (probe(test_feats).argmax(1) == test_y.to(device)).float().mean().item()
print(f"linear probe accuracy: {probe_acc:.3f}")
