"""d2l.ai's attention chapters (10 and 11) as their code reads: ``sequence_mask`` by
broadcasting ``torch.arange(maxlen)[None, :] < valid_len[:, None]``, ``masked_softmax`` with
1-D or 2-D ``valid_lens`` (``torch.repeat_interleave``, ``-1e6`` fill), ``AdditiveAttention``
(``queries.unsqueeze(2) + keys.unsqueeze(1)``, ``torch.tanh``, ``w_v`` squeezed) and
``DotProductAttention`` (``torch.bmm`` with ``keys.transpose(1, 2)`` over ``math.sqrt(d)``),
``MultiHeadAttention`` with ``transpose_qkv``/``transpose_output`` and ``LazyLinear``
projections, Nadaraya-Watson kernel regression with a learnable width trained by SGD,
and ``MaskedSoftmaxCELoss`` (``nn.CrossEntropyLoss`` subclass, ``reduction='none'``,
``pred.permute(0, 2, 1)``) on padded target sequences."""

import math

import torch
from torch import nn

torch.manual_seed(0)


def sequence_mask(X, valid_len, value=0):
    """Mask irrelevant entries in sequences."""
    maxlen = X.size(1)
    mask = (
        torch.arange((maxlen), dtype=torch.float32, device=X.device)[None, :] < valid_len[:, None]
    )
    X[~mask] = value
    return X


def masked_softmax(X, valid_lens):
    """Perform softmax operation by masking elements on the last axis."""
    # X: 3D tensor, valid_lens: 1D or 2D tensor
    if valid_lens is None:
        return nn.functional.softmax(X, dim=-1)
    else:
        shape = X.shape
        if valid_lens.dim() == 1:
            valid_lens = torch.repeat_interleave(valid_lens, shape[1])
        else:
            valid_lens = valid_lens.reshape(-1)
        # On the last axis, replace masked elements with a very large negative value, whose
        # exponentiation outputs 0
        X = sequence_mask(X.reshape(-1, shape[-1]), valid_lens, value=-1e6)
        return nn.functional.softmax(X.reshape(shape), dim=-1)


masked_1d = masked_softmax(torch.rand(2, 2, 4), torch.tensor([2, 3]))
masked_2d = masked_softmax(torch.rand(2, 2, 4), torch.tensor([[1, 3], [2, 4]]))
masked_zero_tail = [masked_1d[0, :, 2:].abs().max().item(), masked_2d[1, 0, 2:].abs().max().item()]
demo_mask = sequence_mask(torch.tensor([[1, 2, 3], [4, 5, 6]]), torch.tensor([1, 2])).tolist()


class AdditiveAttention(nn.Module):
    """Additive attention."""

    def __init__(self, num_hiddens, dropout, **kwargs):
        super(AdditiveAttention, self).__init__(**kwargs)
        self.W_k = nn.LazyLinear(num_hiddens, bias=False)
        self.W_q = nn.LazyLinear(num_hiddens, bias=False)
        self.w_v = nn.LazyLinear(1, bias=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, queries, keys, values, valid_lens):
        queries, keys = self.W_q(queries), self.W_k(keys)
        # After dimension expansion, shape of queries: (batch_size, no. of queries, 1,
        # num_hiddens) and shape of keys: (batch_size, 1, no. of key-value pairs,
        # num_hiddens). Sum them up with broadcasting
        features = queries.unsqueeze(2) + keys.unsqueeze(1)
        features = torch.tanh(features)
        # There is only one output of self.w_v, so we remove the last one-dimensional entry
        # from the shape. Shape of scores: (batch_size, no. of queries, no. of key-value pairs)
        scores = self.w_v(features).squeeze(-1)
        self.attention_weights = masked_softmax(scores, valid_lens)
        # Shape of values: (batch_size, no. of key-value pairs, value dimension)
        return torch.bmm(self.dropout(self.attention_weights), values)


class DotProductAttention(nn.Module):
    """Scaled dot product attention."""

    def __init__(self, dropout):
        super().__init__()
        self.dropout = nn.Dropout(dropout)

    # Shape of queries: (batch_size, no. of queries, d)
    # Shape of keys: (batch_size, no. of key-value pairs, d)
    # Shape of values: (batch_size, no. of key-value pairs, value dimension)
    # Shape of valid_lens: (batch_size,) or (batch_size, no. of queries)
    def forward(self, queries, keys, values, valid_lens=None):
        d = queries.shape[-1]
        # Swap the last two dimensions of keys with keys.transpose(1, 2)
        scores = torch.bmm(queries, keys.transpose(1, 2)) / math.sqrt(d)
        self.attention_weights = masked_softmax(scores, valid_lens)
        return torch.bmm(self.dropout(self.attention_weights), values)


queries = torch.normal(0, 1, (2, 1, 20))
keys = torch.normal(0, 1, (2, 10, 2))
values = torch.arange(40, dtype=torch.float32).reshape(1, 10, 4).repeat(2, 1, 1)
valid_lens = torch.tensor([2, 6])
additive = AdditiveAttention(num_hiddens=8, dropout=0.1)
additive.eval()
additive_out = additive(queries, keys, values, valid_lens)
additive_weights = additive.attention_weights.reshape(2, 10).tolist()
lazy_shapes = [tuple(p.shape) for p in additive.parameters()]

queries = torch.normal(0, 1, (2, 1, 2))
dot = DotProductAttention(dropout=0.5)
dot.eval()
dot_out = dot(queries, keys, values, valid_lens)
dot_weights = dot.attention_weights.reshape(2, 10).tolist()


class MultiHeadAttention(nn.Module):
    """Multi-head attention."""

    def __init__(self, num_hiddens, num_heads, dropout, bias=False, **kwargs):
        super().__init__()
        self.num_heads = num_heads
        self.attention = DotProductAttention(dropout)
        self.W_q = nn.LazyLinear(num_hiddens, bias=bias)
        self.W_k = nn.LazyLinear(num_hiddens, bias=bias)
        self.W_v = nn.LazyLinear(num_hiddens, bias=bias)
        self.W_o = nn.LazyLinear(num_hiddens, bias=bias)

    def forward(self, queries, keys, values, valid_lens):
        queries = self.transpose_qkv(self.W_q(queries))
        keys = self.transpose_qkv(self.W_k(keys))
        values = self.transpose_qkv(self.W_v(values))
        if valid_lens is not None:
            # On axis 0, copy the first item (scalar or vector) for num_heads times, then
            # copy the next item, and so on
            valid_lens = torch.repeat_interleave(valid_lens, repeats=self.num_heads, dim=0)
        output = self.attention(queries, keys, values, valid_lens)
        output_concat = self.transpose_output(output)
        return self.W_o(output_concat)

    def transpose_qkv(self, X):
        """Transposition for parallel computation of multiple attention heads."""
        X = X.reshape(X.shape[0], X.shape[1], self.num_heads, -1)
        X = X.permute(0, 2, 1, 3)
        return X.reshape(-1, X.shape[2], X.shape[3])

    def transpose_output(self, X):
        """Reverse the operation of transpose_qkv."""
        X = X.reshape(-1, self.num_heads, X.shape[1], X.shape[2])
        X = X.permute(0, 2, 1, 3)
        return X.reshape(X.shape[0], X.shape[1], -1)


num_hiddens, num_heads = 16, 4
attention = MultiHeadAttention(num_hiddens, num_heads, 0.0)
batch_size, num_queries, num_kvpairs = 2, 4, 6
valid_lens = torch.tensor([3, 2])
X = torch.ones((batch_size, num_queries, num_hiddens))
Y = torch.ones((batch_size, num_kvpairs, num_hiddens))
mha_out = attention(X, Y, Y, valid_lens)
mha_shape = tuple(mha_out.shape)
mha_weights_shape = tuple(attention.attention.attention_weights.shape)

# Nadaraya-Watson regression with a learnable kernel width
n_train = 40
x_train, _ = torch.sort(torch.rand(n_train) * 5)
y_train = 2 * torch.sin(x_train) + x_train**0.8 + torch.normal(0.0, 0.5, (n_train,))
x_test = torch.arange(0, 5, 0.25)
X_tile = x_train.repeat((n_train, 1))
Y_tile = y_train.repeat((n_train, 1))
keys = X_tile[(1 - torch.eye(n_train)).type(torch.bool)].reshape((n_train, -1))
values = Y_tile[(1 - torch.eye(n_train)).type(torch.bool)].reshape((n_train, -1))


class NWKernelRegression(nn.Module):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.w = nn.Parameter(torch.rand((1,), requires_grad=True))

    def forward(self, queries, keys, values):
        queries = queries.repeat_interleave(keys.shape[1]).reshape((-1, keys.shape[1]))
        self.attention_weights = nn.functional.softmax(
            -(((queries - keys) * self.w) ** 2) / 2, dim=1
        )
        return torch.bmm(self.attention_weights.unsqueeze(1), values.unsqueeze(-1)).reshape(-1)


nw = NWKernelRegression()
nw_loss = nn.MSELoss(reduction="none")
trainer = torch.optim.SGD(nw.parameters(), lr=0.05)
nw_losses = []
for epoch in range(5):
    trainer.zero_grad()
    l = nw_loss(nw(x_train, keys, values), y_train)  # noqa: E741 - as d2l names it
    l.sum().backward()
    trainer.step()
    nw_losses.append(float(l.sum()))
nw_width = nw.w.item()
nw_prediction = nw(x_test, x_train.repeat((len(x_test), 1)), y_train.repeat((len(x_test), 1)))


class MaskedSoftmaxCELoss(nn.CrossEntropyLoss):
    """The softmax cross-entropy loss with masks."""

    # `pred` shape: (`batch_size`, `num_steps`, `vocab_size`)
    # `label` shape: (`batch_size`, `num_steps`)
    # `valid_len` shape: (`batch_size`,)
    def forward(self, pred, label, valid_len):
        weights = torch.ones_like(label)
        weights = sequence_mask(weights, valid_len)
        self.reduction = "none"
        unweighted_loss = super(MaskedSoftmaxCELoss, self).forward(pred.permute(0, 2, 1), label)
        weighted_loss = (unweighted_loss * weights).mean(dim=1)
        return weighted_loss


ce = MaskedSoftmaxCELoss()
ce_demo = ce(torch.ones(3, 4, 10), torch.ones((3, 4), dtype=torch.long), torch.tensor([4, 2, 0]))
pred = torch.randn(3, 5, 7, requires_grad=True)
label = torch.randint(0, 7, (3, 5))
seq_loss = ce(pred, label, torch.tensor([5, 3, 1]))
seq_loss.sum().backward()
pred_grad_masked = pred.grad[2, 1:].abs().max().item()
pred_grad_sample = pred.grad[0, 0].tolist()
