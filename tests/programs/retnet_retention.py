"""RetNet's multi-scale retention (Sun et al. 2023) as torchscale's ``MultiScaleRetention`` writes
it: a per-head decay ``log(1 - 2^(-5-h))``, rotary "theta shift" by ``rotate_every_two``
(strided slices ``x[..., ::2]`` and ``torch.stack(..., -1).flatten(-2)``), the parallel form with
a decay mask built by ``masked_fill`` and ``exp`` and normalised by the square root of its row sums,
retention scores normalised by their detached absolute row sums ``clamp(min=1)``, a per-head
RMSNorm without affine weights, a swish gate; and the recurrent form that carries a ``(d, d)``
state and a running scale per head. A small language model is trained in the parallel form and
then decoded token by token in the recurrent form: the two give the same logits."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
VOCAB, SEQ, DIM, HEADS = 16, 12, 32, 4
HD = DIM // HEADS


def rotate_every_two(x):
    x1, x2 = x[:, :, :, ::2], x[:, :, :, 1::2]
    return torch.stack((-x2, x1), dim=-1).flatten(-2)


def theta_shift(x, sin, cos):
    return (x * cos) + (rotate_every_two(x) * sin)


class RetNetRelPos(nn.Module):
    def __init__(self):
        super().__init__()
        angle = 1.0 / (10000 ** torch.linspace(0, 1, HD // 2))
        angle = angle.unsqueeze(-1).repeat(1, 2).flatten()
        decay = torch.log(1 - 2 ** (-5 - torch.arange(HEADS, dtype=torch.float)))
        self.register_buffer("angle", angle)
        self.register_buffer("decay", decay)

    def forward(self, slen, step=None):
        if step is not None:  # the recurrent form: one position
            sin, cos = torch.sin(self.angle * step), torch.cos(self.angle * step)
            return (sin, cos), self.decay.exp()
        index = torch.arange(slen).to(self.decay)
        sin, cos = torch.sin(index[:, None] * self.angle), torch.cos(index[:, None] * self.angle)
        mask = torch.tril(torch.ones(slen, slen).to(self.decay))
        mask = torch.masked_fill(index[:, None] - index[None, :], ~mask.bool(), float("inf"))
        mask = torch.exp(mask * self.decay[:, None, None])
        mask = torch.nan_to_num(mask)
        mask = mask / mask.sum(dim=-1, keepdim=True).sqrt()
        return (sin, cos), mask


class MultiScaleRetention(nn.Module):
    def __init__(self):
        super().__init__()
        self.q_proj, self.k_proj = nn.Linear(DIM, DIM, bias=False), nn.Linear(DIM, DIM, bias=False)
        self.v_proj, self.g_proj = nn.Linear(DIM, DIM, bias=False), nn.Linear(DIM, DIM, bias=False)
        self.out_proj = nn.Linear(DIM, DIM, bias=False)
        self.group_norm = nn.RMSNorm(HD, eps=1e-6, elementwise_affine=False)

    def _qkv(self, x, sin, cos):
        bsz, tgt_len, _ = x.size()
        q = self.q_proj(x).view(bsz, tgt_len, HEADS, HD).transpose(1, 2)
        k = self.k_proj(x).view(bsz, tgt_len, HEADS, HD).transpose(1, 2) * HD**-0.5
        return theta_shift(q, sin, cos), theta_shift(k, sin, cos), self.v_proj(x)

    def forward(self, x, rel_pos, state=None):
        bsz, tgt_len, _ = x.size()
        (sin, cos), inner = rel_pos
        qr, kr, v = self._qkv(x, sin, cos)
        if state is None:
            v = v.view(bsz, tgt_len, HEADS, HD).transpose(1, 2)
            qk_mat = qr @ kr.transpose(-1, -2) * inner
            qk_mat = qk_mat / qk_mat.detach().abs().sum(dim=-1, keepdim=True).clamp(min=1)
            output = torch.matmul(qk_mat, v).transpose(1, 2)
        else:
            decay = inner.view(HEADS, 1, 1)
            kv = kr.view(bsz, HEADS, HD, 1) * v.view(bsz, HEADS, 1, HD)
            if "prev_key_value" in state:
                prev_kv, prev_scale = state["prev_key_value"], state["scale"]
                scale = prev_scale * decay + 1
                kv = prev_kv * (prev_scale.sqrt() * decay / scale.sqrt()) + kv / scale.sqrt()
            else:
                scale = torch.ones_like(decay)
            state["prev_key_value"], state["scale"] = kv, scale
            output = torch.sum(qr.view(bsz, HEADS, HD, 1) * kv, dim=2).unsqueeze(1)
        output = self.group_norm(output).reshape(bsz, tgt_len, DIM)
        return self.out_proj(F.silu(self.g_proj(x)) * output)


class RetNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, DIM)
        self.rel_pos = RetNetRelPos()
        self.layers = nn.ModuleList(MultiScaleRetention() for _ in range(2))
        self.norms = nn.ModuleList(nn.LayerNorm(DIM) for _ in range(2))
        self.ffn = nn.Sequential(
            nn.LayerNorm(DIM), nn.Linear(DIM, 64), nn.GELU(), nn.Linear(64, DIM)
        )
        self.head = nn.Linear(DIM, VOCAB, bias=False)

    def forward(self, tokens, states=None, step=None):
        x = self.embed(tokens)
        rel_pos = self.rel_pos(tokens.size(1), step)
        for i, (norm, layer) in enumerate(zip(self.norms, self.layers)):
            x = x + layer(norm(x), rel_pos, None if states is None else states[i])
        return self.head(x + self.ffn(x))


model = RetNet()
optimizer = torch.optim.AdamW(model.parameters(), lr=5e-3)
data = torch.randint(0, VOCAB, (8, SEQ // 2)).repeat(1, 2)
losses = []
for step in range(12):
    logits = model(data[:, :-1])
    loss = F.cross_entropy(logits.reshape(-1, VOCAB), data[:, 1:].reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    if step == 0:
        first_q_grad = model.layers[0].q_proj.weight.grad[0, :4].tolist()
    optimizer.step()
    losses.append(loss.item())

with torch.no_grad():
    parallel = model(data[:2])
    states = [{}, {}]
    recurrent = torch.cat([model(data[:2, i : i + 1], states, step=i) for i in range(SEQ)], dim=1)
parallel_recurrent_gap = (parallel - recurrent).abs().max().item()
decays = model.rel_pos.decay.exp().tolist()
final_scales = states[0]["scale"].flatten().tolist()
mask_row_norms = model.rel_pos(6)[1].pow(2).sum(-1)[:, -1].tolist()  # sqrt-normalised rows
rotated = rotate_every_two(torch.arange(8.0).view(1, 1, 1, 8)).flatten().tolist()
