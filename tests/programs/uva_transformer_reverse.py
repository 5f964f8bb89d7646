"""The UvA deep learning course's Tutorial 6 ("Transformers and Multi-Head Attention", Phillip
Lippe) without Lightning: ``scaled_dot_product`` with ``masked_fill(mask == 0, -9e15)``, the
tutorial's ``MultiheadAttention`` (one ``qkv_proj``, ``reshape``/``permute``/``chunk`` into
heads, Xavier-initialised, ``bias.data.fill_(0)``), ``expand_mask``, post-norm encoder blocks
with ``nn.ReLU(inplace=True)``, the sinusoidal ``PositionalEncoding`` registered as a
non-persistent buffer, the ``CosineWarmupScheduler`` subclassing ``_LRScheduler`` with NumPy's
cosine, and the reverse task: a ``Dataset`` of random sequences whose labels are
``torch.flip(inp, dims=(0,))``, one-hot inputs, gradient clipping and the attention maps."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
import torch.utils.data as data

torch.manual_seed(42)


def scaled_dot_product(q, k, v, mask=None):
    d_k = q.size()[-1]
    attn_logits = torch.matmul(q, k.transpose(-2, -1))
    attn_logits = attn_logits / math.sqrt(d_k)
    if mask is not None:
        attn_logits = attn_logits.masked_fill(mask == 0, -9e15)
    attention = F.softmax(attn_logits, dim=-1)
    values = torch.matmul(attention, v)
    return values, attention


def expand_mask(mask):
    assert mask.ndim >= 2, "Mask must be at least 2-dimensional with seq_length x seq_length"
    if mask.ndim == 3:
        mask = mask.unsqueeze(1)
    while mask.ndim < 4:
        mask = mask.unsqueeze(0)
    return mask


class MultiheadAttention(nn.Module):
    def __init__(self, input_dim, embed_dim, num_heads):
        super().__init__()
        assert embed_dim % num_heads == 0, "Embedding dimension must be 0 modulo number of heads."
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        self.qkv_proj = nn.Linear(input_dim, 3 * embed_dim)
        self.o_proj = nn.Linear(embed_dim, embed_dim)
        self._reset_parameters()

    def _reset_parameters(self):
        nn.init.xavier_uniform_(self.qkv_proj.weight)
        self.qkv_proj.bias.data.fill_(0)
        nn.init.xavier_uniform_(self.o_proj.weight)
        self.o_proj.bias.data.fill_(0)

    def forward(self, x, mask=None, return_attention=False):
        batch_size, seq_length, _ = x.size()
        if mask is not None:
            mask = expand_mask(mask)
        qkv = self.qkv_proj(x)
        qkv = qkv.reshape(batch_size, seq_length, self.num_heads, 3 * self.head_dim)
        qkv = qkv.permute(0, 2, 1, 3)
        q, k, v = qkv.chunk(3, dim=-1)
        values, attention = scaled_dot_product(q, k, v, mask=mask)
        values = values.permute(0, 2, 1, 3)
        values = values.reshape(batch_size, seq_length, self.embed_dim)
        o = self.o_proj(values)
        if return_attention:
            return o, attention
        return o


class EncoderBlock(nn.Module):
    def __init__(self, input_dim, num_heads, dim_feedforward, dropout=0.0):
        super().__init__()
        self.self_attn = MultiheadAttention(input_dim, input_dim, num_heads)
        self.linear_net = nn.Sequential(
            nn.Linear(input_dim, dim_feedforward),
            nn.Dropout(dropout),
            nn.ReLU(inplace=True),
            nn.Linear(dim_feedforward, input_dim),
        )
        self.norm1 = nn.LayerNorm(input_dim)
        self.norm2 = nn.LayerNorm(input_dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, mask=None):
        attn_out = self.self_attn(x, mask=mask)
        x = x + self.dropout(attn_out)
        x = self.norm1(x)
        linear_out = self.linear_net(x)
        x = x + self.dropout(linear_out)
        x = self.norm2(x)
        return x


class TransformerEncoder(nn.Module):
    def __init__(self, num_layers, **block_args):
        super().__init__()
        self.layers = nn.ModuleList([EncoderBlock(**block_args) for _ in range(num_layers)])

    def forward(self, x, mask=None):
        for layer in self.layers:
            x = layer(x, mask=mask)
        return x

    def get_attention_maps(self, x, mask=None):
        attention_maps = []
        for layer in self.layers:
            _, attn_map = layer.self_attn(x, mask=mask, return_attention=True)
            attention_maps.append(attn_map)
            x = layer(x)
        return attention_maps


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, max_len=5000):
        super().__init__()
        pe = torch.zeros(max_len, d_model)
        position = torch.arange(0, max_len, dtype=torch.float).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term)
        pe = pe.unsqueeze(0)
        self.register_buffer("pe", pe, persistent=False)

    def forward(self, x):
        x = x + self.pe[:, : x.size(1)]
        return x


class CosineWarmupScheduler(optim.lr_scheduler._LRScheduler):
    def __init__(self, optimizer, warmup, max_iters):
        self.warmup = warmup
        self.max_num_iters = max_iters
        super().__init__(optimizer)

    def get_lr(self):
        lr_factor = self.get_lr_factor(epoch=self.last_epoch)
        return [base_lr * lr_factor for base_lr in self.base_lrs]

    def get_lr_factor(self, epoch):
        lr_factor = 0.5 * (1 + np.cos(np.pi * epoch / self.max_num_iters))
        if epoch <= self.warmup:
            lr_factor *= epoch * 1.0 / self.warmup
        return lr_factor


class ReverseDataset(data.Dataset):
    def __init__(self, num_categories, seq_len, size):
        super().__init__()
        self.num_categories = num_categories
        self.seq_len = seq_len
        self.size = size
        self.data = torch.randint(self.num_categories, size=(self.size, self.seq_len))

    def __len__(self):
        return self.size

    def __getitem__(self, idx):
        inp_data = self.data[idx]
        labels = torch.flip(inp_data, dims=(0,))
        return inp_data, labels


class ReversePredictor(nn.Module):
    def __init__(self, input_dim, model_dim, num_classes, num_heads, num_layers):
        super().__init__()
        self.input_net = nn.Sequential(nn.Dropout(0.0), nn.Linear(input_dim, model_dim))
        self.positional_encoding = PositionalEncoding(d_model=model_dim, max_len=16)
        self.transformer = TransformerEncoder(
            num_layers=num_layers,
            input_dim=model_dim,
            dim_feedforward=2 * model_dim,
            num_heads=num_heads,
            dropout=0.0,
        )
        self.output_net = nn.Sequential(
            nn.Linear(model_dim, model_dim),
            nn.LayerNorm(model_dim),
            nn.ReLU(inplace=True),
            nn.Dropout(0.0),
            nn.Linear(model_dim, num_classes),
        )

    def forward(self, x, mask=None, add_positional_encoding=True):
        x = self.input_net(x)
        if add_positional_encoding:
            x = self.positional_encoding(x)
        x = self.transformer(x, mask=mask)
        x = self.output_net(x)
        return x


num_classes, seq_len = 4, 6
train_loader = data.DataLoader(
    ReverseDataset(num_classes, seq_len, 256), batch_size=32, shuffle=True, drop_last=True
)
val_loader = data.DataLoader(ReverseDataset(num_classes, seq_len, 64), batch_size=64)
model = ReversePredictor(num_classes, 32, num_classes, num_heads=2, num_layers=1)
optimizer = optim.Adam(model.parameters(), lr=2e-2)
lr_scheduler = CosineWarmupScheduler(optimizer, warmup=8, max_iters=64)
buffer_keys = [k for k, _ in model.named_buffers()]
state_keys = len(model.state_dict())

losses, accs, lrs = [], [], []
for epoch in range(8):
    for inp_data, labels in train_loader:
        inp_data = F.one_hot(inp_data, num_classes=num_classes).float()
        preds = model(inp_data, add_positional_encoding=True)
        loss = F.cross_entropy(preds.view(-1, preds.size(-1)), labels.view(-1))
        acc = (preds.argmax(dim=-1) == labels).float().mean()
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        lr_scheduler.step()
        losses.append(loss.item())
        accs.append(acc.item())
        lrs.append(optimizer.param_groups[0]["lr"])

model.eval()
with torch.no_grad():
    inp_data, labels = next(iter(val_loader))
    preds = model(F.one_hot(inp_data, num_classes=num_classes).float())
    val_acc = (preds.argmax(dim=-1) == labels).float().mean().item()
    x = model.input_net(F.one_hot(inp_data[:2], num_classes=num_classes).float())
    x = model.positional_encoding(x)
    attention_maps = model.transformer.get_attention_maps(x)
attn_shape = tuple(attention_maps[0].shape)
attn_antidiagonal = attention_maps[0][
    0, :, torch.arange(seq_len), seq_len - 1 - torch.arange(seq_len)
]
attn_antidiagonal = attn_antidiagonal.mean().item()
pe_sample = model.positional_encoding.pe[0, 3, :4].tolist()

causal = torch.tril(torch.ones(4, 4))
q = torch.randn(2, 4, 8)
masked_values, masked_attention = scaled_dot_product(q, q, q, mask=causal)
masked_upper = masked_attention.triu(1).abs().max().item()
mask_shapes = [tuple(expand_mask(torch.ones(*s)).shape) for s in [(4, 4), (3, 4, 4), (2, 3, 4, 4)]]
