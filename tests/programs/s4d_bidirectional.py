"""S4D (Gu et al. 2022, "On the Parameterization and Initialization of Diagonal State Space
Models") as the state-spaces repository's standalone ``s4d.py`` and ``example.py`` write it: a
diagonal kernel from complex parameters (``torch.randn(..., dtype=torch.cfloat)`` stored with
``view_as_real``, ``A = -exp(log_A_real) + 1j * A_imag``, the zero-order-hold ``C * (exp(dtA) -
1) / A``, a Vandermonde ``einsum`` and ``.real``), the convolution by ``rfft``/``irfft`` at
``n=2L``, the bidirectional kernel (the second half of the channels flipped and padded to the
left), the ``_optim`` hyperparameter groups that ``setup_optimizer`` turns into AdamW parameter
groups with a cosine schedule, and a pre-norm S4 classifier trained on tiny sequences; the kernel
is checked against the discretised recurrence run step by step."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


class S4DKernel(nn.Module):
    """Generate convolution kernel from diagonal SSM parameters."""

    def __init__(self, d_model, N=64, dt_min=0.001, dt_max=0.1, lr=None):
        super().__init__()
        H = d_model
        log_dt = torch.rand(H) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min)
        C = torch.randn(H, N // 2, dtype=torch.cfloat)
        self.C = nn.Parameter(torch.view_as_real(C))
        self.register("log_dt", log_dt, lr)
        log_A_real = torch.log(0.5 * torch.ones(H, N // 2))
        A_imag = math.pi * torch.arange(N // 2).float().repeat(H, 1)
        self.register("log_A_real", log_A_real, lr)
        self.register("A_imag", A_imag, lr)

    def forward(self, L):
        dt = torch.exp(self.log_dt)  # (H)
        C = torch.view_as_complex(self.C)  # (H N)
        A = -torch.exp(self.log_A_real) + 1j * self.A_imag  # (H N)
        dtA = A * dt.unsqueeze(-1)  # (H N)
        K = dtA.unsqueeze(-1) * torch.arange(L, device=A.device)  # (H N L)
        C = C * (torch.exp(dtA) - 1.0) / A
        K = 2 * torch.einsum("hn, hnl -> hl", C, torch.exp(K)).real
        return K

    def register(self, name, tensor, lr=None):
        if lr == 0.0:
            self.register_buffer(name, tensor)
        else:
            self.register_parameter(name, nn.Parameter(tensor))
            optim = {"weight_decay": 0.0}
            if lr is not None:
                optim["lr"] = lr
            setattr(getattr(self, name), "_optim", optim)


class S4D(nn.Module):
    def __init__(self, d_model, d_state=16, dropout=0.0, transposed=True, bidirectional=True, **kw):
        super().__init__()
        self.h = d_model
        self.n = d_state
        self.transposed = transposed
        self.bidirectional = bidirectional
        self.D = nn.Parameter(torch.randn(self.h))
        channels = 2 if bidirectional else 1
        self.kernel = S4DKernel(self.h * channels, N=self.n, **kw)
        self.activation = nn.GELU()
        self.dropout = nn.Dropout(dropout) if dropout > 0.0 else nn.Identity()
        self.output_linear = nn.Sequential(
            nn.Conv1d(self.h, 2 * self.h, kernel_size=1),
            nn.GLU(dim=-2),
        )

    def forward(self, u):
        if not self.transposed:
            u = u.transpose(-1, -2)
        L = u.size(-1)
        k = self.kernel(L=L)  # (C*H L)
        if self.bidirectional:
            k0, k1 = k.chunk(2, dim=0)
            k = F.pad(k0, (0, L)) + F.pad(k1.flip(-1), (L, 0))
        k_f = torch.fft.rfft(k, n=2 * L)  # (H L+1)
        u_f = torch.fft.rfft(u, n=2 * L)  # (B H L+1)
        y = torch.fft.irfft(u_f * k_f, n=2 * L)[..., :L]  # (B H L)
        y = y + u * self.D.unsqueeze(-1)
        y = self.dropout(self.activation(y))
        y = self.output_linear(y)
        if not self.transposed:
            y = y.transpose(-1, -2)
        return y, None


class S4Model(nn.Module):
    def __init__(self, d_input, d_output=2, d_model=8, n_layers=2, lr=0.01):
        super().__init__()
        self.encoder = nn.Linear(d_input, d_model)
        self.s4_layers = nn.ModuleList()
        self.norms = nn.ModuleList()
        for _ in range(n_layers):
            self.s4_layers.append(S4D(d_model, d_state=8, lr=lr))
            self.norms.append(nn.LayerNorm(d_model))
        self.decoder = nn.Linear(d_model, d_output)

    def forward(self, x):
        x = self.encoder(x)  # (B, L, d_input) -> (B, L, d_model)
        x = x.transpose(-1, -2)  # (B, d_model, L)
        for layer, norm in zip(self.s4_layers, self.norms):
            z = x
            z = norm(z.transpose(-1, -2)).transpose(-1, -2)  # prenorm
            z, _ = layer(z)
            x = z + x
        x = x.transpose(-1, -2)
        x = x.mean(dim=1)
        return self.decoder(x)


def setup_optimizer(model, lr, weight_decay, epochs):
    all_parameters = list(model.parameters())
    params = [p for p in all_parameters if not hasattr(p, "_optim")]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    hps = [getattr(p, "_optim") for p in all_parameters if hasattr(p, "_optim")]
    hps = [dict(s) for s in sorted(list(dict.fromkeys(frozenset(hp.items()) for hp in hps)))]
    for hp in hps:
        params = [p for p in all_parameters if getattr(p, "_optim", None) == hp]
        optimizer.add_param_group({"params": params, **hp})
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs)
    return optimizer, scheduler


# the kernel against the recurrence x_k = exp(dtA) x_{k-1} + (exp(dtA)-1)/A u_k, y = 2 Re(C x)
kernel = S4DKernel(3, N=8)
with torch.no_grad():
    K = kernel(L=12)
    dt = torch.exp(kernel.log_dt)
    A = -torch.exp(kernel.log_A_real) + 1j * kernel.A_imag
    dA, dB = torch.exp(A * dt[:, None]), (torch.exp(A * dt[:, None]) - 1.0) / A
    Cc = torch.view_as_complex(kernel.C)
    u = torch.randn(3, 12)
    state = torch.zeros(3, 4, dtype=torch.cfloat)
    ys = []
    for k in range(12):
        state = dA * state + dB * u[:, k : k + 1]
        ys.append(2 * (Cc * state).sum(-1).real)
    y_rec = torch.stack(ys, dim=-1)
    y_conv = torch.fft.irfft(torch.fft.rfft(u, n=24) * torch.fft.rfft(K, n=24), n=24)[..., :12]
kernel_vs_recurrence = (y_rec - y_conv).abs().max().item()
kernel_shape, kernel_dtype = tuple(K.shape), str(K.dtype)
complex_param = [tuple(kernel.C.shape), str(kernel.C.dtype), str(A.dtype), str(Cc.dtype)]

# tiny task: is the pulse before or after the middle? (needs the backward direction)
B, L = 32, 16
pos = torch.randint(0, L, (B,))
x = torch.zeros(B, L, 1)
x[torch.arange(B), pos, 0] = 1.0
x = x + 0.1 * torch.randn(B, L, 1)
y = (pos >= L // 2).long()

model = S4Model(1)
optimizer, scheduler = setup_optimizer(model, lr=0.05, weight_decay=0.01, epochs=30)
groups = [(len(g["params"]), g["lr"], g["weight_decay"]) for g in optimizer.param_groups]
losses, accs, lrs = [], [], []
for epoch in range(30):
    model.train()
    optimizer.zero_grad()
    out = model(x)
    loss = F.cross_entropy(out, y)
    loss.backward()
    optimizer.step()
    scheduler.step()
    losses.append(loss.item())
    accs.append(out.argmax(-1).eq(y).float().mean().item())
    lrs.append([g["lr"] for g in optimizer.param_groups])
C_grad_dtype = str(model.s4_layers[0].kernel.C.grad.dtype)
