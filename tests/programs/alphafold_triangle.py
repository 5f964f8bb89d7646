"""AlphaFold 2's pair-stack updates (Jumper et al. 2021, supplementary Algorithms 11-14) as
OpenFold writes them: ``TriangleMultiplicativeUpdate`` (outgoing ``einsum("bikc,bjkc->bijc")``
and incoming ``einsum("bkic,bkjc->bijc")`` edges, sigmoid gates, LayerNorm before the output
projection, a pair mask), ``TriangleAttention`` around the starting and ending node (row
attention with a per-head triangle bias from the pair itself, the ending-node version by
transposing ``-2, -3``, a mask turned into ``-1e9`` biases), zero-initialised output layers as
the "final" init, and a few training steps of the block to predict a distance-like target,
in float64 so the two libraries agree to rounding."""

import math

import torch
import torch.nn as nn

torch.set_default_dtype(torch.float64)
torch.manual_seed(2)


class TriangleMultiplicativeUpdate(nn.Module):
    def __init__(self, c_z, c_hidden, _outgoing=True):
        super().__init__()
        self.c_z, self.c_hidden, self._outgoing = c_z, c_hidden, _outgoing
        self.linear_a_p = nn.Linear(c_z, c_hidden)
        self.linear_a_g = nn.Linear(c_z, c_hidden)
        self.linear_b_p = nn.Linear(c_z, c_hidden)
        self.linear_b_g = nn.Linear(c_z, c_hidden)
        self.linear_g = nn.Linear(c_z, c_z)
        self.linear_z = nn.Linear(c_hidden, c_z)
        self.layer_norm_in = nn.LayerNorm(c_z)
        self.layer_norm_out = nn.LayerNorm(c_hidden)
        self.sigmoid = nn.Sigmoid()
        with torch.no_grad():
            self.linear_z.weight.mul_(0.1)  # "final" init scaled instead of zeroed, so it trains

    def _combine_projections(self, a, b):
        if self._outgoing:
            return torch.einsum("...ikc,...jkc->...ijc", a, b)
        return torch.einsum("...kic,...kjc->...ijc", a, b)

    def forward(self, z, mask=None):
        if mask is None:
            mask = z.new_ones(z.shape[:-1])
        mask = mask.unsqueeze(-1)
        z = self.layer_norm_in(z)
        a = mask * self.sigmoid(self.linear_a_g(z)) * self.linear_a_p(z)
        b = mask * self.sigmoid(self.linear_b_g(z)) * self.linear_b_p(z)
        x = self._combine_projections(a, b)
        x = self.layer_norm_out(x)
        x = self.linear_z(x)
        g = self.sigmoid(self.linear_g(z))
        return x * g


class TriangleAttention(nn.Module):
    def __init__(self, c_in, c_hidden, no_heads, starting=True, inf=1e9):
        super().__init__()
        self.c_hidden, self.no_heads, self.starting, self.inf = c_hidden, no_heads, starting, inf
        self.layer_norm = nn.LayerNorm(c_in)
        self.linear = nn.Linear(c_in, no_heads, bias=False)
        self.linear_q = nn.Linear(c_in, c_hidden * no_heads, bias=False)
        self.linear_k = nn.Linear(c_in, c_hidden * no_heads, bias=False)
        self.linear_v = nn.Linear(c_in, c_hidden * no_heads, bias=False)
        self.linear_g = nn.Linear(c_in, c_hidden * no_heads)
        self.linear_o = nn.Linear(c_hidden * no_heads, c_in)
        nn.init.zeros_(self.linear_g.weight)
        nn.init.ones_(self.linear_g.bias)

    def forward(self, x, mask=None):
        if mask is None:
            mask = x.new_ones(x.shape[:-1])
        if not self.starting:
            x = x.transpose(-2, -3)
            mask = mask.transpose(-1, -2)
        x = self.layer_norm(x)
        mask_bias = (self.inf * (mask - 1))[..., :, None, None, :]  # [*, I, 1, 1, J]
        triangle_bias = self.linear(x).permute(0, 3, 1, 2).unsqueeze(-4)  # [*, 1, H, I, J]
        q = self.linear_q(x).view(*x.shape[:-1], self.no_heads, -1).transpose(-2, -3)
        k = self.linear_k(x).view(*x.shape[:-1], self.no_heads, -1).transpose(-2, -3)
        v = self.linear_v(x).view(*x.shape[:-1], self.no_heads, -1).transpose(-2, -3)
        q = q / math.sqrt(self.c_hidden)
        a = torch.matmul(q, k.transpose(-1, -2)) + mask_bias + triangle_bias
        a = torch.softmax(a, dim=-1)
        o = torch.matmul(a, v).transpose(-2, -3)  # [*, I, J, H, C]
        g = self.sigmoid_gate(x).view(*o.shape)
        o = (o * g).flatten(-2)
        out = self.linear_o(o)
        if not self.starting:
            out = out.transpose(-2, -3)
        return out

    def sigmoid_gate(self, x):
        return torch.sigmoid(self.linear_g(x))


class PairStack(nn.Module):
    def __init__(self, c_z=8, c_hidden=8, heads=2):
        super().__init__()
        self.tri_mul_out = TriangleMultiplicativeUpdate(c_z, c_hidden, _outgoing=True)
        self.tri_mul_in = TriangleMultiplicativeUpdate(c_z, c_hidden, _outgoing=False)
        self.tri_att_start = TriangleAttention(c_z, 4, heads, starting=True)
        self.tri_att_end = TriangleAttention(c_z, 4, heads, starting=False)
        self.head = nn.Linear(c_z, 1)

    def forward(self, z, mask):
        z = z + self.tri_mul_out(z, mask)
        z = z + self.tri_mul_in(z, mask)
        z = z + self.tri_att_start(z, mask)
        z = z + self.tri_att_end(z, mask)
        return self.head(z).squeeze(-1)


B, N, c_z = 2, 6, 8
coords = torch.randn(B, N, 3)
target = torch.cdist(coords, coords)
rel_pos = torch.arange(N)[:, None] - torch.arange(N)[None, :]
pair_init = nn.Embedding(2 * N - 1, c_z)
z0 = pair_init(rel_pos + N - 1).expand(B, N, N, c_z).detach()
z0 = z0 + 0.1 * torch.einsum("bic,bjd->bijcd", coords, coords).flatten(-2)[..., :c_z]
mask = torch.ones(B, N, N)
mask[1, -1, :] = 0
mask[1, :, -1] = 0

model = PairStack(c_z)
opt = torch.optim.Adam(model.parameters(), lr=5e-3)
losses = []
for step in range(15):
    pred = model(z0, mask)
    loss = ((pred - target) ** 2 * mask).sum() / mask.sum()
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())

with torch.no_grad():
    upd_out = model.tri_mul_out(z0, mask)
    upd_in = model.tri_mul_in(z0, mask)
    att_end = model.tri_att_end(z0, mask)
# the incoming update is the outgoing one on the transposed pair, with the a and b edges swapped
swap = TriangleMultiplicativeUpdate(c_z, 8, _outgoing=True)
renamed = {"linear_a": "linear_b", "linear_b": "linear_a"}
swap.load_state_dict(
    {renamed.get(k[:8], k[:8]) + k[8:]: v for k, v in model.tri_mul_in.state_dict().items()}
)
with torch.no_grad():
    transposed = swap(z0.transpose(1, 2), mask.transpose(1, 2)).transpose(1, 2)
incoming_is_transposed_outgoing = torch.allclose(transposed, upd_in)
checksums = [upd_out.sum().item(), upd_in.abs().sum().item(), att_end.pow(2).sum().item()]
grad_norms = {n: p.grad.norm().item() for n, p in model.named_parameters() if "tri_att_end" in n}
pred_masked_row = pred[1, -1].tolist()
