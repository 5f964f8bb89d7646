"""RAFT's optical-flow machinery (Teed & Deng 2020) as its reference code writes it: a
feature encoder, the all-pairs correlation volume by one ``torch.matmul`` of the two feature
maps divided by sqrt(dim), a correlation pyramid by ``F.avg_pool2d``, the lookup of a
(2r+1)^2 window around the current coordinates with ``bilinear_sampler`` (``grid_sample``
with ``align_corners=True`` after normalizing the pixel coordinates to [-1, 1]),
``coords_grid`` from ``torch.meshgrid``, a ConvGRU update operator iterated several times with
``coords1 = coords1.detach()``, flow upsampled by ``F.interpolate(..., mode="bilinear",
align_corners=True)`` times 2, the sequence loss with exponentially growing weights, gradient
clipping and OneCycleLR; on 16x16 random textures shifted by a constant flow (``torch.roll``).
A few steps only (RAFT needs thousands to learn): the values must agree with PyTorch's."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


def coords_grid(batch, ht, wd):
    coords = torch.meshgrid(torch.arange(ht), torch.arange(wd), indexing="ij")
    coords = torch.stack(coords[::-1], dim=0).float()
    return coords[None].repeat(batch, 1, 1, 1)


def bilinear_sampler(img, coords):
    H, W = img.shape[-2:]
    xgrid, ygrid = coords.split([1, 1], dim=-1)
    xgrid = 2 * xgrid / (W - 1) - 1
    ygrid = 2 * ygrid / (H - 1) - 1
    grid = torch.cat([xgrid, ygrid], dim=-1)
    return F.grid_sample(img, grid, align_corners=True)


class CorrBlock:
    def __init__(self, fmap1, fmap2, num_levels=2, radius=2):
        self.num_levels, self.radius = num_levels, radius
        batch, dim, ht, wd = fmap1.shape
        corr = torch.matmul(
            fmap1.view(batch, dim, ht * wd).transpose(1, 2), fmap2.view(batch, dim, ht * wd)
        )
        corr = (corr / torch.sqrt(torch.tensor(dim).float())).reshape(batch * ht * wd, 1, ht, wd)
        self.corr_pyramid = [corr]
        for i in range(self.num_levels - 1):
            corr = F.avg_pool2d(corr, 2, stride=2)
            self.corr_pyramid.append(corr)

    def __call__(self, coords):
        r = self.radius
        coords = coords.permute(0, 2, 3, 1)
        batch, h1, w1, _ = coords.shape
        out_pyramid = []
        for i in range(self.num_levels):
            corr = self.corr_pyramid[i]
            dx = torch.linspace(-r, r, 2 * r + 1, device=coords.device)
            dy = torch.linspace(-r, r, 2 * r + 1, device=coords.device)
            delta = torch.stack(torch.meshgrid(dy, dx, indexing="ij"), axis=-1)
            centroid_lvl = coords.reshape(batch * h1 * w1, 1, 1, 2) / 2**i
            coords_lvl = centroid_lvl + delta.view(1, 2 * r + 1, 2 * r + 1, 2)
            corr = bilinear_sampler(corr, coords_lvl)
            out_pyramid.append(corr.view(batch, h1, w1, -1))
        return torch.cat(out_pyramid, dim=-1).permute(0, 3, 1, 2).contiguous().float()


class ConvGRU(nn.Module):
    def __init__(self, hidden_dim, input_dim):
        super().__init__()
        self.convz = nn.Conv2d(hidden_dim + input_dim, hidden_dim, 3, padding=1)
        self.convr = nn.Conv2d(hidden_dim + input_dim, hidden_dim, 3, padding=1)
        self.convq = nn.Conv2d(hidden_dim + input_dim, hidden_dim, 3, padding=1)

    def forward(self, h, x):
        hx = torch.cat([h, x], dim=1)
        z, r = torch.sigmoid(self.convz(hx)), torch.sigmoid(self.convr(hx))
        q = torch.tanh(self.convq(torch.cat([r * h, x], dim=1)))
        return (1 - z) * h + z * q


class SmallRAFT(nn.Module):
    def __init__(self, fdim=16, hdim=8):
        super().__init__()
        self.fnet = nn.Sequential(
            nn.Conv2d(1, fdim, 3, 2, 1), nn.ReLU(), nn.Conv2d(fdim, fdim, 3, 1, 1)
        )
        self.cnet = nn.Sequential(
            nn.Conv2d(1, hdim * 2, 3, 2, 1), nn.ReLU(), nn.Conv2d(hdim * 2, hdim * 2, 3, 1, 1)
        )
        cor_planes = 2 * 25
        self.motion = nn.Sequential(nn.Conv2d(cor_planes + 2, 32, 3, padding=1), nn.ReLU())
        self.gru = ConvGRU(hdim, 32 + hdim)
        self.flow_head = nn.Sequential(
            nn.Conv2d(hdim, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 2, 3, padding=1)
        )
        self.hdim = hdim

    def forward(self, image1, image2, iters=3):
        fmap1, fmap2 = self.fnet(image1), self.fnet(image2)
        corr_fn = CorrBlock(fmap1, fmap2)
        net, inp = torch.split(self.cnet(image1), [self.hdim, self.hdim], dim=1)
        net, inp = torch.tanh(net), torch.relu(inp)
        N, _, H, W = fmap1.shape
        coords0, coords1 = coords_grid(N, H, W), coords_grid(N, H, W)
        flow_predictions = []
        for itr in range(iters):
            coords1 = coords1.detach()
            corr = corr_fn(coords1)
            flow = coords1 - coords0
            motion = self.motion(torch.cat([corr, flow], dim=1))
            net = self.gru(net, torch.cat([inp, motion], dim=1))
            coords1 = coords1 + self.flow_head(net)
            up = 2 * F.interpolate(
                coords1 - coords0, scale_factor=2, mode="bilinear", align_corners=True
            )
            flow_predictions.append(up)
        return flow_predictions


def sequence_loss(flow_preds, flow_gt, gamma=0.8):
    n_predictions = len(flow_preds)
    flow_loss = 0.0
    for i in range(n_predictions):
        i_weight = gamma ** (n_predictions - i - 1)
        flow_loss += i_weight * (flow_preds[i] - flow_gt).abs().mean()
    epe = torch.sum((flow_preds[-1] - flow_gt) ** 2, dim=1).sqrt()
    return flow_loss, epe.mean().item()


def make_pairs(n):
    texture = F.avg_pool2d(torch.randn(n, 1, 20, 20), 3, stride=1, padding=1)[..., 2:18, 2:18]
    shifts = torch.randint(-1, 2, (n, 2)) * 2  # whole pixels of the 8x8 feature maps
    second = torch.stack(
        [
            torch.roll(t, shifts=(-int(s[1]), -int(s[0])), dims=(-2, -1))
            for t, s in zip(texture, shifts)
        ]
    )
    flow = (
        shifts.float().view(n, 2, 1, 1).expand(n, 2, 16, 16)
    )  # (dx, dy): frame2(x + flow) = frame1(x)
    return texture, second, flow


model = SmallRAFT()
optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-5)
scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, 2e-3, total_steps=11, pct_start=0.1,
                                                cycle_momentum=False, anneal_strategy="linear")  # fmt: skip
losses, epes, grad_norms, lrs = [], [], [], []
for step in range(10):
    image1, image2, flow = make_pairs(4)
    loss, epe = sequence_loss(model(image1, image2), flow)
    optimizer.zero_grad()
    loss.backward()
    grad_norms.append(torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0).item())
    optimizer.step()
    scheduler.step()
    lrs.append(scheduler.get_last_lr()[0])
    losses.append(loss.item())
    epes.append(epe)

with torch.no_grad():
    f1 = torch.randn(1, 4, 4, 4)
    block = CorrBlock(f1, f1, num_levels=1, radius=1)
    volume = block(coords_grid(1, 4, 4))
    self_match = (volume[:, 4] >= volume.max(dim=1).values - 1e-6).float().mean().item()
    direct = (f1 * f1).sum(1) / 2.0  # <f(x), f(x)> / sqrt(dim): the window's centre
    centre_gap = (volume[:, 4] - direct).abs().max().item()
    half = block(coords_grid(1, 4, 4) + 0.5)[0, 4, 1, 1].item()  # bilinear between 4 pixels
    half_direct = (f1[0, :, 1, 1, None, None] * f1[0, :, 1:3, 1:3]).sum(0).mean().item() / 2.0
    image1, image2, flow = make_pairs(4)
    test_epe = sequence_loss(model(image1, image2, iters=4), flow)[1]
    zero_epe = flow.norm(dim=1).mean().item()
volume_shape = tuple(volume.shape)
