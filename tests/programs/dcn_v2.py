"""DCN-V2 (Wang et al., 2021), the deep & cross network for click-through prediction, as
recommender libraries (DeepCTR-Torch, TorchRec's LowRankCrossNet) write it: categorical
features embedded and concatenated with dense ones into x0, full-rank cross layers
x_{l+1} = x0 * (W x_l + b) + x_l and a low-rank mixture-of-experts form (U (g(C g(V^T x))))
gated by a softmax over experts, in parallel with a deep MLP, trained with BCE on a target with
explicit feature crosses and scored by AUC (a ROC curve by cumsum, its area by trapezoid)."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CARDS, EMB, N_DENSE = [6, 8, 4], 4, 3


class CrossNetV2(nn.Module):
    def __init__(self, d, layers=2):
        super().__init__()
        self.W = nn.ModuleList([nn.Linear(d, d) for _ in range(layers)])

    def forward(self, x0):
        x = x0
        for linear in self.W:
            x = x0 * linear(x) + x
        return x


class CrossNetMix(nn.Module):
    def __init__(self, d, layers=2, rank=4, experts=2):
        super().__init__()
        self.U = nn.ParameterList(
            [nn.Parameter(torch.empty(experts, d, rank)) for _ in range(layers)]
        )
        self.V = nn.ParameterList(
            [nn.Parameter(torch.empty(experts, d, rank)) for _ in range(layers)]
        )
        self.C = nn.ParameterList(
            [nn.Parameter(torch.empty(experts, rank, rank)) for _ in range(layers)]
        )
        self.bias = nn.ParameterList([nn.Parameter(torch.zeros(d, 1)) for _ in range(layers)])
        self.gating = nn.ModuleList([nn.Linear(d, 1, bias=False) for _ in range(experts)])
        for p in [*self.U, *self.V, *self.C]:
            nn.init.xavier_normal_(p)

    def forward(self, x0):
        x_0 = x0.unsqueeze(2)  # (B, d, 1)
        x_l = x_0
        for i in range(len(self.U)):
            outputs, scores = [], []
            for e, gate in enumerate(self.gating):
                scores.append(gate(x_l.squeeze(2)))
                v_x = torch.tanh(torch.matmul(self.V[i][e].t(), x_l))
                v_x = torch.tanh(torch.matmul(self.C[i][e], v_x))
                uv_x = torch.matmul(self.U[i][e], v_x)
                outputs.append((x_0 * (uv_x + self.bias[i])).squeeze(2))
            outputs = torch.stack(outputs, 2)  # (B, d, experts)
            weights = torch.softmax(torch.stack(scores, 1), 1)  # (B, experts, 1)
            x_l = torch.matmul(outputs, weights) + x_l
        return x_l.squeeze(2)


class DCN(nn.Module):
    def __init__(self, cross):
        super().__init__()
        self.embeddings = nn.ModuleList([nn.Embedding(c, EMB) for c in CARDS])
        d = EMB * len(CARDS) + N_DENSE
        self.cross = CrossNetV2(d) if cross == "full" else CrossNetMix(d)
        self.deep = nn.Sequential(nn.Linear(d, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU())
        self.out = nn.Linear(d + 16, 1)

    def forward(self, cat, dense):
        x0 = torch.cat([emb(cat[:, i]) for i, emb in enumerate(self.embeddings)] + [dense], 1)
        return self.out(torch.cat([self.cross(x0), self.deep(x0)], 1)).squeeze(1)


def auc(scores, labels):
    order = scores.argsort(descending=True)
    labels = labels[order]
    tps, fps = labels.cumsum(0), (1 - labels).cumsum(0)
    tpr, fpr = tps / tps[-1], fps / fps[-1]
    return torch.trapezoid(tpr, fpr).item()


torch.manual_seed(0)
n = 1024
cat = torch.stack([torch.randint(0, c, (n,)) for c in CARDS], 1)
dense = torch.randn(n, N_DENSE)
logit = (
    1.5 * dense[:, 0] * dense[:, 1] + (cat[:, 0] == cat[:, 2]).float() * 2 - 1 + 0.5 * dense[:, 2]
)
labels = torch.bernoulli(torch.sigmoid(logit))

results = {}
for kind in ("full", "mix"):
    torch.manual_seed(1)
    model = DCN(kind)
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    losses = []
    for epoch in range(15):
        for idx in torch.randperm(768).split(128):
            loss = F.binary_cross_entropy_with_logits(model(cat[idx], dense[idx]), labels[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    with torch.no_grad():
        test_auc = auc(model(cat[768:], dense[768:]), labels[768:])
    results[kind] = {"losses": losses, "auc": test_auc}
    print(f"{kind}: loss {losses[0]:.3f} -> {losses[-1]:.3f}, AUC {test_auc:.3f}")
torch.manual_seed(1)
full = DCN("full")
cross_shapes = [tuple(w.weight.shape) for w in full.cross.W]
