"""The "(Beta) Implementing High-Performance Transformers with Scaled Dot Product Attention
(SDPA)" tutorial, as written for PyTorch, on CPU and at toy sizes: ``F.scaled_dot_product_attention``
on 3-D inputs, explicit dispatcher control with ``sdpa_kernel(SDPBackend.MATH)`` and
``FLASH_ATTENTION`` (the same numbers), the tutorial's ``CausalSelfAttention`` module
(``is_causal=True``, dropout only in training) trained for a few steps, run on a jagged
``torch.nested`` batch of random sequence lengths and compared with each sequence on its own,
and the ``causal_upper_left`` / ``causal_lower_right`` biases
for a decoding step whose queries are fewer than its keys."""

import random

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.nn.attention.bias import causal_lower_right, causal_upper_left

torch.manual_seed(0)
device = "cpu"
query, key, value = torch.randn(2, 3, 8), torch.randn(2, 3, 8), torch.randn(2, 3, 8)
basic = F.scaled_dot_product_attention(query, key, value)

# Explicit Dispatcher Control
batch_size, num_heads, max_sequence_len, embed_dimension = 2, 4, 16, 8
query = torch.rand(batch_size, num_heads, max_sequence_len, embed_dimension)
key = torch.rand(batch_size, num_heads, max_sequence_len, embed_dimension)
value = torch.rand(batch_size, num_heads, max_sequence_len, embed_dimension)
backends = {}
for backend in [SDPBackend.MATH, SDPBackend.FLASH_ATTENTION]:
    with sdpa_kernel(backend):
        out = F.scaled_dot_product_attention(query, key, value, is_causal=True)
    print(f"The {backend} implementation gives {out.sum().item():.3f}")
    backends[str(backend)] = out[0, 0, :3].tolist()
backend_gap = (out - F.scaled_dot_product_attention(query, key, value, is_causal=True)).abs().max()


class CausalSelfAttention(nn.Module):
    def __init__(self, num_heads: int, embed_dimension: int, bias: bool = False, dropout=0.0):
        super().__init__()
        assert embed_dimension % num_heads == 0
        # key, query, value projections for all heads, but in a batch
        self.c_attn = nn.Linear(embed_dimension, 3 * embed_dimension, bias=bias)
        # output projection
        self.c_proj = nn.Linear(embed_dimension, embed_dimension, bias=bias)
        # regularization
        self.dropout = dropout
        self.resid_dropout = nn.Dropout(dropout)
        self.num_heads = num_heads
        self.embed_dimension = embed_dimension
        # Perform causal masking
        self.is_causal = True

    def forward(self, x):
        # calculate query, key, values for all heads in batch and move head forward to be the batch dim
        query_projected = self.c_attn(x)

        batch_size = query_projected.size(0)
        embed_dim = query_projected.size(2)
        head_dim = embed_dim // (self.num_heads * 3)

        query, key, value = query_projected.chunk(3, -1)
        query = query.view(batch_size, -1, self.num_heads, head_dim).transpose(1, 2)
        key = key.view(batch_size, -1, self.num_heads, head_dim).transpose(1, 2)
        value = value.view(batch_size, -1, self.num_heads, head_dim).transpose(1, 2)

        if self.training:
            dropout = self.dropout
            is_causal = self.is_causal
        else:
            dropout = 0.0
            is_causal = False

        y = F.scaled_dot_product_attention(
            query, key, value, attn_mask=None, dropout_p=dropout, is_causal=is_causal
        )
        y = y.transpose(1, 2).view(batch_size, -1, self.num_heads * head_dim)

        y = self.resid_dropout(self.c_proj(y))
        return y


num_heads, heads_per_dim = 2, 8
embed_dimension = num_heads * heads_per_dim
model = CausalSelfAttention(num_heads=num_heads, embed_dimension=embed_dimension, bias=False)
print(model)
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
x, target = torch.randn(4, 6, embed_dimension), torch.randn(4, 6, embed_dimension)
losses = []
for step in range(5):
    optimizer.zero_grad(set_to_none=True)
    loss = F.mse_loss(model(x), target)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
# causal: the output at position 2 does not depend on later positions
x2 = x.clone()
x2[:, 3:] = 0.0
causal_gap = (model(x)[:, :3] - model(x2)[:, :3]).abs().max().item()


# NestedTensor and Dense tensor support
def generate_rand_batch(batch_size, max_sequence_len, embed_dimension, pad_percentage=None):
    if not pad_percentage:
        return torch.randn(batch_size, max_sequence_len, embed_dimension), None
    # Random sequence lengths
    seq_len_list = [
        int(max_sequence_len * (1 - random.gauss(pad_percentage, 0.01))) for _ in range(batch_size)
    ]
    # Make random entry in the batch have max sequence length
    seq_len_list[random.randint(0, batch_size - 1)] = max_sequence_len
    return (
        torch.nested.nested_tensor(
            [torch.randn(seq_len, embed_dimension) for seq_len in seq_len_list],
            layout=torch.jagged,
        ),
        seq_len_list,
    )


random.seed(0)
random_nt, lengths = generate_rand_batch(3, 8, embed_dimension, pad_percentage=0.5)
model.eval()


def nested_attention(x):
    """The module's attention on a jagged batch, with separate q, k, v projections (PyTorch's
    CPU kernels want nested q, k, v contiguous after transposing, which chunk's are not)."""
    w_q, w_k, w_v = model.c_attn.weight.chunk(3, 0)
    q, k, v = [
        F.linear(x, w).view(x.size(0), -1, num_heads, heads_per_dim).transpose(1, 2)
        for w in (w_q, w_k, w_v)
    ]
    y = F.scaled_dot_product_attention(q, k, v)
    return model.c_proj(y.transpose(1, 2).view(x.size(0), -1, embed_dimension))


with torch.no_grad():
    nested_out = nested_attention(random_nt)
    per_sequence = [model(t.unsqueeze(0))[0] for t in random_nt.unbind()]
nested_gap = max((a - b).abs().max().item() for a, b in zip(nested_out.unbind(), per_sequence))
nested_sums = [t.sum().item() for t in nested_out.unbind()]
padded_shape = tuple(torch.nested.to_padded_tensor(nested_out, 0.0).shape)

# Using SDPA with attn_bias subclasses
sequence_length_q, sequence_length_kv = 2, 6
query = torch.rand(2, 2, sequence_length_q, 4)
key = torch.rand(2, 2, sequence_length_kv, 4)
value = torch.rand(2, 2, sequence_length_kv, 4)
upper_left_bias = causal_upper_left(sequence_length_q, sequence_length_kv)
lower_right_bias = causal_lower_right(sequence_length_q, sequence_length_kv)
print(type(upper_left_bias))
assert type(upper_left_bias) is type(lower_right_bias)
print(upper_left_bias)
print(lower_right_bias)
bias_repr = [repr(upper_left_bias), repr(lower_right_bias), int(lower_right_bias.variant)]
out_upper_left = F.scaled_dot_product_attention(query, key, value, upper_left_bias)
out_lower_right = F.scaled_dot_product_attention(query, key, value, lower_right_bias)
out_is_causal = F.scaled_dot_product_attention(query, key, value, is_causal=True)
assert torch.allclose(out_upper_left, out_is_causal)
assert not torch.allclose(out_upper_left, out_lower_right)
# the last query of the lower-right bias sees every key, as attention without a mask does
full = F.scaled_dot_product_attention(query, key, value)
last_query_gap = (out_lower_right[..., -1, :] - full[..., -1, :]).abs().max().item()
bias_outputs = [out_upper_left.sum().item(), out_lower_right.sum().item()]
try:
    F.scaled_dot_product_attention(query, key, value, lower_right_bias, is_causal=True)
    bias_error = None
except ValueError as e:
    bias_error = str(e)
