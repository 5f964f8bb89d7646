"""denoising-diffusion-pytorch's ``Unet`` and ``GaussianDiffusion``, scaled down and with the
``einops`` calls written out: ``WeightStandardizedConv2d`` (weights standardised by
``mean``/``var(unbiased=False)`` over ``(1, 2, 3)`` and ``rsqrt``, eps by dtype),
``RMSNorm`` by ``F.normalize(x, dim=1) * g * sqrt(dim)``, ``Block``/``ResnetBlock`` with a time
MLP's ``chunk(2, dim=1)`` scale and shift, ``LinearAttention`` (``q.softmax(dim=-2)``,
``k.softmax(dim=-1)``, ``einsum`` context, learned memory key/values ``repeat``-ed over the
batch), ``Downsample`` by a pixel-unshuffle ``reshape``/``permute`` and a 1x1 conv,
``Upsample`` by ``nn.Upsample(scale_factor=2, mode='nearest')``, skip connections by
``torch.cat``; the sigmoid beta schedule in float64 cast to float32 buffers through a
``register_buffer`` lambda, min-SNR loss weights for v-prediction (``clamp_``), the per-sample
loss ``mean`` over image dims, and DDIM sampling over ``times.int().tolist()`` pairs with
``eta``; trained on tiny synthetic blobs."""

import math
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn


class WeightStandardizedConv2d(nn.Conv2d):
    def forward(self, x):
        eps = 1e-5 if x.dtype == torch.float32 else 1e-3
        weight = self.weight
        mean = weight.mean(dim=(1, 2, 3), keepdim=True)
        var = torch.var(weight, dim=(1, 2, 3), keepdim=True, unbiased=False)
        normalized_weight = (weight - mean) * (var + eps).rsqrt()
        return F.conv2d(
            x, normalized_weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )


class RMSNorm(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.scale, self.g = dim**0.5, nn.Parameter(torch.ones(1, dim, 1, 1))

    def forward(self, x):
        return F.normalize(x, dim=1) * self.g * self.scale


class SinusoidalPosEmb(nn.Module):
    def __init__(self, dim, theta=10000):
        super().__init__()
        self.dim, self.theta = dim, theta

    def forward(self, x):
        half_dim = self.dim // 2
        emb = math.log(self.theta) / (half_dim - 1)
        emb = torch.exp(torch.arange(half_dim, device=x.device) * -emb)
        emb = x[:, None] * emb[None, :]
        return torch.cat((emb.sin(), emb.cos()), dim=-1)


class Block(nn.Module):
    def __init__(self, dim, dim_out, groups=4):
        super().__init__()
        self.proj, self.norm, self.act = (
            WeightStandardizedConv2d(dim, dim_out, 3, padding=1),
            nn.GroupNorm(groups, dim_out),
            nn.SiLU(),
        )

    def forward(self, x, scale_shift=None):
        x = self.norm(self.proj(x))
        if scale_shift is not None:
            scale, shift = scale_shift
            x = x * (scale + 1) + shift
        return self.act(x)


class ResnetBlock(nn.Module):
    def __init__(self, dim, dim_out, time_emb_dim):
        super().__init__()
        self.mlp = nn.Sequential(nn.SiLU(), nn.Linear(time_emb_dim, dim_out * 2))
        self.block1, self.block2 = Block(dim, dim_out), Block(dim_out, dim_out)
        self.res_conv = nn.Conv2d(dim, dim_out, 1) if dim != dim_out else nn.Identity()

    def forward(self, x, time_emb):
        time_emb = self.mlp(time_emb)[:, :, None, None]
        h = self.block1(x, scale_shift=time_emb.chunk(2, dim=1))
        return self.block2(h) + self.res_conv(x)


class LinearAttention(nn.Module):
    def __init__(self, dim, heads=2, dim_head=8, num_mem_kv=2):
        super().__init__()
        self.scale, self.heads, hidden_dim = dim_head**-0.5, heads, dim_head * heads
        self.norm = RMSNorm(dim)
        self.mem_kv = nn.Parameter(torch.randn(2, heads, dim_head, num_mem_kv))
        self.to_qkv = nn.Conv2d(dim, hidden_dim * 3, 1, bias=False)
        self.to_out = nn.Sequential(nn.Conv2d(hidden_dim, dim, 1), RMSNorm(dim))

    def forward(self, x):
        b, c, h, w = x.shape
        qkv = self.to_qkv(self.norm(x)).chunk(3, dim=1)
        q, k, v = (t.reshape(b, self.heads, -1, h * w) for t in qkv)
        mk, mv = (t.unsqueeze(0).repeat(b, 1, 1, 1) for t in self.mem_kv)
        k, v = torch.cat((mk, k), dim=-1), torch.cat((mv, v), dim=-1)
        q, k = q.softmax(dim=-2) * self.scale, k.softmax(dim=-1)
        context = torch.einsum("b h d n, b h e n -> b h d e", k, v)
        out = torch.einsum("b h d e, b h d n -> b h e n", context, q)
        return self.to_out(out.reshape(b, -1, h, w))


def Downsample(dim, dim_out):
    class PixelUnshuffle(
        nn.Module
    ):  # Rearrange('b c (h p1) (w p2) -> b (c p1 p2) h w', p1=2, p2=2)
        def forward(self, x):
            b, c, h, w = x.shape
            return (
                x.reshape(b, c, h // 2, 2, w // 2, 2)
                .permute(0, 1, 3, 5, 2, 4)
                .reshape(b, c * 4, h // 2, w // 2)
            )

    return nn.Sequential(PixelUnshuffle(), nn.Conv2d(dim * 4, dim_out, 1))


def Upsample(dim, dim_out):
    return nn.Sequential(
        nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(dim, dim_out, 3, padding=1)
    )


class Unet(nn.Module):
    def __init__(self, dim=8, channels=1):
        super().__init__()
        time_dim = dim * 4
        self.init_conv = nn.Conv2d(channels, dim, 7, padding=3)
        self.time_mlp = nn.Sequential(
            SinusoidalPosEmb(dim),
            nn.Linear(dim, time_dim),
            nn.GELU(),
            nn.Linear(time_dim, time_dim),
        )
        block = partial(ResnetBlock, time_emb_dim=time_dim)
        self.down = nn.ModuleList([block(dim, dim), LinearAttention(dim), Downsample(dim, 2 * dim)])
        self.mid_block, self.mid_attn = block(2 * dim, 2 * dim), LinearAttention(2 * dim)
        self.up = nn.ModuleList([Upsample(2 * dim, dim), block(2 * dim, dim), LinearAttention(dim)])
        self.final_res_block, self.final_conv = block(2 * dim, dim), nn.Conv2d(dim, channels, 1)

    def forward(self, x, time):
        x = self.init_conv(x)
        r, t = x.clone(), self.time_mlp(time)
        block, attn, downsample = self.down
        h = attn(block(x, t)) + x
        x = downsample(h)
        x = self.mid_block(x, t)
        x = self.mid_attn(x) + x
        upsample, block, attn = self.up
        x = block(torch.cat((upsample(x), h), dim=1), t)
        x = attn(x) + x
        return self.final_conv(self.final_res_block(torch.cat((x, r), dim=1), t))


def sigmoid_beta_schedule(timesteps, start=-3, end=3, tau=1):
    t = torch.linspace(0, timesteps, timesteps + 1, dtype=torch.float64) / timesteps
    v_start, v_end = torch.tensor(start / tau).sigmoid(), torch.tensor(end / tau).sigmoid()
    alphas_cumprod = (-((t * (end - start) + start) / tau).sigmoid() + v_end) / (v_end - v_start)
    alphas_cumprod = alphas_cumprod / alphas_cumprod[0]
    return torch.clip(1 - (alphas_cumprod[1:] / alphas_cumprod[:-1]), 0, 0.999)


def extract(a, t, x_shape):
    b, *_ = t.shape
    return a.gather(-1, t).reshape(b, *((1,) * (len(x_shape) - 1)))


class GaussianDiffusion(nn.Module):
    def __init__(self, model, timesteps=40, sampling_timesteps=5, min_snr_gamma=5):
        super().__init__()
        self.model, self.num_timesteps, self.sampling_timesteps = (
            model,
            timesteps,
            sampling_timesteps,
        )
        betas = sigmoid_beta_schedule(timesteps)
        alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)
        register_buffer = lambda name, val: self.register_buffer(name, val.to(torch.float32))  # noqa: E731
        register_buffer("betas", betas)
        register_buffer("alphas_cumprod", alphas_cumprod)
        register_buffer("alphas_cumprod_prev", F.pad(alphas_cumprod[:-1], (1, 0), value=1.0))
        register_buffer("sqrt_alphas_cumprod", torch.sqrt(alphas_cumprod))
        register_buffer("sqrt_one_minus_alphas_cumprod", torch.sqrt(1.0 - alphas_cumprod))
        snr = alphas_cumprod / (1 - alphas_cumprod)
        maybe_clipped_snr = snr.clone()
        maybe_clipped_snr.clamp_(max=min_snr_gamma)
        register_buffer("loss_weight", maybe_clipped_snr / (snr + 1))

    def model_predictions(self, x, t):
        v = self.model(x, t)
        x_start = (
            extract(self.sqrt_alphas_cumprod, t, x.shape) * x
            - extract(self.sqrt_one_minus_alphas_cumprod, t, x.shape) * v
        )
        x_start = torch.clamp(x_start, min=-1.0, max=1.0)
        pred_noise = (x - extract(self.sqrt_alphas_cumprod, t, x.shape) * x_start) / extract(
            self.sqrt_one_minus_alphas_cumprod, t, x.shape
        )
        return pred_noise, x_start

    def p_losses(self, x_start, t):
        noise = torch.randn_like(x_start)
        x = (
            extract(self.sqrt_alphas_cumprod, t, x_start.shape) * x_start
            + extract(self.sqrt_one_minus_alphas_cumprod, t, x_start.shape) * noise
        )
        target = (
            extract(self.sqrt_alphas_cumprod, t, x_start.shape) * noise
            - extract(self.sqrt_one_minus_alphas_cumprod, t, x_start.shape) * x_start
        )
        loss = F.mse_loss(self.model(x, t), target, reduction="none").mean(dim=(1, 2, 3))
        return (loss * extract(self.loss_weight, t, loss.shape)).mean()

    def forward(self, img):
        t = torch.randint(0, self.num_timesteps, (img.shape[0],), device=img.device).long()
        return self.p_losses(img * 2 - 1, t)

    @torch.inference_mode()
    def ddim_sample(self, shape, eta=0.0):
        times = torch.linspace(-1, self.num_timesteps - 1, steps=self.sampling_timesteps + 1)
        times = list(reversed(times.int().tolist()))
        img = torch.randn(shape)
        for time, time_next in zip(times[:-1], times[1:]):
            time_cond = torch.full((shape[0],), time, dtype=torch.long)
            pred_noise, x_start = self.model_predictions(img, time_cond)
            if time_next < 0:
                img = x_start
                continue
            alpha, alpha_next = self.alphas_cumprod[time], self.alphas_cumprod[time_next]
            sigma = eta * ((1 - alpha / alpha_next) * (1 - alpha_next) / (1 - alpha)).sqrt()
            c = (1 - alpha_next - sigma**2).sqrt()
            img = x_start * alpha_next.sqrt() + c * pred_noise + sigma * torch.randn_like(img)
        return (img + 1) * 0.5, times


torch.manual_seed(0)
diffusion = GaussianDiffusion(Unet())
yy, xx = torch.meshgrid(torch.linspace(-1, 1, 8), torch.linspace(-1, 1, 8), indexing="ij")
centers = torch.rand(16, 2) - 0.5
images = torch.exp(
    -((xx - centers[:, 0, None, None]) ** 2 + (yy - centers[:, 1, None, None]) ** 2) * 4
)[:, None]
optimizer = torch.optim.Adam(diffusion.parameters(), lr=2e-3)
losses = []
for step in range(6):
    loss = diffusion(images)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
    print(f"step {step}: loss {loss.item():.4f}")
buffer_dtypes = sorted({str(b.dtype) for b in diffusion.buffers()})
betas_head, loss_weight_head = diffusion.betas[:4].tolist(), diffusion.loss_weight[::8].tolist()
samples, times = diffusion.ddim_sample((2, 1, 8, 8), eta=0.0)
sample_stats = [
    samples.mean().item(),
    samples.std().item(),
    samples.min().item(),
    samples.max().item(),
]
stochastic, _ = diffusion.ddim_sample((2, 1, 8, 8), eta=1.0)
stochastic_mean = stochastic.mean().item()
