"""BERT sequence-pair classification fine-tuning as the HuggingFace ``run_glue.py`` recipe writes
it in plain PyTorch: a ``BertEmbeddings``-style sum of word, position and token-type embeddings
with ``LayerNorm`` and dropout, an extended additive attention mask ``(1 - mask) * -10000``,
post-norm encoder layers with exact GELU, a tanh pooler over ``[CLS]``, AdamW parameter groups
that exclude ``bias`` and ``LayerNorm.weight`` from weight decay by name, a linear warmup then
linear decay schedule through ``LambdaLR`` (``get_linear_schedule_with_warmup``), gradient
accumulation, ``clip_grad_norm_`` returning the total norm, and accuracy/F1 on a held-out
split. The task: does the second segment contain the first segment's first token?"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.lr_scheduler import LambdaLR

torch.manual_seed(0)
VOCAB, CLS, SEP, PAD, LEN = 24, 1, 2, 0, 12


class BertLayer(nn.Module):
    def __init__(self, hidden, heads):
        super().__init__()
        self.heads, self.head_size = heads, hidden // heads
        self.query, self.key = nn.Linear(hidden, hidden), nn.Linear(hidden, hidden)
        self.value, self.dense = nn.Linear(hidden, hidden), nn.Linear(hidden, hidden)
        self.LayerNorm, self.out_LayerNorm = (
            nn.LayerNorm(hidden, 1e-12),
            nn.LayerNorm(hidden, 1e-12),
        )
        self.intermediate, self.output = (
            nn.Linear(hidden, 4 * hidden),
            nn.Linear(4 * hidden, hidden),
        )
        self.dropout = nn.Dropout(0.1)

    def transpose_for_scores(self, x):
        return x.view(x.size()[:-1] + (self.heads, self.head_size)).permute(0, 2, 1, 3)

    def forward(self, hidden_states, extended_mask):
        q = self.transpose_for_scores(self.query(hidden_states))
        k = self.transpose_for_scores(self.key(hidden_states))
        v = self.transpose_for_scores(self.value(hidden_states))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_size)
        probs = self.dropout(nn.functional.softmax(scores + extended_mask, dim=-1))
        context = torch.matmul(probs, v).permute(0, 2, 1, 3).contiguous()
        context = context.view(context.size()[:-2] + (-1,))
        attn = self.LayerNorm(self.dropout(self.dense(context)) + hidden_states)
        inter = F.gelu(self.intermediate(attn))
        return self.out_LayerNorm(self.dropout(self.output(inter)) + attn)


class BertForSequenceClassification(nn.Module):
    def __init__(self, hidden=32, heads=4, layers=2, num_labels=2):
        super().__init__()
        self.word_embeddings = nn.Embedding(VOCAB, hidden, padding_idx=PAD)
        self.position_embeddings = nn.Embedding(LEN, hidden)
        self.token_type_embeddings = nn.Embedding(2, hidden)
        self.LayerNorm, self.dropout = nn.LayerNorm(hidden, eps=1e-12), nn.Dropout(0.1)
        self.register_buffer("position_ids", torch.arange(LEN).expand((1, -1)), persistent=False)
        self.layer = nn.ModuleList(BertLayer(hidden, heads) for _ in range(layers))
        self.pooler = nn.Linear(hidden, hidden)
        self.classifier = nn.Linear(hidden, num_labels)
        self.apply(self._init_weights)

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            module.weight.data.normal_(mean=0.0, std=0.02)
            module.bias.data.zero_()
        elif isinstance(module, nn.Embedding):
            module.weight.data.normal_(mean=0.0, std=0.02)
            if module.padding_idx is not None:
                module.weight.data[module.padding_idx].zero_()
        elif isinstance(module, nn.LayerNorm):
            module.bias.data.zero_()
            module.weight.data.fill_(1.0)

    def forward(self, input_ids, token_type_ids, attention_mask, labels=None):
        seq_length = input_ids.size(1)
        x = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
        x = self.dropout(
            self.LayerNorm(x + self.position_embeddings(self.position_ids[:, :seq_length]))
        )
        extended = attention_mask[:, None, None, :].to(dtype=x.dtype)
        extended = (1.0 - extended) * -10000.0
        for layer in self.layer:
            x = layer(x, extended)
        pooled = torch.tanh(self.pooler(x[:, 0]))
        logits = self.classifier(self.dropout(pooled))
        loss = None if labels is None else F.cross_entropy(logits.view(-1, 2), labels.view(-1))
        return loss, logits


def make_pairs(n):
    ids = torch.full((n, LEN), PAD, dtype=torch.long)
    types, mask = torch.zeros_like(ids), torch.zeros_like(ids)
    labels = torch.randint(0, 2, (n,))
    for i in range(n):
        a_len, b_len = torch.randint(2, 5, (2,)).tolist()
        a, b = torch.randint(3, VOCAB, (a_len,)), torch.randint(3, VOCAB, (b_len,))
        b = b[b != a[0]] if b_len > 1 else b
        if labels[i] == 1:
            b = torch.cat([b, a[:1]])[torch.randperm(len(b) + 1)]
        elif (b == a[0]).any():
            labels[i] = 1
        row = torch.cat([torch.tensor([CLS]), a, torch.tensor([SEP]), b, torch.tensor([SEP])])
        ids[i, : len(row)] = row
        types[i, a_len + 2 : len(row)] = 1
        mask[i, : len(row)] = 1
    return ids, types, mask, labels


def get_linear_schedule_with_warmup(optimizer, num_warmup_steps, num_training_steps):
    def lr_lambda(current_step):
        if current_step < num_warmup_steps:
            return float(current_step) / float(max(1, num_warmup_steps))
        return max(
            0.0,
            float(num_training_steps - current_step)
            / float(max(1, num_training_steps - num_warmup_steps)),
        )

    return LambdaLR(optimizer, lr_lambda)


model = BertForSequenceClassification()
no_decay = ["bias", "LayerNorm.weight"]
grouped = [
    {
        "params": [p for n, p in model.named_parameters() if not any(nd in n for nd in no_decay)],
        "weight_decay": 0.01,
    },
    {
        "params": [p for n, p in model.named_parameters() if any(nd in n for nd in no_decay)],
        "weight_decay": 0.0,
    },
]
group_sizes = [len(g["params"]) for g in grouped]
optimizer = torch.optim.AdamW(grouped, lr=6e-3, eps=1e-8)
accumulation, updates = 2, 18
scheduler = get_linear_schedule_with_warmup(optimizer, 3, updates)
train = make_pairs(128)
losses, grad_norms, lrs = [], [], []
model.train()
for update in range(updates):
    for micro in range(accumulation):
        idx = torch.randint(0, 128, (24,))
        loss, _ = model(*(t[idx] for t in train))
        (loss / accumulation).backward()
        losses.append(loss.item())
    grad_norms.append(torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0).item())
    optimizer.step()
    scheduler.step()
    model.zero_grad()
    lrs.append(scheduler.get_last_lr()[0])
model.eval()
with torch.no_grad():
    ids, types, mask, labels = make_pairs(64)
    _, logits = model(ids, types, mask)
    preds = logits.argmax(-1)
    accuracy = (preds == labels).float().mean().item()
    tp = ((preds == 1) & (labels == 1)).sum().item()
    f1 = 2 * tp / max(1, (preds == 1).sum().item() + (labels == 1).sum().item())
    eval_logits = logits[:4].tolist()
pad_row = model.word_embeddings.weight[PAD].abs().sum().item()
print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}, accuracy {accuracy:.2f}, f1 {f1:.2f}")
