"""BigBird's block-sparse attention (Zaheer et al. 2020) as Hugging Face's
``BigBirdBlockSparseAttention`` builds it: queries and keys cut into blocks, the first and last
query blocks attending globally, every middle block attending to the two global key blocks, a
sliding window of three blocks (``torch.cat`` of shifted block views) and random blocks whose
indices ``_bigbird_block_rand_mask`` draws with NumPy permutations, gathered per batch and head
by ``torch_gather_b2`` (``torch.div(..., rounding_mode="floor")`` offsets into
``index_select``), with the window's duplicate of a global block masked out; the sparse result
is checked against dense attention under the equivalent mask, and a small BigBird encoder
learns whether a sequence's first and last tokens match."""

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)


def _bigbird_block_rand_mask(
    from_seq_length, to_seq_length, from_block_size, to_block_size, num_rand_blocks, rng
):
    """The random key blocks of each middle query block: none of the window's or the globals'."""
    nb = from_seq_length // from_block_size
    rand_attn = np.zeros((nb - 2, num_rand_blocks), dtype=np.int32)
    middle_seq = np.arange(1, to_seq_length // to_block_size - 1, dtype=np.int32)
    last = to_seq_length // to_block_size - 1
    r = num_rand_blocks  # shorthand
    for i in range(1, nb - 1):
        start = i - 2
        end = i
        if i == 1:
            rand_attn[i - 1, :] = rng.permutation(middle_seq[2:last])[:r]
        elif i == 2:
            rand_attn[i - 1, :] = rng.permutation(middle_seq[3:last])[:r]
        elif i == nb - 3:
            rand_attn[i - 1, :] = rng.permutation(middle_seq[: i - 2])[:r]
        elif i == nb - 2:
            rand_attn[i - 1, :] = rng.permutation(middle_seq[: i - 2])[:r]
        else:
            choices = np.concatenate((middle_seq[:start], middle_seq[end + 1 : last]))
            rand_attn[i - 1, :] = rng.permutation(choices)[:r]
    return rand_attn


def torch_gather_b2(params, indices):
    if params.shape[:2] != indices.shape[:2]:
        raise ValueError(
            "Make sure that the first two dimensions of params and indices are identical, but"
            f" they are params: {params.shape[:2]} vs. indices: {indices.shape[:2]}"
        )
    num_indices_to_gather = indices.shape[-2] * indices.shape[-1]
    num_indices_to_pick_from = params.shape[2]
    shift = torch.arange(
        indices.shape[0] * indices.shape[1] * num_indices_to_gather, device=indices.device
    )
    indices_shift = (
        torch.div(shift, num_indices_to_gather, rounding_mode="floor") * num_indices_to_pick_from
    )
    flattened_indices = indices.view(-1) + indices_shift
    flattened_params = params.reshape(-1, params.shape[-2], params.shape[-1])
    out_flattened = flattened_params.index_select(0, flattened_indices)
    out = out_flattened.reshape(params.shape[:2] + (num_indices_to_gather,) + params.shape[3:])
    return out


def bigbird_block_sparse_attention(q, k, v, rand_attn, block_size):
    """q, k, v: (b, h, n, d); rand_attn: (b, h, nb - 2, r) long. Returns (b, h, n, d)."""
    b, h, n, d = q.shape
    nb = n // block_size
    scale = 1.0 / math.sqrt(d)
    bq, bk, bv = (t.view(b, h, nb, block_size, d) for t in (q, k, v))
    # global query blocks: the first and the last attend to every key
    first = F.softmax(q[:, :, :block_size] @ k.transpose(-1, -2) * scale, dim=-1) @ v
    last = F.softmax(q[:, :, -block_size:] @ k.transpose(-1, -2) * scale, dim=-1) @ v
    # middle query blocks: window of 3 blocks, the 2 global blocks, r random blocks
    window_k = torch.cat([bk[:, :, :-2], bk[:, :, 1:-1], bk[:, :, 2:]], dim=3)
    window_v = torch.cat([bv[:, :, :-2], bv[:, :, 1:-1], bv[:, :, 2:]], dim=3)
    r = rand_attn.shape[-1]
    rand_k = torch_gather_b2(bk, rand_attn).view(b, h, nb - 2, r * block_size, d)
    rand_v = torch_gather_b2(bv, rand_attn).view(b, h, nb - 2, r * block_size, d)
    glob_k = torch.cat([bk[:, :, :1], bk[:, :, -1:]], dim=3).expand(-1, -1, nb - 2, -1, -1)
    glob_v = torch.cat([bv[:, :, :1], bv[:, :, -1:]], dim=3).expand(-1, -1, nb - 2, -1, -1)
    keys = torch.cat([glob_k, window_k, rand_k], dim=3)  # (b, h, nb-2, (2+3+r)*bs, d)
    values = torch.cat([glob_v, window_v, rand_v], dim=3)
    scores = torch.einsum("bhqid,bhqjd->bhqij", bq[:, :, 1:-1], keys) * scale
    # the window of the second block holds block 0 again, that of the second-last the last
    duplicate = torch.zeros(nb - 2, keys.shape[3], dtype=torch.bool)
    duplicate[0, 2 * block_size : 3 * block_size] = True
    duplicate[-1, 4 * block_size : 5 * block_size] = True
    scores = scores.masked_fill(duplicate[:, None, :], float("-inf"))
    middle = torch.einsum("bhqij,bhqjd->bhqid", scores.softmax(dim=-1), values)
    return torch.cat([first, middle.reshape(b, h, -1, d), last], dim=2)


def dense_bigbird_mask(n, block_size, rand_attn):
    """The same pattern as a dense (b, h, n, n) bool mask, for checking."""
    nb = n // block_size
    b, h = rand_attn.shape[:2]
    blocks = torch.zeros(b, h, nb, nb, dtype=torch.bool)
    blocks[:, :, [0, -1], :] = True
    blocks[:, :, :, [0, -1]] = True
    idx = torch.arange(1, nb - 1)
    for offset in (-1, 0, 1):
        blocks[:, :, idx, idx + offset] = True
    rows = idx.view(1, 1, -1, 1).expand_as(rand_attn)
    blocks[
        torch.arange(b)[:, None, None, None], torch.arange(h)[None, :, None, None], rows, rand_attn
    ] = True
    return blocks.repeat_interleave(block_size, dim=2).repeat_interleave(block_size, dim=3)


class BigBirdLayer(nn.Module):
    def __init__(self, dim, heads, block_size, num_rand_blocks):
        super().__init__()
        self.heads, self.block_size, self.r = heads, block_size, num_rand_blocks
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.ff = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, x, rand_attn):
        q, k, v = self.qkv(x).unflatten(-1, (3, self.heads, -1)).permute(2, 0, 3, 1, 4)
        ctx = bigbird_block_sparse_attention(q, k, v, rand_attn, self.block_size)
        x = self.norm1(x + self.out(ctx.transpose(1, 2).flatten(2)))
        return self.norm2(x + self.ff(x))


class BigBirdClassifier(nn.Module):
    def __init__(self, vocab, dim, n, heads=2, block_size=4, num_rand_blocks=1, layers=1):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.pos = nn.Parameter(torch.randn(n, dim) * 0.02)
        self.layers = nn.ModuleList(
            [BigBirdLayer(dim, heads, block_size, num_rand_blocks) for _ in range(layers)]
        )
        self.head = nn.Linear(dim, 2)

    def forward(self, tokens, rand_attn):
        x = self.embed(tokens) + self.pos
        for layer in self.layers:
            x = layer(x, rand_attn)
        return self.head(x[:, 0])  # the first (global) token, as a CLS


rng = np.random.default_rng(0)
n, block_size, r, heads = 32, 4, 1, 2
nb = n // block_size


def draw_rand_attn(batch):
    plan = [
        [_bigbird_block_rand_mask(n, n, block_size, block_size, r, rng) for _ in range(heads)]
        for _ in range(batch)
    ]
    return torch.from_numpy(np.array(plan)).long()


rand_attn = draw_rand_attn(2)
q, k, v = torch.randn(3, 2, heads, n, 8, dtype=torch.float64).unbind(0)
sparse = bigbird_block_sparse_attention(q, k, v, rand_attn, block_size)
mask = dense_bigbird_mask(n, block_size, rand_attn)
dense = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
dense_gap = (sparse - dense).abs().max().item()
attended_fraction = mask.float().mean().item()
gather_shape = tuple(torch_gather_b2(k.view(2, heads, nb, block_size, 8), rand_attn).shape)
try:
    torch_gather_b2(k.view(2, heads, nb, block_size, 8), rand_attn[:1])
    gather_error = None
except ValueError as e:
    gather_error = str(e)

# do the first and last tokens match? (global blocks carry it in one hop)
vocab = 6
tokens = torch.randint(1, vocab, (16, n))
same = torch.rand(16) < 0.5
tokens[same, -1] = tokens[same, 0]
labels = (tokens[:, 0] == tokens[:, -1]).long()
model = BigBirdClassifier(vocab, 16, n)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / 5))
losses, accs = [], []
for step in range(40):
    plan = draw_rand_attn(len(tokens))  # fresh random blocks every step, as in training
    logits = model(tokens, plan)
    loss = F.cross_entropy(logits, labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    scheduler.step()
    losses.append(loss.item())
    accs.append((logits.argmax(-1) == labels).float().mean().item())
