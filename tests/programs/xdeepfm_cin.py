"""xDeepFM (Lian et al., 2018) as DeepCTR-Torch and FuxiCTR write it: field embeddings stacked
to (B, fields, d), the Compressed Interaction Network whose layers form outer products of the
current feature maps with the base fields by einsum over the embedding dimension, compress them
with Conv1d(kernel_size=1) and sum-pool each map (split_half keeps half for the next layer),
beside a linear part and a DNN, trained with BCE against a label made of a third-order field
interaction; AUC by the rank statistic (Mann-Whitney, torch.argsort of argsort)."""

import torch
import torch.nn as nn
import torch.nn.functional as F

FIELDS, CARD, D = 4, 6, 6


class CIN(nn.Module):
    def __init__(self, field_size, layer_size=(8, 8), split_half=True):
        super().__init__()
        self.layer_size, self.split_half = layer_size, split_half
        self.conv1ds = nn.ModuleList()
        self.field_nums = [field_size]
        for i, size in enumerate(layer_size):
            self.conv1ds.append(nn.Conv1d(self.field_nums[-1] * self.field_nums[0], size, 1))
            last = i == len(layer_size) - 1
            self.field_nums.append(size // 2 if split_half and not last else size)

    def forward(self, inputs):  # (B, fields, d)
        batch_size, _, dim = inputs.shape
        hidden_nn_layers, final_result = [inputs], []
        for i, size in enumerate(self.layer_size):
            x = torch.einsum("bhd,bmd->bhmd", hidden_nn_layers[-1], hidden_nn_layers[0])
            x = x.reshape(
                batch_size, hidden_nn_layers[-1].shape[1] * hidden_nn_layers[0].shape[1], dim
            )
            x = F.relu(self.conv1ds[i](x))
            if self.split_half and i != len(self.layer_size) - 1:
                next_hidden, direct_connect = torch.split(x, 2 * [size // 2], 1)
            else:
                direct_connect, next_hidden = x, 0
            final_result.append(direct_connect)
            hidden_nn_layers.append(next_hidden)
        return torch.sum(torch.cat(final_result, dim=1), -1)


class XDeepFM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.ModuleList([nn.Embedding(CARD, D) for _ in range(FIELDS)])
        self.linear = nn.ModuleList([nn.Embedding(CARD, 1) for _ in range(FIELDS)])
        self.cin = CIN(FIELDS)
        self.cin_linear = nn.Linear(4 + 8, 1, bias=False)
        self.dnn = nn.Sequential(
            nn.Linear(FIELDS * D, 16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 1)
        )
        for emb in self.embedding:
            nn.init.normal_(emb.weight, std=0.1)

    def forward(self, x):
        emb = torch.stack([e(x[:, i]) for i, e in enumerate(self.embedding)], 1)
        linear = sum(lin(x[:, i]) for i, lin in enumerate(self.linear))
        return (linear + self.cin_linear(self.cin(emb)) + self.dnn(emb.flatten(1))).squeeze(1)


def auc(scores, labels):
    ranks = scores.argsort().argsort().float() + 1
    n_pos = labels.sum()
    n_neg = len(labels) - n_pos
    return ((ranks[labels > 0].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)).item()


torch.manual_seed(0)
x = torch.randint(0, CARD, (768, FIELDS))
parity = (x[:, 0] + x[:, 1]) % 3 == x[:, 2] % 3  # a third-order interaction
y = torch.bernoulli(torch.where(parity | (x[:, 3] == 0), 0.9, 0.1))
model = XDeepFM()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-5)
losses = []
for epoch in range(10):
    model.train()
    for idx in torch.randperm(512).split(128):
        loss = F.binary_cross_entropy_with_logits(model(x[idx]), y[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
model.eval()
with torch.no_grad():
    scores = model(x[512:])
    test_auc = auc(scores, y[512:])
    cin_out_shape = tuple(model.cin(torch.randn(2, FIELDS, D)).shape)
conv_grad = model.cin.conv1ds[0].weight.grad.abs().sum().item()
print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}, AUC {test_auc:.3f}")
