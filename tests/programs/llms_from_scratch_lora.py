"""Sebastian Raschka's "Build a Large Language Model (From Scratch)" (rasbt/LLMs-from-scratch),
chapters 3-6 and appendix E, tiny: ``MultiHeadAttention`` with a ``register_buffer``-ed
``torch.triu(..., diagonal=1)`` mask sliced to the tokens and applied with
``masked_fill_(mask_bool, -torch.inf)``, the hand-written ``LayerNorm`` (``var(unbiased=False)``)
and tanh ``GELU``, ``GPTModel`` with ``drop_emb`` and ``trf_blocks`` in an ``nn.Sequential``,
``generate_text_simple`` (greedy ``argmax`` over the last position, context cropped), the
``calc_loss_batch`` of ``cross_entropy(logits.flatten(0, 1), target.flatten())``; then
the spam classifier of chapter 6 (``out_head`` swapped for a 2-way ``nn.Linear``, all weights
frozen but the last block, final norm and head, loss on ``logits[:, -1, :]``) and appendix E's
``LoRALayer``/``LinearWithLoRA`` replacing every ``nn.Linear`` recursively
(``replace_linear_with_lora``), with ``kaiming_uniform_(a=math.sqrt(5))`` A and zero B so the
wrapped model starts equal to the original."""

import math

import torch
import torch.nn as nn

GPT_CONFIG = {
    "vocab_size": 50,
    "context_length": 12,
    "emb_dim": 16,
    "n_heads": 2,
    "n_layers": 2,
    "drop_rate": 0.1,
    "qkv_bias": False,
}


class MultiHeadAttention(nn.Module):
    def __init__(self, d_in, d_out, context_length, dropout, num_heads, qkv_bias=False):
        super().__init__()
        assert d_out % num_heads == 0, "d_out must be divisible by num_heads"
        self.d_out = d_out
        self.num_heads = num_heads
        self.head_dim = d_out // num_heads
        self.W_query = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_key = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_value = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.out_proj = nn.Linear(d_out, d_out)
        self.dropout = nn.Dropout(dropout)
        self.register_buffer(
            "mask", torch.triu(torch.ones(context_length, context_length), diagonal=1)
        )

    def forward(self, x):
        b, num_tokens, d_in = x.shape
        keys = self.W_key(x).view(b, num_tokens, self.num_heads, self.head_dim).transpose(1, 2)
        queries = self.W_query(x).view(b, num_tokens, self.num_heads, self.head_dim)
        queries = queries.transpose(1, 2)
        values = self.W_value(x).view(b, num_tokens, self.num_heads, self.head_dim).transpose(1, 2)
        attn_scores = queries @ keys.transpose(2, 3)
        mask_bool = self.mask.bool()[:num_tokens, :num_tokens]
        attn_scores.masked_fill_(mask_bool, -torch.inf)
        attn_weights = torch.softmax(attn_scores / keys.shape[-1] ** 0.5, dim=-1)
        attn_weights = self.dropout(attn_weights)
        context_vec = (attn_weights @ values).transpose(1, 2)
        context_vec = context_vec.contiguous().view(b, num_tokens, self.d_out)
        return self.out_proj(context_vec)


class LayerNorm(nn.Module):
    def __init__(self, emb_dim):
        super().__init__()
        self.eps = 1e-5
        self.scale = nn.Parameter(torch.ones(emb_dim))
        self.shift = nn.Parameter(torch.zeros(emb_dim))

    def forward(self, x):
        mean = x.mean(dim=-1, keepdim=True)
        var = x.var(dim=-1, keepdim=True, unbiased=False)
        return self.scale * (x - mean) / torch.sqrt(var + self.eps) + self.shift


class GELU(nn.Module):
    def forward(self, x):
        return (
            0.5 * x * (1 + torch.tanh(torch.sqrt(torch.tensor(2.0 / torch.pi)) * (x + 0.044715 * torch.pow(x, 3))))
        )  # fmt: skip


class TransformerBlock(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.att = MultiHeadAttention(
            cfg["emb_dim"], cfg["emb_dim"], cfg["context_length"], cfg["drop_rate"],
            cfg["n_heads"], cfg["qkv_bias"],
        )  # fmt: skip
        self.ff = nn.Sequential(
            nn.Linear(cfg["emb_dim"], 4 * cfg["emb_dim"]), GELU(),
            nn.Linear(4 * cfg["emb_dim"], cfg["emb_dim"]),
        )  # fmt: skip
        self.norm1 = LayerNorm(cfg["emb_dim"])
        self.norm2 = LayerNorm(cfg["emb_dim"])
        self.drop_shortcut = nn.Dropout(cfg["drop_rate"])

    def forward(self, x):
        shortcut = x
        x = self.drop_shortcut(self.att(self.norm1(x))) + shortcut
        shortcut = x
        return self.drop_shortcut(self.ff(self.norm2(x))) + shortcut


class GPTModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.tok_emb = nn.Embedding(cfg["vocab_size"], cfg["emb_dim"])
        self.pos_emb = nn.Embedding(cfg["context_length"], cfg["emb_dim"])
        self.drop_emb = nn.Dropout(cfg["drop_rate"])
        self.trf_blocks = nn.Sequential(*[TransformerBlock(cfg) for _ in range(cfg["n_layers"])])
        self.final_norm = LayerNorm(cfg["emb_dim"])
        self.out_head = nn.Linear(cfg["emb_dim"], cfg["vocab_size"], bias=False)

    def forward(self, in_idx):
        batch_size, seq_len = in_idx.shape
        tok_embeds = self.tok_emb(in_idx)
        pos_embeds = self.pos_emb(torch.arange(seq_len, device=in_idx.device))
        x = self.drop_emb(tok_embeds + pos_embeds)
        x = self.trf_blocks(x)
        return self.out_head(self.final_norm(x))


def generate_text_simple(model, idx, max_new_tokens, context_size):
    for _ in range(max_new_tokens):
        idx_cond = idx[:, -context_size:]
        with torch.no_grad():
            logits = model(idx_cond)
        logits = logits[:, -1, :]
        idx_next = torch.argmax(torch.softmax(logits, dim=-1), dim=-1, keepdim=True)
        idx = torch.cat((idx, idx_next), dim=1)
    return idx


def calc_loss_batch(input_batch, target_batch, model):
    logits = model(input_batch)
    return torch.nn.functional.cross_entropy(logits.flatten(0, 1), target_batch.flatten())


torch.manual_seed(123)
model = GPTModel(GPT_CONFIG)
total_params = sum(p.numel() for p in model.parameters())
model.eval()
generated = generate_text_simple(model, torch.tensor([[1, 2, 3]]), 10, 12)[0].tolist()

# pretraining: a few AdamW steps on next-token prediction of a repeating token stream
data = torch.arange(200) * 7 % GPT_CONFIG["vocab_size"]
inputs = torch.stack([data[i : i + 8] for i in range(0, 64, 8)])
targets = torch.stack([data[i + 1 : i + 9] for i in range(0, 64, 8)])
optimizer = torch.optim.AdamW(model.parameters(), lr=0.004, weight_decay=0.1)
model.train()
pretrain_losses = []
for step in range(6):
    optimizer.zero_grad()
    loss = calc_loss_batch(inputs, targets, model)
    loss.backward()
    optimizer.step()
    pretrain_losses.append(loss.item())

# chapter 6: classification finetuning of the last block
for param in model.parameters():
    param.requires_grad = False
num_classes = 2
model.out_head = torch.nn.Linear(in_features=GPT_CONFIG["emb_dim"], out_features=num_classes)
for param in model.trf_blocks[-1].parameters():
    param.requires_grad = True
for param in model.final_norm.parameters():
    param.requires_grad = True
trainable_ft = sum(p.numel() for p in model.parameters() if p.requires_grad)


# appendix E: LoRA
class LoRALayer(torch.nn.Module):
    def __init__(self, in_dim, out_dim, rank, alpha):
        super().__init__()
        self.A = torch.nn.Parameter(torch.empty(in_dim, rank))
        torch.nn.init.kaiming_uniform_(self.A, a=math.sqrt(5))
        self.B = torch.nn.Parameter(torch.zeros(rank, out_dim))
        self.alpha = alpha

    def forward(self, x):
        return self.alpha * (x @ self.A @ self.B)


class LinearWithLoRA(torch.nn.Module):
    def __init__(self, linear, rank, alpha):
        super().__init__()
        self.linear = linear
        self.lora = LoRALayer(linear.in_features, linear.out_features, rank, alpha)

    def forward(self, x):
        return self.linear(x) + self.lora(x)


def replace_linear_with_lora(model, rank, alpha):
    for name, module in model.named_children():
        if isinstance(module, torch.nn.Linear):
            setattr(model, name, LinearWithLoRA(module, rank, alpha))
        else:
            replace_linear_with_lora(module, rank, alpha)


spam = torch.randint(0, 25, (8, 10))
ham = torch.randint(25, 50, (8, 10))
X = torch.cat([spam, ham])
y = torch.cat([torch.ones(8, dtype=torch.long), torch.zeros(8, dtype=torch.long)])
model.eval()
with torch.no_grad():
    before_lora = model(X)[:, -1, :]
for param in model.parameters():
    param.requires_grad = False
replace_linear_with_lora(model, rank=4, alpha=8)
trainable_lora = sum(p.numel() for p in model.parameters() if p.requires_grad)
with torch.no_grad():
    lora_start_gap = (model(X)[:, -1, :] - before_lora).abs().max().item()
lora_modules = sum(isinstance(m, LinearWithLoRA) for m in model.modules())

optimizer = torch.optim.AdamW(model.parameters(), lr=5e-3, weight_decay=0.1)
model.train()
cls_losses = []
for epoch in range(6):
    optimizer.zero_grad()
    logits = model(X)[:, -1, :]
    loss = torch.nn.functional.cross_entropy(logits, y)
    loss.backward()
    optimizer.step()
    cls_losses.append(loss.item())
model.eval()
with torch.no_grad():
    predicted_labels = torch.argmax(model(X)[:, -1, :], dim=-1)
accuracy = (predicted_labels == y).float().mean().item()
b_grad_norm = model.trf_blocks[0].att.W_query.lora.B.grad.norm().item()
