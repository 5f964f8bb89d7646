"""ALBERT (Lan et al., 2020) in miniature, as HuggingFace's modeling_albert lays it out:
factorized embeddings (a small embedding size E projected up to the hidden size H), one
transformer layer whose parameters are shared across all the layer applications (a group
applied num_hidden_layers times), the gelu_new activation (tanh approximation), masked language
modelling with a decoder tied to the word embeddings and an output bias, and the sentence-order
prediction (SOP) head on the pooled [CLS] state; parameters counted against an unshared BERT."""

import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB, E, H, LAYERS, CLS, SEP, MASK = 50, 16, 48, 3, 1, 2, 3


class AlbertLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.attention = nn.MultiheadAttention(H, 4, dropout=0.0, batch_first=True)
        self.attn_norm = nn.LayerNorm(H, eps=1e-12)
        self.ffn = nn.Linear(H, 4 * H)
        self.ffn_output = nn.Linear(4 * H, H)
        self.full_layer_layer_norm = nn.LayerNorm(H, eps=1e-12)

    def forward(self, x, key_padding_mask):
        attn, _ = self.attention(x, x, x, key_padding_mask=key_padding_mask, need_weights=False)
        x = self.attn_norm(x + attn)
        h = self.ffn_output(F.gelu(self.ffn(x), approximate="tanh"))
        return self.full_layer_layer_norm(x + h)


class Albert(nn.Module):
    def __init__(self):
        super().__init__()
        self.word_embeddings = nn.Embedding(VOCAB, E, padding_idx=0)
        self.position_embeddings = nn.Embedding(32, E)
        self.token_type_embeddings = nn.Embedding(2, E)
        self.emb_norm = nn.LayerNorm(E, eps=1e-12)
        self.embedding_hidden_mapping_in = nn.Linear(E, H)
        self.shared_layer = AlbertLayer()
        self.pooler = nn.Linear(H, H)
        self.sop = nn.Linear(H, 2)
        self.mlm_dense = nn.Linear(H, E)
        self.mlm_norm = nn.LayerNorm(E, eps=1e-12)
        self.mlm_bias = nn.Parameter(torch.zeros(VOCAB))

    def forward(self, ids, token_types):
        pos = torch.arange(ids.size(1)).expand_as(ids)
        e = self.word_embeddings(ids) + self.position_embeddings(pos)
        e = self.emb_norm(e + self.token_type_embeddings(token_types))
        h = self.embedding_hidden_mapping_in(e)
        for _ in range(LAYERS):  # the same weights every time
            h = self.shared_layer(h, key_padding_mask=ids == 0)
        pooled = torch.tanh(self.pooler(h[:, 0]))
        m = self.mlm_norm(F.gelu(self.mlm_dense(h), approximate="tanh"))
        mlm_logits = F.linear(m, self.word_embeddings.weight, self.mlm_bias)  # tied decoder
        return mlm_logits, self.sop(pooled)


def make_batch(n, generator):
    """Two segments of an ascending run (step 1 or 2); SOP label 1 when they are swapped."""
    ids, types, labels = [], [], []
    for _ in range(n):
        start = int(torch.randint(4, 20, (1,), generator=generator))
        step = int(torch.randint(1, 3, (1,), generator=generator))
        run = list(range(start, start + 10 * step, step))
        a, b = run[:5], run[5:]
        swap = bool(torch.rand(1, generator=generator) < 0.5)
        if swap:
            a, b = b, a
        ids.append([CLS, *a, SEP, *b, SEP])
        types.append([0] * 7 + [1] * 6)
        labels.append(int(swap))
    return torch.tensor(ids), torch.tensor(types), torch.tensor(labels)


def mask_tokens(ids, generator, prob=0.15):
    labels = ids.clone()
    special = (ids == CLS) | (ids == SEP)
    chosen = (torch.rand(ids.shape, generator=generator) < prob) & ~special
    labels[~chosen] = -100
    return ids.masked_fill(chosen, MASK), labels


def init_weights(module):
    """HuggingFace's _init_weights: N(0, initializer_range) weights, zero biases."""
    if isinstance(module, (nn.Linear, nn.Embedding)):
        module.weight.data.normal_(mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            module.bias.data.zero_()
        if isinstance(module, nn.Embedding) and module.padding_idx is not None:
            module.weight.data[module.padding_idx].zero_()


g = torch.Generator().manual_seed(0)
torch.manual_seed(0)
model = Albert()
model.apply(init_weights)
n_params = sum(p.numel() for p in model.parameters())
layer_params = sum(p.numel() for p in model.shared_layer.parameters())
unshared_params = n_params + (LAYERS - 1) * layer_params
factorized_saving = VOCAB * H - (VOCAB * E + E * H + H)
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
mlm_losses, sop_losses = [], []
for step in range(100):
    ids, types, sop_labels = make_batch(32, g)
    inputs, mlm_labels = mask_tokens(ids, g)
    mlm_logits, sop_logits = model(inputs, types)
    mlm_loss = F.cross_entropy(mlm_logits.view(-1, VOCAB), mlm_labels.view(-1))
    sop_loss = F.cross_entropy(sop_logits, sop_labels)
    optimizer.zero_grad()
    (mlm_loss + sop_loss).backward()
    optimizer.step()
    mlm_losses.append(mlm_loss.item())
    sop_losses.append(sop_loss.item())
shared_grad_norm = model.shared_layer.ffn.weight.grad.norm().item()

model.eval()
with torch.no_grad():
    ids, types, sop_labels = make_batch(200, g)
    inputs, mlm_labels = mask_tokens(ids, g)
    mlm_logits, sop_logits = model(inputs, types)
    sop_accuracy = (sop_logits.argmax(1) == sop_labels).float().mean().item()
    masked = mlm_labels != -100
    mlm_accuracy = (mlm_logits.argmax(-1)[masked] == mlm_labels[masked]).float().mean().item()
print(
    f"{n_params} parameters ({unshared_params} unshared); MLM {mlm_losses[0]:.3f} -> {mlm_losses[-1]:.3f}"
)
print(
    f"SOP {sop_losses[0]:.3f} -> {sop_losses[-1]:.3f}, accuracy {sop_accuracy:.3f}; MLM accuracy {mlm_accuracy:.3f}"
)
