"""A Mamba-style selective state-space layer as mamba-minimal / mamba.py write it in pure
PyTorch: in_proj split into x and a gate z, a causal depthwise Conv1d (padding then
truncation), input-dependent delta/B/C from x_proj, softplus(dt_proj), A = -exp(A_log)
initialised with repeat, the discretization deltaA = exp(delta*A) and deltaB_u via einsum,
and the selective scan both sequentially (a loop over time) and in parallel with cumsum in
log space; RMSNorm, residual blocks, a causal language-model head with tied embeddings,
trained on next-token prediction of arithmetic sequences."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


class RMSNorm(nn.Module):
    def __init__(self, d_model, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d_model))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def selective_scan_sequential(u, delta, A, B, C, D):
    """h_t = exp(Δ_t A) h_{t-1} + Δ_t B_t u_t, y_t = C_t h_t + D u_t (a loop over time)."""
    b, seqlen, d_in = u.shape
    n = A.shape[1]
    deltaA = torch.exp(torch.einsum("bld,dn->bldn", delta, A))
    deltaB_u = torch.einsum("bld,bln,bld->bldn", delta, B, u)
    x = torch.zeros((b, d_in, n), device=deltaA.device)
    ys = []
    for i in range(seqlen):
        x = deltaA[:, i] * x + deltaB_u[:, i]
        y = torch.einsum("bdn,bn->bd", x, C[:, i, :])
        ys.append(y)
    y = torch.stack(ys, dim=1)  # shape (b, l, d_in)
    return y + u * D


def selective_scan_parallel(u, delta, A, B, C, D):
    """The same recurrence without a loop: with a_t = Δ_t A (negative), the cumulative sums
    S_t = Σ_{s<=t} a_s give h_t = Σ_{s<=t} exp(S_t - S_s) Δ_s B_s u_s."""
    deltaA = torch.einsum("bld,dn->bldn", delta, A)  # log of the decay
    deltaB_u = torch.einsum("bld,bln,bld->bldn", delta, B, u)
    S = torch.cumsum(deltaA, dim=1)  # (b, l, d, n)
    # decay from step s to step t: exp(S_t - S_s), masked to s <= t
    diff = S.unsqueeze(2) - S.unsqueeze(1)  # (b, t, s, d, n)
    seqlen = u.shape[1]
    causal = torch.tril(torch.ones(seqlen, seqlen, dtype=torch.bool, device=u.device))
    weights = torch.exp(diff.masked_fill(~causal[None, :, :, None, None], float("-inf")))
    h = torch.einsum("btsdn,bsdn->btdn", weights, deltaB_u)
    y = torch.einsum("btdn,btn->btd", h, C)
    return y + u * D


class MambaBlock(nn.Module):
    def __init__(self, d_model, d_state=8, expand=2, d_conv=4, parallel=False):
        super().__init__()
        self.d_inner = expand * d_model
        self.dt_rank = math.ceil(d_model / 16)
        self.in_proj = nn.Linear(d_model, self.d_inner * 2, bias=False)
        self.conv1d = nn.Conv1d(self.d_inner, self.d_inner, kernel_size=d_conv, bias=True,
                                groups=self.d_inner, padding=d_conv - 1)  # fmt: skip
        self.x_proj = nn.Linear(self.d_inner, self.dt_rank + d_state * 2, bias=False)
        self.dt_proj = nn.Linear(self.dt_rank, self.d_inner, bias=True)
        A = torch.arange(1, d_state + 1).float().repeat(self.d_inner, 1)
        self.A_log = nn.Parameter(torch.log(A))
        self.D = nn.Parameter(torch.ones(self.d_inner))
        self.out_proj = nn.Linear(self.d_inner, d_model, bias=False)
        self.d_state, self.parallel = d_state, parallel

    def forward(self, x):
        b, seqlen, d = x.shape
        x_and_res = self.in_proj(x)  # shape (b, l, 2 * d_in)
        (x, res) = x_and_res.split(split_size=[self.d_inner, self.d_inner], dim=-1)
        x = x.transpose(1, 2)
        x = self.conv1d(x)[:, :, :seqlen]
        x = x.transpose(1, 2)
        x = F.silu(x)
        y = self.ssm(x)
        y = y * F.silu(res)
        return self.out_proj(y)

    def ssm(self, x):
        A = -torch.exp(self.A_log.float())  # shape (d_in, n)
        D = self.D.float()
        x_dbl = self.x_proj(x)  # (b, l, dt_rank + 2*n)
        (delta, B, C) = x_dbl.split(split_size=[self.dt_rank, self.d_state, self.d_state], dim=-1)
        delta = F.softplus(self.dt_proj(delta))  # (b, l, d_in)
        scan = selective_scan_parallel if self.parallel else selective_scan_sequential
        return scan(x, delta, A, B, C, D)


class ResidualBlock(nn.Module):
    def __init__(self, d_model, parallel):
        super().__init__()
        self.mixer = MambaBlock(d_model, parallel=parallel)
        self.norm = RMSNorm(d_model)

    def forward(self, x):
        return self.mixer(self.norm(x)) + x


class Mamba(nn.Module):
    def __init__(self, vocab_size, d_model=16, n_layer=2, parallel=True):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, d_model)
        self.layers = nn.ModuleList([ResidualBlock(d_model, parallel) for _ in range(n_layer)])
        self.norm_f = RMSNorm(d_model)
        self.lm_head = nn.Linear(d_model, vocab_size, bias=False)
        self.lm_head.weight = self.embedding.weight  # Tie output projection to embedding weights
        nn.init.normal_(self.embedding.weight, std=0.02)

    def forward(self, input_ids):
        x = self.embedding(input_ids)
        for layer in self.layers:
            x = layer(x)
        return self.lm_head(self.norm_f(x))


# The two scans agree, values and gradients
block = MambaBlock(8)
u = torch.randn(2, 12, 8)
seq_out = block(u)
block.parallel = True
par_out = block(u)
scan_gap = (seq_out - par_out).abs().max().item()
g_seq = torch.autograd.grad(seq_out.square().sum(), block.A_log)[0]
g_par = torch.autograd.grad(block(u).square().sum(), block.A_log)[0]
scan_grad_gap = (g_seq - g_par).abs().max().item()
print(f"sequential vs parallel scan: {scan_gap:.2e} (grad {scan_grad_gap:.2e})")

# Next-token prediction on arithmetic sequences x_t = (x_0 + k·t) mod V with a random step k
# per sequence: each prediction needs the step, read from the earlier tokens
vocab, L = 12, 16


def make_batch(n):
    start = torch.randint(0, vocab, (n, 1))
    step = torch.randint(1, 4, (n, 1))
    return (start + step * torch.arange(L)) % vocab


model = Mamba(vocab)
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
losses = []
for step in range(35):
    seq = make_batch(16)
    logits = model(seq[:, :-1])
    loss = F.cross_entropy(logits[:, 2:].reshape(-1, vocab), seq[:, 3:].reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    losses.append(loss.item())
    if step % 20 == 0:
        print(f"step {step}: loss {loss.item():.3f}")
seq = make_batch(128)
with torch.no_grad():
    predictions = model(seq[:, :-1])[:, 2:].argmax(-1)
    accuracy = (predictions == seq[:, 3:]).float().mean().item()
print(f"next-token accuracy {accuracy:.3f} (chance {1 / vocab:.3f})")
