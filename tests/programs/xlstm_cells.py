"""xLSTM's two cells (Beck et al. 2024) as NX-AI's reference code writes them: the mLSTM with a
matrix memory in its parallel, stabilised form (``F.logsigmoid`` forget gates summed with
``torch.cumsum``, a log-decay matrix masked by ``torch.where`` on ``torch.tril``, row maxima
subtracted before ``exp``, the normaliser ``max(|row sum|, exp(-m))``) and in its recurrent
step form (states ``C``, ``n`` and the stabiliser ``m``), which must agree; and the sLSTM with
exponential input gates, a stabiliser state and block-diagonal (per-head) recurrent weights
applied with ``torch.einsum``, gates split with ``torch.unbind``. A two-layer model is trained on
a running-parity task; large gate pre-activations overflow the naive form but not the
stabilised one."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
SEQ, DIM, HEADS = 8, 16, 2
HD = DIM // HEADS


def parallel_stabilized_simple(queries, keys, values, igate_preact, fgate_preact, eps=1e-6):
    B, NH, S, DH = queries.shape
    ltr = torch.tril(torch.ones((S, S), dtype=torch.bool))
    log_fgates = F.logsigmoid(fgate_preact)  # (B, NH, S, 1)
    log_fgates_cumsum = torch.cat(
        [torch.zeros((B, NH, 1, 1)), torch.cumsum(log_fgates, dim=-2)], dim=-2
    )
    rep = log_fgates_cumsum.repeat(1, 1, 1, S + 1)
    _log_fg_matrix = rep - rep.transpose(-2, -1)
    log_fg_matrix = torch.where(ltr, _log_fg_matrix[:, :, 1:, 1:], -float("inf"))
    log_D_matrix = log_fg_matrix + igate_preact.transpose(-2, -1)
    max_log_D, _ = torch.max(log_D_matrix, dim=-1, keepdim=True)
    D_matrix = torch.exp(log_D_matrix - max_log_D)
    qk_matrix = queries @ (keys / math.sqrt(DH)).transpose(-2, -1)
    C_matrix = qk_matrix * D_matrix
    normalizer = torch.maximum(C_matrix.sum(dim=-1, keepdim=True).abs(), torch.exp(-max_log_D))
    return (C_matrix / (normalizer + eps)) @ values


def recurrent_step_stabilized_simple(c_state, n_state, m_state, q, k, v, ig, fg, eps=1e-6):
    DH = q.shape[-1]
    q, k, v = q.unsqueeze(-1), k.unsqueeze(-1), v.unsqueeze(-1)
    log_fg_act = F.logsigmoid(fg)
    m_state_new = torch.max(log_fg_act + m_state, ig)
    fg_act = torch.exp(log_fg_act + m_state - m_state_new)
    ig_act = torch.exp(ig - m_state_new)
    k_scaled = k / math.sqrt(DH)
    c_state_new = fg_act * c_state + ig_act * (k_scaled @ v.transpose(-1, -2))
    n_state_new = fg_act * n_state + ig_act * k_scaled
    h_num = q.transpose(-1, -2) @ c_state_new
    qn_dotproduct = q.transpose(-1, -2) @ n_state_new
    h_denom = torch.maximum(qn_dotproduct.abs(), torch.exp(-m_state_new)) + eps
    return (h_num / h_denom).squeeze(-2), (c_state_new, n_state_new, m_state_new)


class MLSTMLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(DIM, 3 * DIM, bias=False)
        self.gates = nn.Linear(DIM, 2 * HEADS)
        nn.init.constant_(self.gates.bias[HEADS:], 3.0)  # forget gates start open
        self.out = nn.Linear(DIM, DIM, bias=False)
        self.norm = nn.GroupNorm(HEADS, DIM)

    def _split(self, x):
        b, s, _ = x.shape
        q, k, v = (t.view(b, s, HEADS, HD).transpose(1, 2) for t in self.qkv(x).chunk(3, -1))
        ig, fg = (t.transpose(1, 2).unsqueeze(-1) for t in self.gates(x).chunk(2, -1))
        return q, k, v, ig, fg

    def _finish(self, h):
        b, _, s, _ = h.shape
        h = self.norm(h.transpose(1, 2).reshape(b * s, DIM)).view(b, s, DIM)
        return self.out(h)

    def forward(self, x):
        return self._finish(parallel_stabilized_simple(*self._split(x)))

    @torch.no_grad()
    def recurrent(self, x):
        q, k, v, ig, fg = self._split(x)
        b = x.shape[0]
        c, n, m = (
            torch.zeros(b, HEADS, HD, HD),
            torch.zeros(b, HEADS, HD, 1),
            torch.zeros(b, HEADS, 1, 1),
        )
        outs = []
        for t in range(x.shape[1]):
            gi, gf = ig[:, :, t : t + 1], fg[:, :, t : t + 1]
            h, (c, n, m) = recurrent_step_stabilized_simple(
                c, n, m, q[:, :, t], k[:, :, t], v[:, :, t], gi, gf
            )
            outs.append(h)
        return self._finish(torch.stack(outs, dim=2)), m


class SLSTMLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.W = nn.Linear(DIM, 4 * DIM)
        self.R = nn.Parameter(torch.randn(HEADS, HD, 4 * HD) / math.sqrt(HD))

    def cell(self, wx, y, c, n, m):
        ry = torch.einsum("bhd,hdg->bhg", y.view(-1, HEADS, HD), self.R)
        ry = ry.view(-1, HEADS, 4, HD).transpose(1, 2).reshape(-1, 4 * DIM)
        iraw, fraw, zraw, oraw = torch.unbind((wx + ry).view(-1, 4, DIM), dim=1)
        logfplusm = m + F.logsigmoid(fraw)
        mnew = iraw if torch.all(n == 0.0) else torch.max(iraw, logfplusm)
        igate, fgate = torch.exp(iraw - mnew), torch.exp(logfplusm - mnew)
        cnew = fgate * c + igate * torch.tanh(zraw)
        nnew = fgate * n + igate
        return torch.sigmoid(oraw) * cnew / nnew, cnew, nnew, mnew

    def forward(self, x):
        wx = self.W(x)
        y = c = n = m = torch.zeros(x.shape[0], DIM)
        outs = []
        for t in range(x.shape[1]):
            y, c, n, m = self.cell(wx[:, t], y, c, n, m)
            outs.append(y)
        return torch.stack(outs, dim=1), m


class XLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(2, DIM)
        self.ln1, self.ln2 = nn.LayerNorm(DIM), nn.LayerNorm(DIM)
        self.mlstm, self.slstm = MLSTMLayer(), SLSTMLayer()
        self.head = nn.Linear(DIM, 2)

    def forward(self, bits):
        h = self.embed(bits)
        h = h + self.mlstm(self.ln1(h))
        y, m = self.slstm(self.ln2(h))
        return self.head(h + y), m


model = XLSTM()
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
bits = torch.randint(0, 2, (16, SEQ))
parity = bits.cumsum(dim=1) % 2
losses = []
for step in range(10):
    logits, slstm_m = model(bits)
    loss = F.cross_entropy(logits.reshape(-1, 2), parity.reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    losses.append(loss.item())
r_grad_sample = model.slstm.R.grad[0, 0, :4].tolist()
gate_grad_sample = model.mlstm.gates.weight.grad[:, 0].tolist()
slstm_m_sample = slstm_m[0, :4].tolist()

x = model.ln1(model.embed(bits[:4]))
with torch.no_grad():
    parallel = model.mlstm(x)
recurrent, final_m = model.mlstm.recurrent(x)
parallel_recurrent_gap = (parallel - recurrent).abs().max().item()
final_m_sample = final_m.flatten()[:4].tolist()

big = torch.full((1, 1, 4, 1), 60.0)  # input-gate pre-activations of 60: exp(120) overflows
q = torch.ones(1, 1, 4, HD)
stable = parallel_stabilized_simple(q, q, q, big * 2, big)
naive_D = torch.exp(big * 2).transpose(-2, -1).expand(1, 1, 4, 4)
stable_finite = bool(stable.isfinite().all())
naive_overflows = bool(naive_D.isinf().any())
