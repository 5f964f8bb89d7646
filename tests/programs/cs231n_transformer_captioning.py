"""CS231n assignment 3's Transformer captioning (``cs231n/transformer_layers.py`` and
``classifiers/transformer.py``) on synthetic image features: ``PositionalEncoding`` filling
``pe[0, :, 0::2]``/``pe[0, :, 1::2]`` with ``torch.sin``/``torch.cos`` and kept by
``register_buffer``; the students' ``MultiHeadAttention`` (``view(N, S, H, E // H)
.transpose(1, 2)``, ``masked_fill(attn_mask == 0, float('-inf'))`` under a ``torch.tril``
mask, attention dropout); ``TransformerDecoderLayer`` with post-norm residuals and the
assignment's ``_init_weights`` applied by ``self.apply`` (``normal_(mean=0.0, std=0.02)``,
``zero_`` biases, ``LayerNorm`` weights ``fill_(1.0)``); ``nn.Embedding(padding_idx=NULL)``;
the temporal softmax loss masked on ``captions_out != NULL``; Adam training and greedy
``sample`` growing the caption with ``torch.cat`` and ``torch.argmax(axis=1)``."""

import copy
import math

import numpy as np
import torch
import torch.nn as nn
from torch.nn import functional as F

torch.manual_seed(231)
np.random.seed(231)


class PositionalEncoding(nn.Module):
    def __init__(self, embed_dim, dropout=0.1, max_len=5000):
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)
        assert embed_dim % 2 == 0
        pe = torch.zeros(1, max_len, embed_dim)
        i = torch.arange(max_len).unsqueeze(1)
        pows = torch.pow(10000, -torch.arange(0, embed_dim, 2) / embed_dim)
        pe[0, :, 0::2] = torch.sin(i * pows)
        pe[0, :, 1::2] = torch.cos(i * pows)
        self.register_buffer("pe", pe)

    def forward(self, x):
        N, S, D = x.shape
        output = x + self.pe[:, :S, :]
        return self.dropout(output)


class MultiHeadAttention(nn.Module):
    def __init__(self, embed_dim, num_heads, dropout=0.1):
        super().__init__()
        assert embed_dim % num_heads == 0
        self.key = nn.Linear(embed_dim, embed_dim)
        self.query = nn.Linear(embed_dim, embed_dim)
        self.value = nn.Linear(embed_dim, embed_dim)
        self.proj = nn.Linear(embed_dim, embed_dim)
        self.attn_drop = nn.Dropout(dropout)
        self.n_head = num_heads
        self.emd_dim = embed_dim
        self.head_dim = self.emd_dim // self.n_head

    def forward(self, query, key, value, attn_mask=None):
        N, S, E = query.shape
        N, T, E = value.shape
        H = self.n_head
        Q = self.query(query).view(N, S, H, E // H).transpose(1, 2)
        K = self.key(key).view(N, T, H, E // H).transpose(1, 2)
        V = self.value(value).view(N, T, H, E // H).transpose(1, 2)
        scores = Q @ K.transpose(2, 3) / math.sqrt(self.head_dim)
        if attn_mask is not None:
            scores = scores.masked_fill(attn_mask == 0, float("-inf"))
        attn = self.attn_drop(F.softmax(scores, dim=-1))
        Y = (attn @ V).transpose(1, 2).reshape(N, S, E)
        return self.proj(Y)


class TransformerDecoderLayer(nn.Module):
    def __init__(self, input_dim, num_heads, dim_feedforward=64, dropout=0.1):
        super().__init__()
        self.self_attn = MultiHeadAttention(input_dim, num_heads, dropout)
        self.multihead_attn = MultiHeadAttention(input_dim, num_heads, dropout)
        self.linear1 = nn.Linear(input_dim, dim_feedforward)
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(dim_feedforward, input_dim)
        self.norm1 = nn.LayerNorm(input_dim)
        self.norm2 = nn.LayerNorm(input_dim)
        self.norm3 = nn.LayerNorm(input_dim)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        self.dropout3 = nn.Dropout(dropout)
        self.activation = nn.ReLU()

    def forward(self, tgt, memory, tgt_mask=None):
        tgt2 = self.self_attn(query=tgt, key=tgt, value=tgt, attn_mask=tgt_mask)
        tgt = tgt + self.dropout1(tgt2)
        tgt = self.norm1(tgt)
        tgt2 = self.multihead_attn(query=tgt, key=memory, value=memory)
        tgt = tgt + self.dropout2(tgt2)
        tgt = self.norm2(tgt)
        tgt2 = self.linear2(self.dropout(self.activation(self.linear1(tgt))))
        tgt = tgt + self.dropout3(tgt2)
        tgt = self.norm3(tgt)
        return tgt


def clones(module, N):
    return nn.ModuleList([copy.deepcopy(module) for _ in range(N)])


class TransformerDecoder(nn.Module):
    def __init__(self, decoder_layer, num_layers):
        super().__init__()
        self.layers = clones(decoder_layer, num_layers)
        self.num_layers = num_layers

    def forward(self, tgt, memory, tgt_mask=None):
        output = tgt
        for mod in self.layers:
            output = mod(output, memory, tgt_mask=tgt_mask)
        return output


class CaptioningTransformer(nn.Module):
    def __init__(
        self, word_to_idx, input_dim, wordvec_dim, num_heads=4, num_layers=2, max_length=12
    ):
        super().__init__()
        vocab_size = len(word_to_idx)
        self.vocab_size = vocab_size
        self._null = word_to_idx["<NULL>"]
        self._start = word_to_idx.get("<START>", None)
        self._end = word_to_idx.get("<END>", None)
        self.visual_projection = nn.Linear(input_dim, wordvec_dim)
        self.embedding = nn.Embedding(vocab_size, wordvec_dim, padding_idx=self._null)
        self.positional_encoding = PositionalEncoding(wordvec_dim, max_len=max_length)
        decoder_layer = TransformerDecoderLayer(input_dim=wordvec_dim, num_heads=num_heads)
        self.transformer = TransformerDecoder(decoder_layer, num_layers=num_layers)
        self.apply(self._init_weights)
        self.output = nn.Linear(wordvec_dim, vocab_size)

    def _init_weights(self, module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            module.weight.data.normal_(mean=0.0, std=0.02)
            if isinstance(module, nn.Linear) and module.bias is not None:
                module.bias.data.zero_()
        elif isinstance(module, nn.LayerNorm):
            module.bias.data.zero_()
            module.weight.data.fill_(1.0)

    def forward(self, features, captions):
        N, T = captions.shape
        caption_embeddings = self.embedding(captions)
        caption_embeddings = self.positional_encoding(caption_embeddings)
        projected_features = self.visual_projection(features).unsqueeze(1)
        tgt_mask = torch.tril(torch.ones(T, T, device=caption_embeddings.device, dtype=torch.bool))
        features = self.transformer(
            tgt=caption_embeddings, memory=projected_features, tgt_mask=tgt_mask
        )
        scores = self.output(features)
        return scores

    def sample(self, features, max_length=6):
        with torch.no_grad():
            features = torch.Tensor(features)
            N = features.shape[0]
            captions = self._null * np.ones((N, max_length), dtype=np.int32)
            partial_caption = self._start * np.ones(N, dtype=np.int32)
            partial_caption = torch.LongTensor(partial_caption)
            partial_caption = partial_caption.unsqueeze(1)
            for t in range(max_length):
                output_logits = self.forward(features, partial_caption)
                output_logits = output_logits[:, -1, :]
                word = torch.argmax(output_logits, axis=1)
                captions[:, t] = word.numpy()
                word = word.unsqueeze(1)
                partial_caption = torch.cat([partial_caption, word], dim=1)
            return captions


def temporal_softmax_loss(x, y, mask):
    N, T, V = x.shape
    x_flat = x.reshape(N * T, V)
    y_flat = y.reshape(N * T)
    mask_flat = mask.reshape(N * T)
    loss = torch.nn.functional.cross_entropy(x_flat, y_flat, reduction="none")
    loss = torch.mul(loss, mask_flat)
    loss = torch.mean(loss)
    return loss


pe = PositionalEncoding(8, dropout=0.0, max_len=6)
pe_rows = pe.pe[0, [0, 1, 5]].tolist()
pe_buffers = [name for name, _ in pe.named_buffers()]
attn = MultiHeadAttention(8, 2, dropout=0.0)
x = torch.randn(2, 4, 8)
mask = torch.tril(torch.ones(4, 4))
masked_out = attn(x, x, x, attn_mask=mask)
x_changed = x.clone()
x_changed[:, 3] += 10.0
causal_gap = (
    (attn(x_changed, x_changed, x_changed, attn_mask=mask)[:, :3] - masked_out[:, :3])
    .abs()
    .max()
    .item()
)

words = ["<NULL>", "<START>", "<END>", "a", "red", "blue", "dog", "cat", "runs", "sleeps"]
word_to_idx = {w: i for i, w in enumerate(words)}
templates = [["a", "red", "dog", "runs"], ["a", "blue", "cat", "sleeps"], ["a", "red", "cat"]]
class_features = np.random.randn(3, 10).astype(np.float32)
labels = np.random.randint(0, 3, 48)
features = torch.from_numpy(
    class_features[labels] + 0.1 * np.random.randn(48, 10).astype(np.float32)
)
captions = torch.full((48, 7), word_to_idx["<NULL>"], dtype=torch.long)
for n, label in enumerate(labels):
    tokens = ["<START>"] + templates[label] + ["<END>"]
    captions[n, : len(tokens)] = torch.tensor([word_to_idx[w] for w in tokens])

model = CaptioningTransformer(
    word_to_idx, input_dim=10, wordvec_dim=16, num_heads=2, num_layers=1, max_length=8
)
param_count = sum(p.numel() for p in model.parameters())
optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
losses = []
for step in range(40):
    batch = torch.arange(step * 16, step * 16 + 16) % 48
    captions_in, captions_out = captions[batch, :-1], captions[batch, 1:]
    mask = captions_out != model._null
    loss = temporal_softmax_loss(model(features[batch], captions_in), captions_out, mask)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
null_row_grad = model.embedding.weight.grad[model._null].abs().max().item()
model.eval()
sampled = model.sample(class_features, max_length=6)
decoded = [
    " ".join(words[i] for i in row if words[i] not in ("<NULL>",)).split(" <END>")[0]
    for row in sampled
]
