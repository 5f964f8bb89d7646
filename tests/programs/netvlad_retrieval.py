"""Place recognition with NetVLAD (Arandjelovic et al. 2016) as Nanne/pytorch-NetVlad writes its
``NetVLAD`` layer: soft assignment by a 1x1 Conv2d and ``F.softmax(dim=1)`` over the clusters,
residuals to the centroids built with ``expand``/``permute`` in a loop over clusters (the
repository's memory-saving form), weighted and summed over the pixels, intra-normalised with
``F.normalize(p=2, dim=2)``, flattened and L2-normalised; trained with batch-hard triplet
mining (Hermans et al. 2017: ``torch.cdist``, the hardest positive by ``max`` over a masked
distance matrix, the hardest negative by ``min`` after ``masked_fill(inf)``) plus
``nn.TripletMarginLoss`` on the mined triplets; recall@1 of query images against a database."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
N_PLACES, S = 6, 10


class NetVLAD(nn.Module):
    def __init__(self, num_clusters=4, dim=8, normalize_input=True):
        super().__init__()
        self.num_clusters, self.dim = num_clusters, dim
        self.alpha = 0
        self.normalize_input = normalize_input
        self.conv = nn.Conv2d(dim, num_clusters, kernel_size=(1, 1), bias=False)
        self.centroids = nn.Parameter(torch.rand(num_clusters, dim))

    def forward(self, x):
        N, C = x.shape[:2]
        if self.normalize_input:
            x = F.normalize(x, p=2, dim=1)  # across descriptor dim
        soft_assign = self.conv(x).view(N, self.num_clusters, -1)
        soft_assign = F.softmax(soft_assign, dim=1)
        x_flatten = x.view(N, C, -1)
        vlad = torch.zeros(
            [N, self.num_clusters, C], dtype=x.dtype, layout=x.layout, device=x.device
        )
        for C in range(self.num_clusters):  # slower than non-looped, but lower memory usage
            residual = x_flatten.unsqueeze(0).permute(1, 0, 2, 3) - self.centroids[
                C : C + 1, :
            ].expand(x_flatten.size(-1), -1, -1).permute(1, 2, 0).unsqueeze(0)
            residual *= soft_assign[:, C : C + 1, :].unsqueeze(2)
            vlad[:, C : C + 1, :] = residual.sum(dim=-1)
        vlad = F.normalize(vlad, p=2, dim=2)  # intra-normalization
        vlad = vlad.view(x.size(0), -1)  # flatten
        vlad = F.normalize(vlad, p=2, dim=1)  # L2 normalize
        return vlad


class EmbedNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.base = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 8, 3, padding=1)
        )
        self.net_vlad = NetVLAD()

    def forward(self, x):
        return self.net_vlad(self.base(x))


def batch_hard_triplets(embeddings, labels):
    dist = torch.cdist(embeddings, embeddings)
    same = labels.unsqueeze(0) == labels.unsqueeze(1)
    hardest_positive = (dist * same.float()).max(dim=1).indices
    hardest_negative = dist.masked_fill(same, float("inf")).min(dim=1).indices
    return hardest_positive, hardest_negative


places = torch.rand(N_PLACES, 3, S, S)


def views(labels):
    """A place seen again: shifted by a pixel or two, brightness changed, noise added."""
    out = []
    for label in labels.tolist():
        dx, dy = torch.randint(-2, 3, (2,)).tolist()
        image = torch.roll(places[label], shifts=(dy, dx), dims=(1, 2))
        out.append(image * (0.8 + 0.4 * torch.rand(1)) + 0.05 * torch.randn(3, S, S))
    return torch.stack(out)


model = EmbedNet()
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
triplet = nn.TripletMarginLoss(margin=0.3, p=2)
losses, mined = [], []
for step in range(14):
    labels = torch.arange(N_PLACES).repeat(2)
    embeddings = model(views(labels))
    pos, neg = batch_hard_triplets(embeddings.detach(), labels)
    mined.append(neg[:4].tolist())
    loss = triplet(embeddings, embeddings[pos], embeddings[neg])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())

model.eval()
with torch.no_grad():
    database = model(views(torch.arange(N_PLACES)))
    queries_labels = torch.arange(N_PLACES).repeat(3)
    queries = model(views(queries_labels))
    scores = queries @ database.T  # cosine similarity: descriptors are unit length
    recall_at_1 = (scores.argmax(1) == queries_labels).float().mean().item()
descriptor_norms = queries.norm(dim=1)[:3].tolist()
descriptor_dim = queries.shape[1]
centroids_have_grad = model.net_vlad.centroids.grad is not None
