"""The gating pieces of the Temporal Fusion Transformer (Lim et al.), as pytorch-forecasting
writes them: gated linear units (a Linear to 2x width then F.glu), gated residual networks
(ELU, dropout, GLU, add & LayerNorm, an optional context vector and a skip projection),
variable selection networks (per-variable GRNs and softmax weights over variables from a GRN
of the flattened inputs, conditioned on a static context), an LSTM encoder with a gated skip,
and interpretable multi-head attention (heads share the value projection and are averaged),
trained with a quantile (pinball) loss on a series driven by one of four inputs."""

import torch
import torch.nn as nn
import torch.nn.functional as F

QUANTILES = [0.1, 0.5, 0.9]


class GatedLinearUnit(nn.Module):
    def __init__(self, input_size, hidden_size, dropout=0.1):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(input_size, hidden_size * 2)

    def forward(self, x):
        return F.glu(self.fc(self.dropout(x)), dim=-1)


class GatedResidualNetwork(nn.Module):
    def __init__(self, input_size, hidden_size, output_size, context_size=None, dropout=0.1):
        super().__init__()
        self.skip = nn.Linear(input_size, output_size) if input_size != output_size else None
        self.fc1 = nn.Linear(input_size, hidden_size)
        self.context = nn.Linear(context_size, hidden_size, bias=False) if context_size else None
        self.fc2 = nn.Linear(hidden_size, hidden_size)
        self.gate = GatedLinearUnit(hidden_size, output_size, dropout)
        self.norm = nn.LayerNorm(output_size)

    def forward(self, x, context=None):
        residual = self.skip(x) if self.skip is not None else x
        h = self.fc1(x)
        if context is not None:
            h = h + self.context(context)
        h = self.fc2(F.elu(h))
        return self.norm(self.gate(h) + residual)


class VariableSelectionNetwork(nn.Module):
    def __init__(self, n_vars, hidden, context_size):
        super().__init__()
        self.prescalers = nn.ModuleList([nn.Linear(1, hidden) for _ in range(n_vars)])
        self.flat = GatedResidualNetwork(n_vars * hidden, hidden, n_vars, context_size)
        self.single = nn.ModuleList(
            [GatedResidualNetwork(hidden, hidden, hidden) for _ in range(n_vars)]
        )

    def forward(self, x, context):  # x: (B, T, n_vars)
        embedded = [pre(x[..., i : i + 1]) for i, pre in enumerate(self.prescalers)]
        weights = F.softmax(self.flat(torch.cat(embedded, -1), context), dim=-1)
        processed = torch.stack([grn(e) for grn, e in zip(self.single, embedded)], dim=-1)
        return (processed * weights.unsqueeze(-2)).sum(-1), weights


class InterpretableMultiHeadAttention(nn.Module):
    def __init__(self, d_model, n_head):
        super().__init__()
        self.d_k = d_model // n_head
        self.q = nn.ModuleList([nn.Linear(d_model, self.d_k) for _ in range(n_head)])
        self.k = nn.ModuleList([nn.Linear(d_model, self.d_k) for _ in range(n_head)])
        self.v = nn.Linear(d_model, self.d_k)  # shared across heads
        self.out = nn.Linear(self.d_k, d_model)

    def forward(self, x, mask):
        v = self.v(x)
        heads, attns = [], []
        for q, k in zip(self.q, self.k):
            scores = torch.bmm(q(x), k(x).transpose(1, 2)) / self.d_k**0.5
            attn = F.softmax(scores.masked_fill(mask, -1e9), dim=-1)
            heads.append(torch.bmm(attn, v))
            attns.append(attn)
        return self.out(torch.stack(heads).mean(0)), torch.stack(attns).mean(0)


class TinyTFT(nn.Module):
    def __init__(self, n_vars=4, n_static=3, hidden=16):
        super().__init__()
        self.static = nn.Embedding(n_static, hidden)
        self.static_context = GatedResidualNetwork(hidden, hidden, hidden)
        self.vsn = VariableSelectionNetwork(n_vars, hidden, hidden)
        self.lstm = nn.LSTM(hidden, hidden, batch_first=True)
        self.post_lstm = GatedLinearUnit(hidden, hidden)
        self.post_norm = nn.LayerNorm(hidden)
        self.attention = InterpretableMultiHeadAttention(hidden, 4)
        self.post_attn = GatedResidualNetwork(hidden, hidden, hidden)
        self.head = nn.Linear(hidden, len(QUANTILES))

    def forward(self, x, static_id):
        context = self.static_context(self.static(static_id)).unsqueeze(1)
        selected, weights = self.vsn(x, context.expand(-1, x.size(1), -1))
        lstm_out, _ = self.lstm(selected)
        h = self.post_norm(self.post_lstm(lstm_out) + selected)
        T = x.size(1)
        causal = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
        attended, attn = self.attention(h, causal.unsqueeze(0))
        return self.head(self.post_attn(attended + h)), weights, attn


def quantile_loss(pred, target):
    errors = target.unsqueeze(-1) - pred
    q = torch.tensor(QUANTILES)
    return torch.max((q - 1) * errors, q * errors).mean()


torch.manual_seed(0)
B, T = 32, 16
x = torch.randn(B, T, 4)
static_id = torch.randint(0, 3, (B,))
driver = torch.cumsum(x[..., 2], dim=1) * 0.3  # only variable 2 matters
y = driver + 0.5 * static_id.unsqueeze(1).float() + 0.1 * torch.randn(B, T)

model = TinyTFT()
optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
losses = []
for step in range(60):
    pred, _, _ = model(x, static_id)
    loss = quantile_loss(pred, y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())

model.eval()
with torch.no_grad():
    pred, weights, attn = model(x, static_id)
importance = weights.mean(dim=(0, 1)).tolist()
coverage = ((y >= pred[..., 0]) & (y <= pred[..., 2])).float().mean().item()
future_attention = attn.triu(diagonal=1).abs().max().item()
quantiles_ordered = (pred[..., 0] <= pred[..., 2]).float().mean().item()
print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}; importance {[round(w, 3) for w in importance]}")
print(f"80% interval coverage {coverage:.3f}")
