"""The nested tensors tutorial: building nested tensors from tensors of different lengths
(strided and jagged layouts), padding them with ``torch.nested.to_padded_tensor``, unbinding,
elementwise and shape operations, ``F.linear`` and batched ``matmul``/``softmax`` on ragged
batches, and its multi-head attention written on nested tensors (no padding) compared with the
same attention on zero-padded tensors with a key padding mask."""

import math

import torch
import torch.nn.functional as F

torch.manual_seed(1)
nt = torch.nested.nested_tensor(
    [torch.arange(12).reshape(2, 6), torch.arange(18).reshape(3, 6)], dtype=torch.float
)
basics = {
    "dim": nt.dim(),
    "is_nested": nt.is_nested,
    "size0": nt.size(0),
    "padded": torch.nested.to_padded_tensor(nt, padding=-1.0).tolist(),
    "unbound": [t.shape[0] for t in nt.unbind()],
    "sin_sum": sum(t.sum().item() for t in nt.sin().unbind()),
}
nt_linear = F.linear(nt, torch.ones(4, 6) / 6)
basics["linear"] = [t.tolist() for t in nt_linear.unbind()]
gram = torch.matmul(nt, nt.transpose(1, 2))
basics["gram_shapes"] = [list(t.shape) for t in gram.unbind()]
basics["softmax_rows"] = [t.sum(-1).tolist() for t in F.softmax(gram / 100, -1).unbind()]
basics["reshaped"] = [list(t.shape) for t in nt.reshape(2, -1, 2, 3).unbind()]

jagged = torch.nested.nested_tensor([torch.randn(n, 4) for n in (3, 1, 5)], layout=torch.jagged)
jagged_info = {
    "offsets": jagged.offsets().tolist(),
    "values_shape": list(jagged.values().shape),
    "shape": [jagged.shape[0], jagged.shape[2]],
    "relu_sum": jagged.relu().values().sum().item(),
}


def mha_nested(query, key, value, nheads, W_q, W_k, W_v, W_out):
    N, E = query.size(0), query.size(-1)
    head = E // nheads
    q = F.linear(query, W_q).reshape(N, -1, nheads, head).transpose(1, 2)
    k = F.linear(key, W_k).reshape(N, -1, nheads, head).transpose(1, 2)
    v = F.linear(value, W_v).reshape(N, -1, nheads, head).transpose(1, 2)
    attn = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(head)
    out = torch.matmul(F.softmax(attn, dim=-1), v)
    return F.linear(out.transpose(1, 2).reshape(N, -1, E), W_out)


def mha_padded(query, key, value, nheads, key_padding_mask, W_q, W_k, W_v, W_out):
    N, L, E = query.shape
    head = E // nheads
    q = F.linear(query, W_q).reshape(N, L, nheads, head).transpose(1, 2)
    k = F.linear(key, W_k).reshape(N, -1, nheads, head).transpose(1, 2)
    v = F.linear(value, W_v).reshape(N, -1, nheads, head).transpose(1, 2)
    attn = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(head)
    attn = attn.masked_fill(key_padding_mask[:, None, None, :], float("-inf"))
    out = torch.matmul(F.softmax(attn, dim=-1), v)
    return F.linear(out.transpose(1, 2).reshape(N, L, E), W_out)


E, nheads = 8, 2
lengths = [4, 2, 6, 3]
sentences = [torch.randn(n, E) for n in lengths]
W_q, W_k, W_v, W_out = (torch.randn(E, E) / math.sqrt(E) for _ in range(4))
query = torch.nested.nested_tensor(sentences)
out_nested = mha_nested(query, query, query, nheads, W_q, W_k, W_v, W_out)
padded = torch.nested.to_padded_tensor(query, 0.0)
mask = torch.arange(max(lengths))[None, :] >= torch.tensor(lengths)[:, None]
out_padded = mha_padded(padded, padded, padded, nheads, mask, W_q, W_k, W_v, W_out)
gaps = [
    (a - out_padded[i, : a.shape[0]]).abs().max().item() for i, a in enumerate(out_nested.unbind())
]
nested_rows = [a[0].tolist() for a in out_nested.unbind()]
padded_out_of_nested = torch.nested.to_padded_tensor(out_nested, 0.0)
padded_shape = list(padded_out_of_nested.shape)
