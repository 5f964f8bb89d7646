"""The Linear Recurrent Unit (Orvieto et al. 2023, "Resurrecting Recurrent Neural Networks for
Long Sequences") as its PyTorch ports write it: complex parameters ``B`` and ``C`` made with
``torch.complex`` and trained by Adam as complex leaves, the exponential parametrisation
``Lambda = exp(-exp(nu_log) + 1j * exp(theta_log))`` initialised on a ring of the unit disk, the
``gamma_log`` normalisation, the recurrence run step by step (the reference loop writing into
``torch.empty`` outputs) and as a parallel scan (Hillis-Steele doubling of ``(a, b)`` pairs,
``torch.cumprod`` of the diagonal too), the real part of ``C x`` plus ``D u``, and a deep LRU
network (LayerNorm, GLU, residual) learning a delayed-sum sequence task."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


class LRU(nn.Module):
    def __init__(
        self, in_features, out_features, state_features, rmin=0.4, rmax=0.9, max_phase=6.283
    ):
        super().__init__()
        self.out_features = out_features
        self.D = nn.Parameter(torch.randn([out_features, in_features]) / math.sqrt(in_features))
        u1 = torch.rand(state_features)
        u2 = torch.rand(state_features)
        self.nu_log = nn.Parameter(
            torch.log(-0.5 * torch.log(u1 * (rmax + rmin) * (rmax - rmin) + rmin**2))
        )
        self.theta_log = nn.Parameter(torch.log(max_phase * u2))
        Lambda_mod = torch.exp(-torch.exp(self.nu_log))
        self.gamma_log = nn.Parameter(
            torch.log(torch.sqrt(torch.ones_like(Lambda_mod) - torch.square(Lambda_mod)))
        )
        B_re = torch.randn([state_features, in_features]) / math.sqrt(2 * in_features)
        B_im = torch.randn([state_features, in_features]) / math.sqrt(2 * in_features)
        self.B = nn.Parameter(torch.complex(B_re, B_im))
        C_re = torch.randn([out_features, state_features]) / math.sqrt(state_features)
        C_im = torch.randn([out_features, state_features]) / math.sqrt(state_features)
        self.C = nn.Parameter(torch.complex(C_re, C_im))
        self.state = torch.complex(torch.zeros(state_features), torch.zeros(state_features))

    def lambda_gamma(self):
        Lambda_mod = torch.exp(-torch.exp(self.nu_log))
        Lambda_re = Lambda_mod * torch.cos(torch.exp(self.theta_log))
        Lambda_im = Lambda_mod * torch.sin(torch.exp(self.theta_log))
        Lambda = torch.complex(Lambda_re, Lambda_im)
        gammas = torch.exp(self.gamma_log).unsqueeze(-1).to(self.B.device)
        return Lambda, gammas

    def forward_loop(self, input):
        Lambda, gammas = self.lambda_gamma()
        output = torch.empty([i for i in input.shape[:-1]] + [self.out_features])
        for i, batch in enumerate(input):
            out_seq = torch.empty(input.shape[1], self.out_features)
            for j, step in enumerate(batch):
                self.state = Lambda * self.state + gammas * self.B @ step.to(dtype=self.B.dtype)
                out_step = (self.C @ self.state).real + self.D @ step
                out_seq[j] = out_step
            self.state = torch.complex(
                torch.zeros_like(self.state.real), torch.zeros_like(self.state.real)
            )
            output[i] = out_seq
        return output

    def forward(self, input):  # (B, L, H): the parallel scan
        Lambda, gammas = self.lambda_gamma()
        Bu = torch.einsum("nh,blh->bln", gammas * self.B, input.to(self.B.dtype))
        a = Lambda.expand_as(Bu)
        b = Bu
        shift = 1
        while shift < input.shape[1]:  # h_t = a_t h_{t-1} + b_t, combined over 2**k steps
            a_prev = F.pad(a[:, :-shift], (0, 0, shift, 0), value=1.0)
            b_prev = F.pad(b[:, :-shift], (0, 0, shift, 0), value=0.0)
            a, b = a * a_prev, a * b_prev + b
            shift *= 2
        return (b @ self.C.transpose(0, 1)).real + input @ self.D.T


class LRUBlock(nn.Module):
    def __init__(self, d_model, d_state):
        super().__init__()
        self.norm = nn.LayerNorm(d_model)
        self.lru = LRU(d_model, d_model, d_state)
        self.out = nn.Linear(d_model, 2 * d_model)

    def forward(self, x):
        y = self.lru(self.norm(x))
        y = F.glu(self.out(F.gelu(y)), dim=-1)
        return x + y


class DeepLRU(nn.Module):
    def __init__(self, d_in=1, d_model=8, d_state=8, n_layers=2):
        super().__init__()
        self.encoder = nn.Linear(d_in, d_model)
        self.blocks = nn.Sequential(*[LRUBlock(d_model, d_state) for _ in range(n_layers)])
        self.decoder = nn.Linear(d_model, 1)

    def forward(self, x):
        return self.decoder(self.blocks(self.encoder(x)))


lru = LRU(2, 3, 4)
u = torch.randn(2, 7, 2)
with torch.no_grad():
    loop_out = lru.forward_loop(u)
    scan_out = lru(u)
    Lambda, _ = lru.lambda_gamma()
scan_vs_loop = (loop_out - scan_out).abs().max().item()
lambda_moduli = Lambda.abs().tolist()
powers = torch.cumprod(Lambda.expand(5, 4), dim=0)
cumprod_check = (powers[-1] - Lambda**5).abs().max().item()
param_dtypes = [str(p.dtype) for p in lru.parameters()]

# delayed running sum: y_t = sum of the last 4 inputs
x = torch.randn(16, 20, 1)
target = x.cumsum(1) - F.pad(x.cumsum(1), (0, 0, 4, 0))[:, :-4]
model = DeepLRU()
optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
losses = []
for step in range(40):
    optimizer.zero_grad()
    loss = F.mse_loss(model(x), target)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
B_state = optimizer.state[model.blocks[0].lru.B]
complex_state = [str(B_state["exp_avg"].dtype), str(B_state["exp_avg_sq"].dtype)]
B_grad = model.blocks[0].lru.B.grad
b_grad_sample = [B_grad[0, 0].real.item(), B_grad[0, 0].imag.item()]
