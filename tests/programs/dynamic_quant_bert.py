"""Dynamic quantization of a small BERT-like classifier, following PyTorch's "dynamic
quantization on BERT" tutorial: a hand-written encoder (embeddings, self-attention with
``nn.Linear`` query/key/value projections, feed-forward, ``LayerNorm``, pooler) fine-tuned for a
few steps, ``quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)``, the saved state dict's
size, and the float and int8 models' accuracy and F1 score on held-out sentences."""

import io
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class SelfAttention(nn.Module):
    def __init__(self, hidden, heads):
        super().__init__()
        self.heads, self.head_dim = heads, hidden // heads
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)
        self.dense = nn.Linear(hidden, hidden)
        self.norm = nn.LayerNorm(hidden)

    def split(self, x):
        b, t, _ = x.shape
        return x.view(b, t, self.heads, self.head_dim).permute(0, 2, 1, 3)

    def forward(self, x, mask):
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.head_dim)
        scores = scores + (1.0 - mask[:, None, None, :]) * -10000.0
        ctx = torch.softmax(scores, dim=-1) @ v
        ctx = ctx.permute(0, 2, 1, 3).reshape(x.shape)
        return self.norm(x + self.dense(ctx))


class Layer(nn.Module):
    def __init__(self, hidden, heads, inner):
        super().__init__()
        self.attention = SelfAttention(hidden, heads)
        self.intermediate = nn.Linear(hidden, inner)
        self.output = nn.Linear(inner, hidden)
        self.norm = nn.LayerNorm(hidden)

    def forward(self, x, mask):
        x = self.attention(x, mask)
        return self.norm(x + self.output(F.gelu(self.intermediate(x))))


class TinyBert(nn.Module):
    def __init__(self, vocab=20, hidden=32, heads=4, inner=128, layers=2, max_len=12):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab, hidden)
        self.position_embeddings = nn.Embedding(max_len, hidden)
        self.norm = nn.LayerNorm(hidden)
        self.layers = nn.ModuleList([Layer(hidden, heads, inner) for _ in range(layers)])
        self.pooler = nn.Linear(hidden, hidden)
        self.classifier = nn.Linear(hidden, 2)

    def forward(self, ids, mask):
        pos = torch.arange(ids.shape[1]).unsqueeze(0)
        x = self.norm(self.word_embeddings(ids) + self.position_embeddings(pos))
        for layer in self.layers:
            x = layer(x, mask)
        return self.classifier(torch.tanh(self.pooler(x[:, 0])))


def make_batch(n):
    ids = torch.randint(2, 20, (n, 12))
    lengths = torch.randint(4, 13, (n,))
    mask = (torch.arange(12)[None, :] < lengths[:, None]).float()
    ids = ids * mask.long()  # 0 pads
    ids[:, 0] = 1  # [CLS]
    labels = ((ids == 7) | (ids == 11)).any(dim=1).long()  # "does the sentence mention 7 or 11"
    return ids, mask, labels


def f1_score(pred, labels):
    tp = ((pred == 1) & (labels == 1)).sum().item()
    fp = ((pred == 1) & (labels == 0)).sum().item()
    fn = ((pred == 0) & (labels == 1)).sum().item()
    return 2 * tp / max(2 * tp + fp + fn, 1)


def size_of_model(model):
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.getbuffer().nbytes


torch.manual_seed(0)
model = TinyBert()
train_ids, train_mask, train_labels = make_batch(64)
test_ids, test_mask, test_labels = make_batch(32)
opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
losses = []
for step in range(12):
    opt.zero_grad()
    loss = F.cross_entropy(model(train_ids, train_mask), train_labels)
    loss.backward()
    opt.step()
    losses.append(loss.item())

model.eval()
quantized = torch.ao.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)
with torch.no_grad():
    float_logits = model(test_ids, test_mask)
    quant_logits = quantized(test_ids, test_mask)
float_pred, quant_pred = float_logits.argmax(1), quant_logits.argmax(1)
float_acc = (float_pred == test_labels).float().mean().item()
quant_acc = (quant_pred == test_labels).float().mean().item()
float_f1, quant_f1 = f1_score(float_pred, test_labels), f1_score(quant_pred, test_labels)
logit_gap = (float_logits - quant_logits).abs().max().item()
quant_logit_values = quant_logits[:6].flatten().tolist()
float_size, quant_size = size_of_model(model), size_of_model(quantized)
layer_types = [type(m).__name__ for m in quantized.layers[0].attention.children()]
query = quantized.layers[0].attention.query
query_scale = query.weight().q_scale()
query_int = query.weight().int_repr()[0, :6].tolist()
print(f"float acc {float_acc:.3f} f1 {float_f1:.3f} size {float_size / 1e3:.1f} kB")
print(f"int8  acc {quant_acc:.3f} f1 {quant_f1:.3f} size {quant_size / 1e3:.1f} kB")
