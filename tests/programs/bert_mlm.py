"""BERT-style pretraining and fine-tuning as people write it for PyTorch without transformers: a
TransformerEncoder (batch_first, GELU) over token + position + segment embeddings with
padding_idx, masked language modelling with HuggingFace's 80/10/10 masking (bernoulli masks,
labels of -100 ignored by cross_entropy), key padding masks for variable-length batches, a
linear warmup/decay schedule, then a sentence classifier on the pooled [CLS] state. The
synthetic language: sentences follow a fixed successor table over a small vocabulary; the
classifier tells them from random word sequences."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pad_sequence

torch.manual_seed(0)
device = "cuda" if torch.cuda.is_available() else "cpu"

PAD, CLS, SEP, MASK = 0, 1, 2, 3
n_words = 20
vocab_size = 4 + n_words
successor = torch.randperm(n_words)  # word w is usually followed by successor[w]


def make_sentence(label=1):
    """A chain of words, each the successor of the previous (label 1), or random words (0)."""
    length = torch.randint(5, 12, (1,)).item()
    if label == 0:
        words = torch.randint(0, n_words, (length,)).tolist()
    else:
        words = [torch.randint(0, n_words, (1,)).item()]
        for _ in range(length - 1):
            words.append(successor[words[-1]].item())
    return torch.tensor([CLS] + [w + 4 for w in words] + [SEP])


def collate(sentences):
    input_ids = pad_sequence(sentences, batch_first=True, padding_value=PAD)
    attention_mask = (input_ids != PAD).long()
    return input_ids, attention_mask


def mask_tokens(inputs, mlm_probability=0.15):
    """HuggingFace's DataCollatorForLanguageModeling: 15% of tokens are predicted; of those
    80% become [MASK], 10% a random word, 10% stay."""
    labels = inputs.clone()
    probability_matrix = torch.full(labels.shape, mlm_probability)
    special_tokens_mask = inputs < 4
    probability_matrix.masked_fill_(special_tokens_mask, value=0.0)
    masked_indices = torch.bernoulli(probability_matrix).bool()
    labels[~masked_indices] = -100  # We only compute loss on masked tokens

    indices_replaced = torch.bernoulli(torch.full(labels.shape, 0.8)).bool() & masked_indices
    inputs[indices_replaced] = MASK

    indices_random = (
        torch.bernoulli(torch.full(labels.shape, 0.5)).bool() & masked_indices & ~indices_replaced
    )
    random_words = torch.randint(4, vocab_size, labels.shape, dtype=torch.long)
    inputs[indices_random] = random_words[indices_random]
    return inputs, labels


class BertModel(nn.Module):
    def __init__(self, vocab_size, hidden=48, layers=2, heads=4, max_len=32):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab_size, hidden, padding_idx=PAD)
        self.position_embeddings = nn.Embedding(max_len, hidden)
        self.token_type_embeddings = nn.Embedding(2, hidden)
        self.LayerNorm = nn.LayerNorm(hidden, eps=1e-12)
        self.dropout = nn.Dropout(0.1)
        layer = nn.TransformerEncoderLayer(
            hidden, heads, dim_feedforward=4 * hidden, dropout=0.1, activation="gelu",
            batch_first=True,
        )  # fmt: skip
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.pooler = nn.Sequential(nn.Linear(hidden, hidden), nn.Tanh())
        self.register_buffer("position_ids", torch.arange(max_len).expand((1, -1)))

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        seq_length = input_ids.size(1)
        position_ids = self.position_ids[:, :seq_length]
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        embeddings = (
            self.word_embeddings(input_ids)
            + self.position_embeddings(position_ids)
            + self.token_type_embeddings(token_type_ids)
        )
        hidden = self.dropout(self.LayerNorm(embeddings))
        hidden = self.encoder(hidden, src_key_padding_mask=attention_mask == 0)
        return hidden, self.pooler(hidden[:, 0])


class BertForMaskedLM(nn.Module):
    def __init__(self, bert):
        super().__init__()
        self.bert = bert
        hidden = bert.word_embeddings.embedding_dim
        self.transform = nn.Sequential(nn.Linear(hidden, hidden), nn.GELU(), nn.LayerNorm(hidden))
        self.decoder = nn.Linear(hidden, bert.word_embeddings.num_embeddings)
        self.decoder.weight = bert.word_embeddings.weight  # tied

    def forward(self, input_ids, attention_mask, labels=None):
        hidden, _ = self.bert(input_ids, attention_mask)
        logits = self.decoder(self.transform(hidden))
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), labels.view(-1))
        return loss, logits


def get_linear_schedule_with_warmup(optimizer, num_warmup_steps, num_training_steps):
    def lr_lambda(current_step: int):
        if current_step < num_warmup_steps:
            return float(current_step) / float(max(1, num_warmup_steps))
        return max(
            0.0,
            float(num_training_steps - current_step)
            / float(max(1, num_training_steps - num_warmup_steps)),
        )

    return torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda)


bert = BertModel(vocab_size).to(device)
mlm = BertForMaskedLM(bert).to(device)
no_decay = ["bias", "LayerNorm.weight"]
grouped = [
    {
        "params": [p for n, p in mlm.named_parameters() if not any(nd in n for nd in no_decay)],
        "weight_decay": 0.01,
    },
    {
        "params": [p for n, p in mlm.named_parameters() if any(nd in n for nd in no_decay)],
        "weight_decay": 0.0,
    },
]
steps = 90
optimizer = torch.optim.AdamW(grouped, lr=3e-3)
scheduler = get_linear_schedule_with_warmup(optimizer, 9, steps)
mlm_losses = []
for step in range(steps):
    input_ids, attention_mask = collate([make_sentence(1) for _ in range(32)])
    inputs, labels = mask_tokens(input_ids.clone())
    mlm.train()
    loss, _ = mlm(inputs.to(device), attention_mask.to(device), labels.to(device))
    loss.backward()
    torch.nn.utils.clip_grad_norm_(mlm.parameters(), 1.0)
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad()
    mlm_losses.append(loss.item())
    if step % 30 == 0:
        print(f"step {step}: mlm loss {loss.item():.4f} lr {scheduler.get_last_lr()[0]:.2e}")

# Fill in a masked word: the successor table makes it predictable from its left neighbour
mlm.eval()
with torch.no_grad():
    probe = make_sentence(1)
    masked = probe.clone()
    masked[4] = MASK
    ids, am = collate([masked])
    _, logits = mlm(ids.to(device), am.to(device))
    predicted = logits[0, 4].argmax().item()
print(f"masked word {probe[4].item()}, predicted {predicted}")
fill_accuracy = 0
with torch.no_grad():
    for _ in range(40):
        probe = make_sentence(1)
        masked = probe.clone()
        position = torch.randint(2, len(probe) - 1, (1,)).item()
        masked[position] = MASK
        ids, am = collate([masked])
        fill_accuracy += int(mlm(ids, am)[1][0, position].argmax().item() == probe[position].item())
fill_accuracy /= 40


# Fine-tune: a chain (1) or random words (0), from the pretrained encoder
class BertForSequenceClassification(nn.Module):
    def __init__(self, bert, num_labels=2):
        super().__init__()
        self.bert = bert
        self.dropout = nn.Dropout(0.1)
        self.classifier = nn.Linear(bert.word_embeddings.embedding_dim, num_labels)

    def forward(self, input_ids, attention_mask):
        _, pooled = self.bert(input_ids, attention_mask)
        return self.classifier(self.dropout(pooled))


clf = BertForSequenceClassification(bert).to(device)
optimizer = torch.optim.AdamW(clf.parameters(), lr=1e-3, weight_decay=0.01)
clf_losses = []
for step in range(40):
    labels = torch.randint(0, 2, (32,))
    input_ids, attention_mask = collate([make_sentence(int(y)) for y in labels])
    clf.train()
    logits = clf(input_ids.to(device), attention_mask.to(device))
    loss = F.cross_entropy(logits, labels.to(device))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    clf_losses.append(loss.item())

clf.eval()
with torch.no_grad():
    labels = torch.randint(0, 2, (128,))
    input_ids, attention_mask = collate([make_sentence(int(y)) for y in labels])
    accuracy = (clf(input_ids, attention_mask).argmax(-1) == labels).float().mean().item()
    # padding must not change the result: the same sentences, padded further
    padded = F.pad(input_ids, (0, 5), value=PAD)
    padded_logits = clf(padded, (padded != PAD).long())
    padding_gap = (padded_logits - clf(input_ids, attention_mask)).abs().max().item()
print(f"fill-in accuracy {fill_accuracy:.2f}, classification accuracy {accuracy:.3f}")
print(f"chance level {math.log(n_words):.3f} nats per masked word")
