"""A tiny denoising diffusion model (DDPM, Ho et al. 2020) as people write it for PyTorch: a
sinusoidal time embedding, a small conv U-Net with GroupNorm and SiLU, a linear beta schedule,
the closed-form forward process q(x_t | x_0), an EMA copy of the model, and ancestral sampling,
on synthetic 8x8 images of bright squares."""

import copy
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
device = "cuda" if torch.cuda.is_available() else "cpu"

image_size = 8
T = 50  # diffusion steps
batch_size = 32
epochs = 6
lr = 2e-3
ema_decay = 0.9


def make_images(n):
    """Images in [-1, 1]: a 4x4 bright square at a random place on a dark background."""
    x = -torch.ones(n, 1, image_size, image_size)
    rows = torch.randint(0, image_size - 3, (n,))
    cols = torch.randint(0, image_size - 3, (n,))
    for i in range(n):
        r, c = rows[i].item(), cols[i].item()
        x[i, :, r : r + 4, c : c + 4] = 1.0
    return x


loader = DataLoader(TensorDataset(make_images(160)), batch_size=batch_size, shuffle=True)

# Linear beta schedule and the quantities the forward and reverse processes need
betas = torch.linspace(1e-4, 0.2, T)
alphas = 1.0 - betas
alphas_cumprod = torch.cumprod(alphas, dim=0)
alphas_cumprod_prev = F.pad(alphas_cumprod[:-1], (1, 0), value=1.0)
sqrt_alphas_cumprod = torch.sqrt(alphas_cumprod)
sqrt_one_minus_alphas_cumprod = torch.sqrt(1.0 - alphas_cumprod)
sqrt_recip_alphas = torch.sqrt(1.0 / alphas)
posterior_variance = betas * (1.0 - alphas_cumprod_prev) / (1.0 - alphas_cumprod)


def extract(a, t, x_shape):
    """Pick a[t] for each batch element and shape it to broadcast over an image batch."""
    batch_size = t.shape[0]
    out = a.gather(-1, t.cpu())
    return out.reshape(batch_size, *((1,) * (len(x_shape) - 1))).to(t.device)


def q_sample(x_start, t, noise=None):
    """Diffuse the data: x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps."""
    if noise is None:
        noise = torch.randn_like(x_start)
    sqrt_alphas_cumprod_t = extract(sqrt_alphas_cumprod, t, x_start.shape)
    sqrt_one_minus_alphas_cumprod_t = extract(sqrt_one_minus_alphas_cumprod, t, x_start.shape)
    return sqrt_alphas_cumprod_t * x_start + sqrt_one_minus_alphas_cumprod_t * noise


class SinusoidalPositionEmbeddings(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, time):
        device = time.device
        half_dim = self.dim // 2
        embeddings = math.log(10000) / (half_dim - 1)
        embeddings = torch.exp(torch.arange(half_dim, device=device) * -embeddings)
        embeddings = time[:, None] * embeddings[None, :]
        embeddings = torch.cat((embeddings.sin(), embeddings.cos()), dim=-1)
        return embeddings


class ResBlock(nn.Module):
    def __init__(self, dim_in, dim_out, time_dim, groups=4):
        super().__init__()
        self.mlp = nn.Sequential(nn.SiLU(), nn.Linear(time_dim, dim_out))
        self.conv1 = nn.Conv2d(dim_in, dim_out, 3, padding=1)
        self.norm1 = nn.GroupNorm(groups, dim_out)
        self.conv2 = nn.Conv2d(dim_out, dim_out, 3, padding=1)
        self.norm2 = nn.GroupNorm(groups, dim_out)
        self.act = nn.SiLU()
        self.res_conv = nn.Conv2d(dim_in, dim_out, 1) if dim_in != dim_out else nn.Identity()

    def forward(self, x, time_emb):
        h = self.act(self.norm1(self.conv1(x)))
        h = h + self.mlp(time_emb)[:, :, None, None]
        h = self.act(self.norm2(self.conv2(h)))
        return h + self.res_conv(x)


class Unet(nn.Module):
    def __init__(self, dim=16, channels=1):
        super().__init__()
        time_dim = dim * 4
        self.time_mlp = nn.Sequential(
            SinusoidalPositionEmbeddings(dim),
            nn.Linear(dim, time_dim),
            nn.GELU(),
            nn.Linear(time_dim, time_dim),
        )
        self.init_conv = nn.Conv2d(channels, dim, 3, padding=1)
        self.down1 = ResBlock(dim, dim, time_dim)
        self.downsample = nn.Conv2d(dim, dim * 2, 4, 2, 1)  # 8x8 -> 4x4
        self.mid = ResBlock(dim * 2, dim * 2, time_dim)
        self.upsample = nn.ConvTranspose2d(dim * 2, dim, 4, 2, 1)  # 4x4 -> 8x8
        self.up1 = ResBlock(dim * 2, dim, time_dim)
        self.skip_up = nn.Conv2d(dim * 2, dim, 1)
        self.final_conv = nn.Conv2d(dim, channels, 1)

    def forward(self, x, time):
        t = self.time_mlp(time)
        x = self.init_conv(x)
        h1 = self.down1(x, t)
        h = self.mid(self.downsample(h1), t)
        # two ways up, summed: a learned transposed conv and bilinear interpolation
        up = self.upsample(h) + self.skip_up(
            F.interpolate(h, scale_factor=2, mode="bilinear", align_corners=False)
        )
        h = self.up1(torch.cat((up, h1), dim=1), t)
        return self.final_conv(h)


model = Unet().to(device)
ema_model = copy.deepcopy(model).eval()
for p in ema_model.parameters():
    p.requires_grad_(False)
ema_model_v2 = copy.deepcopy(ema_model)  # the same average, written with mul_/add_
optimizer = torch.optim.Adam(model.parameters(), lr=lr)


@torch.no_grad()
def update_ema(ema, model, decay):
    for ema_p, p in zip(ema.parameters(), model.parameters()):
        ema_p.lerp_(p, 1.0 - decay)
    for ema_b, b in zip(ema.buffers(), model.buffers()):
        ema_b.copy_(b)


def update_ema_v2(ema, model, decay):
    with torch.no_grad():
        model_params = dict(model.named_parameters())
        for name, ema_p in ema.named_parameters():
            ema_p.mul_(decay).add_(model_params[name].detach(), alpha=1 - decay)


def p_losses(denoise_model, x_start, t, loss_type="huber"):
    noise = torch.randn_like(x_start)
    x_noisy = q_sample(x_start=x_start, t=t, noise=noise)
    predicted_noise = denoise_model(x_noisy, t)
    if loss_type == "l1":
        return F.l1_loss(noise, predicted_noise)
    if loss_type == "l2":
        return F.mse_loss(noise, predicted_noise)
    return F.smooth_l1_loss(noise, predicted_noise)


@torch.no_grad()
def p_sample(model, x, t, t_index):
    betas_t = extract(betas, t, x.shape)
    sqrt_one_minus_alphas_cumprod_t = extract(sqrt_one_minus_alphas_cumprod, t, x.shape)
    sqrt_recip_alphas_t = extract(sqrt_recip_alphas, t, x.shape)
    model_mean = sqrt_recip_alphas_t * (x - betas_t * model(x, t) / sqrt_one_minus_alphas_cumprod_t)
    if t_index == 0:
        return model_mean
    posterior_variance_t = extract(posterior_variance, t, x.shape)
    noise = torch.randn_like(x)
    return model_mean + torch.sqrt(posterior_variance_t) * noise


@torch.no_grad()
def sample(model, shape, generator=None):
    b = shape[0]
    img = torch.randn(shape, device=device, generator=generator)
    imgs = []
    for i in reversed(range(0, T)):
        img = p_sample(model, img, torch.full((b,), i, device=device, dtype=torch.long), i)
        imgs.append(img.cpu())
    return imgs


losses = []
for epoch in range(epochs):
    epoch_loss = 0.0
    for step, (batch,) in enumerate(loader):
        optimizer.zero_grad()
        batch = batch.to(device)
        t = torch.randint(0, T, (batch.shape[0],), device=device).long()
        loss = p_losses(model, batch, t, loss_type="l2")
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        update_ema(ema_model, model, ema_decay)
        update_ema_v2(ema_model_v2, model, ema_decay)
        epoch_loss += loss.item()
    losses.append(epoch_loss / len(loader))
    print(f"Epoch {epoch} loss: {losses[-1]:.4f}")

g = torch.Generator(device=device).manual_seed(1234)
samples = sample(ema_model, shape=(16, 1, image_size, image_size), generator=g)
final = samples[-1].clamp(-1, 1)
print(f"sampled {len(samples)} steps, final batch {tuple(final.shape)}")
ema_gap = max(
    (a - b).abs().max().item() for a, b in zip(ema_model.parameters(), ema_model_v2.parameters())
)
print(f"largest gap between the two EMA updates: {ema_gap:.2e}")
