"""DLRM (Naumov et al., 2019) as facebookresearch/dlrm's dlrm_s_pytorch.py writes it: a bottom
MLP for dense features, one nn.EmbeddingBag(mode="sum") per sparse feature fed flat indices
with offsets (and per-sample weights for one table), pairwise dot interactions by bmm of the
stacked features with their transpose, the strictly lower triangle gathered by
torch.tril_indices-style index lists (li, lj), a top MLP ending in a sigmoid, BCELoss with
predictions clamped as the reference does (loss_threshold), plain SGD; the 'cat' interaction
beside it, and the include_last_offset variant checked against the plain offsets."""

import numpy as np
import torch
import torch.nn as nn

LN_EMB, M_SPA, N_DENSE = [12, 9, 16], 4, 5


def create_mlp(ln, sigmoid_layer):
    layers = nn.ModuleList()
    for i in range(len(ln) - 1):
        n, m = int(ln[i]), int(ln[i + 1])
        linear = nn.Linear(n, m, bias=True)
        # the reference initializes with numpy's normal draws
        std_dev = np.sqrt(2 / (m + n))
        w = np.random.normal(0.0, std_dev, size=(m, n)).astype(np.float32)
        bt = np.random.normal(0.0, np.sqrt(1 / m), size=m).astype(np.float32)
        linear.weight.data = torch.tensor(w, requires_grad=True)
        linear.bias.data = torch.tensor(bt, requires_grad=True)
        layers.append(linear)
        layers.append(nn.Sigmoid() if i == sigmoid_layer else nn.ReLU())
    return nn.Sequential(*layers)


def create_emb(m, ln):
    emb_l = nn.ModuleList()
    for n in ln:
        emb = nn.EmbeddingBag(n, m, mode="sum", sparse=True)
        w = np.random.uniform(-np.sqrt(1 / n), np.sqrt(1 / n), size=(n, m)).astype(np.float32)
        emb.weight.data = torch.tensor(w, requires_grad=True)
        emb_l.append(emb)
    return emb_l


class DLRM(nn.Module):
    def __init__(self, arch_interaction_op):
        super().__init__()
        self.op = arch_interaction_op
        self.bot_l = create_mlp([N_DENSE, 8, M_SPA], sigmoid_layer=-1)
        n_f = len(LN_EMB) + 1
        top_in = M_SPA + n_f * (n_f - 1) // 2 if self.op == "dot" else M_SPA * n_f
        self.top_l = create_mlp([top_in, 8, 1], sigmoid_layer=1)
        self.emb_l = create_emb(M_SPA, LN_EMB)

    def interact_features(self, x, ly):
        if self.op == "cat":
            return torch.cat([x] + ly, dim=1)
        (batch_size, d) = x.shape
        T = torch.cat([x] + ly, dim=1).view((batch_size, -1, d))
        Z = torch.bmm(T, torch.transpose(T, 1, 2))
        _, ni, nj = Z.shape
        li = torch.tensor([i for i in range(ni) for j in range(i)])
        lj = torch.tensor([j for i in range(nj) for j in range(i)])
        Zflat = Z[:, li, lj]
        return torch.cat([x] + [Zflat], dim=1)

    def forward(self, dense_x, lS_o, lS_i, lS_w):
        x = self.bot_l(dense_x)
        ly = [
            emb(idx, off, per_sample_weights=w)
            for emb, off, idx, w in zip(self.emb_l, lS_o, lS_i, lS_w)
        ]
        return self.top_l(self.interact_features(x, ly))


def make_batch(n, rng):
    dense = torch.from_numpy(rng.random((n, N_DENSE)).astype(np.float32))
    lS_o, lS_i, lS_w = [], [], []
    for k, size in enumerate(LN_EMB):
        lengths = rng.integers(1, 4, n)
        lS_o.append(torch.from_numpy(np.concatenate([[0], np.cumsum(lengths)[:-1]])))
        lS_i.append(torch.from_numpy(rng.integers(0, size, lengths.sum())))
        w = rng.random(lengths.sum()).astype(np.float32) + 0.5 if k == 2 else None
        lS_w.append(None if w is None else torch.from_numpy(w))
    # clicks: dense feature 0 plus a bonus where the first table's first index is small
    first = lS_i[0][lS_o[0]]
    y = (dense[:, 0] + 0.6 * (first < 6).float() > 0.8).float().unsqueeze(1)
    return dense, lS_o, lS_i, lS_w, y


rng = np.random.default_rng(0)
batches = [make_batch(32, rng) for _ in range(10)]
results = {}
for op in ("dot", "cat"):
    np.random.seed(1)
    model = DLRM(op)
    loss_fn = nn.BCELoss(reduction="mean")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.3)
    losses, accuracies = [], []
    for epoch in range(6):
        for dense, lS_o, lS_i, lS_w, y in batches[:8]:
            z = model(dense, lS_o, lS_i, lS_w)
            loss_threshold = 1e-6
            z = torch.clamp(z, min=loss_threshold, max=(1.0 - loss_threshold))
            loss = loss_fn(z, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    with torch.no_grad():
        correct = [(model(*b[:4]).round() == b[4]).float().mean().item() for b in batches[8:]]
    results[op] = {"losses": losses, "accuracy": sum(correct) / 2}
    print(f"{op}: loss {losses[0]:.3f} -> {losses[-1]:.3f}, accuracy {results[op]['accuracy']:.3f}")
emb_grad = model.emb_l[0].weight.grad
emb_grad_layout = str(emb_grad.layout).rsplit(".")[-1]
emb_grad_dense = emb_grad.to_dense()[:4].tolist()
dense, lS_o, lS_i, lS_w, y = batches[9]
with torch.no_grad():
    bag = model.emb_l[2]
    plain = bag(lS_i[2], lS_o[2], per_sample_weights=lS_w[2])
    last = torch.cat([lS_o[2], torch.tensor([len(lS_i[2])])])
    with_last = nn.functional.embedding_bag(
        lS_i[2], bag.weight, last, mode="sum", per_sample_weights=lS_w[2], include_last_offset=True
    )
include_last_gap = (plain - with_last).abs().max().item()
