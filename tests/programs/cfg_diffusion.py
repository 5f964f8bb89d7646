"""Classifier-free guidance (Ho & Salimans 2022) on a small conditional diffusion model, as
lucidrains' and the tutorials' code writes it: the cosine noise schedule of improved DDPM
(``torch.cos`` of the shifted time, betas clipped at 0.999), ``alphas_cumprod`` with
``torch.cumprod`` and ``F.pad(..., (1, 0), value=1.0)``, an ``extract`` helper by
``gather`` + reshape, v-prediction targets, a null class (index ``num_classes``) replacing
labels with probability 0.2 by ``torch.where(torch.rand(...) < p, ...)``, FiLM conditioning
from sinusoidal time embeddings, and guided DDIM sampling that batches the conditional and
unconditional passes with ``torch.cat`` and splits them with ``chunk``; on 2-D points of three
classes on a circle."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
num_classes, timesteps = 3, 100


def cosine_beta_schedule(timesteps, s=0.008):
    steps = timesteps + 1
    t = torch.linspace(0, timesteps, steps, dtype=torch.float64) / timesteps
    alphas_cumprod = torch.cos((t + s) / (1 + s) * math.pi * 0.5) ** 2
    alphas_cumprod = alphas_cumprod / alphas_cumprod[0]
    betas = 1 - (alphas_cumprod[1:] / alphas_cumprod[:-1])
    return torch.clip(betas, 0, 0.999)


betas = cosine_beta_schedule(timesteps).float()
alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)
alphas_cumprod_prev = F.pad(alphas_cumprod[:-1], (1, 0), value=1.0)
sqrt_ac, sqrt_1m_ac = alphas_cumprod.sqrt(), (1.0 - alphas_cumprod).sqrt()


def extract(a, t, x_shape):
    b, *_ = t.shape
    out = a.gather(-1, t)
    return out.reshape(b, *((1,) * (len(x_shape) - 1)))


class SinusoidalPosEmb(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        half_dim = self.dim // 2
        emb = math.log(10000) / (half_dim - 1)
        emb = torch.exp(torch.arange(half_dim, device=x.device) * -emb)
        emb = x[:, None] * emb[None, :]
        return torch.cat((emb.sin(), emb.cos()), dim=-1)


class Denoiser(nn.Module):
    def __init__(self, dim=64, cond_drop_prob=0.2):
        super().__init__()
        self.cond_drop_prob = cond_drop_prob
        self.time_mlp = nn.Sequential(SinusoidalPosEmb(16), nn.Linear(16, dim), nn.GELU())
        self.classes_emb = nn.Embedding(num_classes + 1, dim)  # the last row: the null class
        self.inp = nn.Linear(2, dim)
        self.film = nn.Linear(dim, dim * 2)
        self.mid = nn.Sequential(nn.SiLU(), nn.Linear(dim, dim), nn.SiLU())
        self.out = nn.Linear(dim, 2)

    def forward(self, x, time, classes, cond_drop_prob=None):
        cond_drop_prob = self.cond_drop_prob if cond_drop_prob is None else cond_drop_prob
        if cond_drop_prob > 0:
            drop = torch.rand(classes.shape, device=classes.device) < cond_drop_prob
            classes = torch.where(drop, torch.full_like(classes, num_classes), classes)
        cond = self.time_mlp(time.float()) + self.classes_emb(classes)
        scale, shift = self.film(cond).chunk(2, dim=-1)
        h = self.inp(x) * (scale + 1) + shift
        return self.out(self.mid(h))


def data(n):
    classes = torch.randint(0, num_classes, (n,))
    angle = classes.float() * (2 * math.pi / num_classes) + 0.15 * torch.randn(n)
    return torch.stack([angle.cos(), angle.sin()], dim=1) * 0.8, classes


model = Denoiser()
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.0)
losses = []
for step in range(60):
    x0, classes = data(128)
    t = torch.randint(0, timesteps, (128,)).long()
    noise = torch.randn_like(x0)
    x_t = extract(sqrt_ac, t, x0.shape) * x0 + extract(sqrt_1m_ac, t, x0.shape) * noise
    v = extract(sqrt_ac, t, x0.shape) * noise - extract(sqrt_1m_ac, t, x0.shape) * x0
    loss = F.mse_loss(model(x_t, t, classes), v)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())


@torch.no_grad()
def guided_sample(classes, cond_scale, steps=20):
    n = classes.shape[0]
    x = torch.randn(n, 2)
    times = torch.linspace(timesteps - 1, 0, steps).long()
    null = torch.full_like(classes, num_classes)
    for i, time in enumerate(times.tolist()):
        t = torch.full((n,), time, dtype=torch.long)
        v_cond, v_null = model(
            torch.cat([x, x]), torch.cat([t, t]), torch.cat([classes, null]), cond_drop_prob=0.0
        ).chunk(2)
        v = v_null + (v_cond - v_null) * cond_scale
        a = alphas_cumprod[time]
        x0 = (a.sqrt() * x - (1 - a).sqrt() * v).clamp(-1.0, 1.0)
        eps = ((1 - a).sqrt() * x + a.sqrt() * v) if i + 1 < steps else torch.zeros_like(x)
        a_prev = alphas_cumprod[times[i + 1]] if i + 1 < steps else torch.tensor(1.0)
        x = a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * eps  # DDIM, eta = 0
    return x


torch.manual_seed(1)
wanted = torch.arange(num_classes).repeat_interleave(20)
centers = torch.stack([torch.cos(wanted * 2 * math.pi / 3), torch.sin(wanted * 2 * math.pi / 3)], 1)
class_errors = []
for scale in (0.0, 1.0, 2.0):
    samples = guided_sample(wanted, scale)
    class_errors.append((samples - 0.8 * centers).norm(dim=1).mean().item())
schedule = [betas[0].item(), betas[-1].item(), alphas_cumprod_prev[:3].tolist()]
