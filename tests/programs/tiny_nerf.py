"""A tiny NeRF as nerf-pytorch (run_nerf_helpers.py) writes it, on a synthetic scene rendered
by the same volume renderer: the positional Embedder (sin/cos of 2^k-scaled inputs),
get_rays from a pinhole camera (meshgrid, indexing="xy", camera-to-world rotation by a sum of
broadcast products), stratified sampling along rays (linspace + jitter), raw2outputs (alpha
compositing with an exclusive cumprod built by torch.cat of ones), hierarchical sampling with
sample_pdf (cumsum of weights, torch.searchsorted, gather, detach), and an MLP with a skip
connection trained to reproduce the scene's pixels."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


class Embedder:
    def __init__(self, multires, include_input=True):
        self.embed_fns = []
        if include_input:
            self.embed_fns.append(lambda x: x)
        freq_bands = 2.0 ** torch.linspace(0.0, multires - 1, steps=multires)
        for freq in freq_bands:
            for p_fn in (torch.sin, torch.cos):
                self.embed_fns.append(lambda x, p_fn=p_fn, freq=freq: p_fn(x * freq))
        self.out_dim = 3 * len(self.embed_fns)

    def embed(self, inputs):
        return torch.cat([fn(inputs) for fn in self.embed_fns], -1)


class NeRF(nn.Module):
    def __init__(self, D=4, W=64, input_ch=27, skips=(2,)):
        super().__init__()
        self.skips = skips
        self.pts_linears = nn.ModuleList(
            [nn.Linear(input_ch, W)]
            + [nn.Linear(W + input_ch, W) if i in skips else nn.Linear(W, W) for i in range(1, D)]
        )
        self.output_linear = nn.Linear(W, 4)

    def forward(self, x):
        h = x
        for i, layer in enumerate(self.pts_linears):
            if i in self.skips:
                h = torch.cat([x, h], -1)
            h = F.relu(layer(h))
        return self.output_linear(h)


def get_rays(H, W, focal, c2w):
    i, j = torch.meshgrid(torch.linspace(0, W - 1, W), torch.linspace(0, H - 1, H), indexing="xy")
    dirs = torch.stack([(i - W * 0.5) / focal, -(j - H * 0.5) / focal, -torch.ones_like(i)], -1)
    # Rotate ray directions from camera frame to the world frame
    rays_d = torch.sum(dirs[..., None, :] * c2w[:3, :3], -1)
    # Translate camera frame's origin to the world frame. It is the origin of all rays.
    rays_o = c2w[:3, -1].expand(rays_d.shape)
    return rays_o, rays_d


def raw2outputs(raw, z_vals, rays_d):
    raw2alpha = lambda raw, dists, act_fn=F.relu: 1.0 - torch.exp(-act_fn(raw) * dists)  # noqa: E731
    dists = z_vals[..., 1:] - z_vals[..., :-1]
    dists = torch.cat([dists, torch.Tensor([1e10]).expand(dists[..., :1].shape)], -1)
    dists = dists * torch.norm(rays_d[..., None, :], dim=-1)
    rgb = torch.sigmoid(raw[..., :3])
    alpha = raw2alpha(raw[..., 3], dists)
    weights = (
        alpha
        * torch.cumprod(torch.cat([torch.ones((alpha.shape[0], 1)), 1.0 - alpha + 1e-10], -1), -1)[
            :, :-1
        ]
    )
    rgb_map = torch.sum(weights[..., None] * rgb, -2)
    depth_map = torch.sum(weights * z_vals, -1)
    acc_map = torch.sum(weights, -1)
    return rgb_map, depth_map, acc_map, weights


def sample_pdf(bins, weights, N_samples, det=False):
    weights = weights + 1e-5  # prevent nans
    pdf = weights / torch.sum(weights, -1, keepdim=True)
    cdf = torch.cumsum(pdf, -1)
    cdf = torch.cat([torch.zeros_like(cdf[..., :1]), cdf], -1)  # (batch, len(bins))
    if det:
        u = torch.linspace(0.0, 1.0, steps=N_samples)
        u = u.expand(list(cdf.shape[:-1]) + [N_samples])
    else:
        u = torch.rand(list(cdf.shape[:-1]) + [N_samples])
    u = u.contiguous()
    inds = torch.searchsorted(cdf, u, right=True)
    below = torch.max(torch.zeros_like(inds - 1), inds - 1)
    above = torch.min((cdf.shape[-1] - 1) * torch.ones_like(inds), inds)
    inds_g = torch.stack([below, above], -1)  # (batch, N_samples, 2)
    matched_shape = [inds_g.shape[0], inds_g.shape[1], cdf.shape[-1]]
    cdf_g = torch.gather(cdf.unsqueeze(1).expand(matched_shape), 2, inds_g)
    bins_g = torch.gather(bins.unsqueeze(1).expand(matched_shape), 2, inds_g)
    denom = cdf_g[..., 1] - cdf_g[..., 0]
    denom = torch.where(denom < 1e-5, torch.ones_like(denom), denom)
    t = (u - cdf_g[..., 0]) / denom
    samples = bins_g[..., 0] + t * (bins_g[..., 1] - bins_g[..., 0])
    return samples


def render(
    network_fn,
    embed,
    rays_o,
    rays_d,
    near=2.0,
    far=6.0,
    N_samples=24,
    N_importance=16,
    perturb=True,
):
    t_vals = torch.linspace(0.0, 1.0, steps=N_samples)
    z_vals = near * (1.0 - t_vals) + far * t_vals
    z_vals = z_vals.expand([rays_o.shape[0], N_samples])
    if perturb:
        mids = 0.5 * (z_vals[..., 1:] + z_vals[..., :-1])
        upper = torch.cat([mids, z_vals[..., -1:]], -1)
        lower = torch.cat([z_vals[..., :1], mids], -1)
        z_vals = lower + (upper - lower) * torch.rand(z_vals.shape)
    pts = rays_o[..., None, :] + rays_d[..., None, :] * z_vals[..., :, None]
    raw = network_fn(embed(pts))
    rgb_map, depth_map, acc_map, weights = raw2outputs(raw, z_vals, rays_d)
    z_vals_mid = 0.5 * (z_vals[..., 1:] + z_vals[..., :-1])
    z_samples = sample_pdf(z_vals_mid, weights[..., 1:-1], N_importance, det=not perturb).detach()
    z_vals, _ = torch.sort(torch.cat([z_vals, z_samples], -1), -1)
    pts = rays_o[..., None, :] + rays_d[..., None, :] * z_vals[..., :, None]
    raw = network_fn(embed(pts))
    rgb_fine, depth_fine, _, _ = raw2outputs(raw, z_vals, rays_d)
    return rgb_map, rgb_fine, depth_fine, z_samples


def scene(pts):
    """The ground truth field: a red sphere of radius 1 at the origin in a faint blue fog."""
    inside = (pts.norm(dim=-1) < 1.0).float()
    rgb_logit = torch.stack([4 * inside - 2, -2 + 0 * inside, -1 - inside], -1)
    sigma = 20.0 * inside + 0.01
    return torch.cat([rgb_logit, sigma.unsqueeze(-1)], -1)


H = W = 12
focal = 14.0
c2w = torch.tensor([[1.0, 0, 0, 0], [0, 1.0, 0, 0], [0, 0, 1.0, 4.0]])
rays_o, rays_d = get_rays(H, W, focal, c2w)
rays_o, rays_d = rays_o.reshape(-1, 3), rays_d.reshape(-1, 3)
with torch.no_grad():
    target, _, target_depth, _ = render(scene, lambda p: p, rays_o, rays_d, perturb=False)

embedder = Embedder(multires=4)
model = NeRF(input_ch=embedder.out_dim)
optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
losses = []
for step in range(50):
    idx = torch.randperm(H * W)[:64]
    rgb_coarse, rgb_fine, _, _ = render(model, embedder.embed, rays_o[idx], rays_d[idx])
    loss = F.mse_loss(rgb_coarse, target[idx]) + F.mse_loss(rgb_fine, target[idx])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
    if step % 20 == 0:
        psnr = -10.0 * math.log10(max(loss.item() / 2, 1e-10))
        print(f"step {step}: loss {loss.item():.4f}, PSNR {psnr:.2f}")

with torch.no_grad():
    _, rgb, depth, z_samples = render(model, embedder.embed, rays_o, rays_d, perturb=False)
final_mse = F.mse_loss(rgb, target).item()
baseline_mse = F.mse_loss(target.mean(0).expand_as(target), target).item()
samples_in_range = bool(((z_samples >= 2.0) & (z_samples <= 6.0)).all())
print(f"render MSE {final_mse:.4f} (mean-color baseline {baseline_mse:.4f})")
