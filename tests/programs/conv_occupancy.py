"""Convolutional Occupancy Networks (Peng et al. 2020) as autonomousvision/convolutional_occupancy
_networks writes its volume encoder and decoder, scaled down and without torch_scatter: point
features pooled into a voxel grid by ``scatter_add_`` over flattened cell indices and divided by
the counts (``scatter_mean``), a small 3-D CNN on the grid, and occupancy queries that read the
feature volume with ``F.grid_sample`` on 5-D input (``p.view(B, 1, 1, T, 3)``, trilinear,
``padding_mode="border"``, ``align_corners=True``) before an MLP with residual blocks; trained
with BCE-with-logits on points inside/outside random spheres, in float32 and, for a few steps,
in float64 (``model.double()``); then occupancy IoU."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
RESO, N_PTS, N_QUERY = 6, 64, 96


def make_shapes(n):
    centres = (torch.rand(n, 1, 3) - 0.5) * 0.4
    radii = 0.2 + 0.15 * torch.rand(n, 1, 1)
    surface = torch.randn(n, N_PTS, 3)
    surface = centres + radii * surface / surface.norm(dim=-1, keepdim=True)
    queries = torch.rand(n, N_QUERY, 3) - 0.5
    occupancy = ((queries - centres).norm(dim=-1) < radii[..., 0]).float()
    return surface, queries, occupancy


def coordinate2index(p, reso):
    """Normalised coordinates in (-0.5, 0.5) to flat voxel indices (B, 1, T)."""
    x = ((p + 0.5) * reso).long().clamp(0, reso - 1)
    index = x[..., 0] + reso * (x[..., 1] + reso * x[..., 2])
    return index[:, None, :]


class ResnetBlockFC(nn.Module):
    def __init__(self, size_in, size_out=None):
        super().__init__()
        size_out = size_in if size_out is None else size_out
        self.fc_0, self.fc_1 = nn.Linear(size_in, size_out), nn.Linear(size_out, size_out)
        self.actvn = nn.ReLU()
        self.shortcut = None if size_in == size_out else nn.Linear(size_in, size_out, bias=False)
        nn.init.zeros_(self.fc_1.weight)

    def forward(self, x):
        net = self.fc_0(self.actvn(x))
        dx = self.fc_1(self.actvn(net))
        x_s = self.shortcut(x) if self.shortcut is not None else x
        return x_s + dx


class VolumeEncoder(nn.Module):
    def __init__(self, c_dim=8, hidden=16, reso=RESO):
        super().__init__()
        self.reso = reso
        self.fc_pos = nn.Linear(3, hidden)
        self.block = ResnetBlockFC(hidden, c_dim)
        self.unet3d = nn.Sequential(
            nn.Conv3d(c_dim, c_dim, 3, padding=1), nn.ReLU(), nn.Conv3d(c_dim, c_dim, 3, padding=1)
        )

    def generate_grid_features(self, p, c):
        index = coordinate2index(p, self.reso)  # (B, 1, T)
        b, c_dim = c.shape[0], c.shape[-1]
        fea = c.new_zeros(b, c_dim, self.reso**3)
        fea = fea.scatter_add_(2, index.expand(-1, c_dim, -1), c.permute(0, 2, 1))
        counts = c.new_zeros(b, 1, self.reso**3).scatter_add_(
            2, index, torch.ones_like(index, dtype=c.dtype)
        )
        fea = fea / counts.clamp(min=1)  # scatter_mean
        fea = fea.reshape(b, c_dim, self.reso, self.reso, self.reso)  # (B, C, D, H, W): z, y, x
        return self.unet3d(fea)

    def forward(self, p):
        return self.generate_grid_features(p, self.block(self.fc_pos(p)))


class LocalDecoder(nn.Module):
    def __init__(self, c_dim=8, hidden=16):
        super().__init__()
        self.fc_p = nn.Linear(3, hidden)
        self.fc_c = nn.Linear(c_dim, hidden)
        self.block = ResnetBlockFC(hidden)
        self.fc_out = nn.Linear(hidden, 1)

    def sample_grid_feature(self, p, c):
        vgrid = 2.0 * p  # (-0.5, 0.5) to (-1, 1); grid_sample's x, y, z index W, H, D
        vgrid = (
            vgrid[:, :, None, None].float() if c.dtype == torch.float32 else vgrid[:, :, None, None]
        )
        c = F.grid_sample(c, vgrid, padding_mode="border", align_corners=True, mode="bilinear")
        return c.squeeze(-1).squeeze(-1).transpose(1, 2)  # (B, T, C)

    def forward(self, p, c_plane):
        c = self.sample_grid_feature(p, c_plane)
        net = self.fc_p(p) + self.fc_c(c)
        return self.fc_out(F.relu(self.block(net))).squeeze(-1)


class ConvONet(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder, self.decoder = VolumeEncoder(), LocalDecoder()

    def forward(self, surface, queries):
        return self.decoder(queries, self.encoder(surface))


surface, queries, occupancy = make_shapes(8)
occupied_fraction = occupancy.mean().item()
model = ConvONet()
initial_state = {k: v.clone() for k, v in model.state_dict().items()}
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
pos_weight = torch.tensor((1 - occupied_fraction) / occupied_fraction)  # few points are inside
losses = []
for step in range(30):
    logits = model(surface, queries)
    loss = F.binary_cross_entropy_with_logits(logits, occupancy, pos_weight=pos_weight)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())

with torch.no_grad():
    t_surface, t_queries, t_occupancy = make_shapes(4)
    pred = model(t_surface, t_queries) > 0
    truth = t_occupancy > 0.5
    iou = ((pred & truth).sum() / (pred | truth).sum()).item()

double_model = ConvONet().double()
double_model.load_state_dict(initial_state)
d_opt = torch.optim.SGD(double_model.parameters(), lr=0.5)
double_losses, double_grads = [], []
for step in range(3):
    logits = double_model(surface.double(), queries.double())
    loss = F.binary_cross_entropy_with_logits(logits, occupancy.double())
    d_opt.zero_grad()
    loss.backward()
    double_grads.append(double_model.encoder.unet3d[0].weight.grad.flatten()[:6].tolist())
    d_opt.step()
    double_losses.append(loss.item())
grid_counts = coordinate2index(surface, RESO).flatten().bincount(minlength=RESO**3)[:20].tolist()
