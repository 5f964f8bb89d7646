"""Instant-NGP's multiresolution hash encoding (Muller et al. 2022) as the pure-PyTorch ports
(yashbhalgat/HashNeRF-pytorch's ``hash_encoding.py``) write it, fitting a 2-D image as the
gigapixel demo does: per level a resolution growing geometrically (torch-ngp's
``per_level_scale``), corner indices by ``torch.floor(...).int()`` plus a BOX_OFFSETS tensor,
the spatial hash ``xor`` of coordinates times large primes in int64 (wrapping on overflow) and
``&`` with ``2**T - 1``, one ``nn.Embedding`` table per level initialised ``uniform_(-1e-4,
1e-4)``, bilinear interpolation of the corner features, and a tiny MLP; Adam with
``betas=(0.9, 0.99), eps=1e-15`` as the paper, PSNR recorded while fitting."""

import math

import torch
import torch.nn as nn

torch.manual_seed(0)
H = W = 24
BOX_OFFSETS = torch.tensor([[i, j] for i in [0, 1] for j in [0, 1]])


def hash(coords, log2_hashmap_size):
    """coords: (..., 2) integer vertex indices; XOR of coordinate times prime, masked."""
    primes = [1, 2654435761]
    xor_result = torch.zeros_like(coords)[..., 0]
    for i in range(coords.shape[-1]):
        xor_result ^= coords[..., i] * primes[i]
    return torch.tensor((1 << log2_hashmap_size) - 1).to(xor_result.device) & xor_result


def get_voxel_vertices(xy, box_min, box_max, resolution, log2_hashmap_size):
    grid_size = (box_max - box_min) / resolution
    bottom_left_idx = torch.floor((xy - box_min) / grid_size).int()
    voxel_min_vertex = bottom_left_idx * grid_size + box_min
    voxel_max_vertex = voxel_min_vertex + torch.tensor([1.0, 1.0]) * grid_size
    voxel_indices = bottom_left_idx.unsqueeze(1) + BOX_OFFSETS
    hashed_voxel_indices = hash(voxel_indices, log2_hashmap_size)
    return voxel_min_vertex, voxel_max_vertex, hashed_voxel_indices


class HashEmbedder(nn.Module):
    def __init__(self, n_levels=4, n_features_per_level=2, log2_hashmap_size=7, base=4, finest=24):
        super().__init__()
        self.box_min, self.box_max = torch.tensor([0.0, 0.0]), torch.tensor([1.0, 1.0])
        self.n_levels, self.n_features_per_level = n_levels, n_features_per_level
        self.log2_hashmap_size = log2_hashmap_size
        self.base_resolution, self.finest_resolution = base, finest
        self.out_dim = n_levels * n_features_per_level
        # torch-ngp's per_level_scale, in Python floats (float32 tensors would put the finest
        # level one ulp either side of an integer, and torch.floor then decides its size)
        self.b = 2 ** (math.log2(finest / base) / (n_levels - 1))
        self.embeddings = nn.ModuleList(
            [nn.Embedding(2**log2_hashmap_size, n_features_per_level) for _ in range(n_levels)]
        )
        for i in range(n_levels):
            nn.init.uniform_(self.embeddings[i].weight, a=-0.0001, b=0.0001)

    def bilinear_interp(self, x, voxel_min_vertex, voxel_max_vertex, voxel_embedds):
        weights = (x - voxel_min_vertex) / (voxel_max_vertex - voxel_min_vertex)  # (B, 2)
        c0 = (
            voxel_embedds[:, 0] * (1 - weights[:, 1][:, None])
            + voxel_embedds[:, 1] * weights[:, 1][:, None]
        )
        c1 = (
            voxel_embedds[:, 2] * (1 - weights[:, 1][:, None])
            + voxel_embedds[:, 3] * weights[:, 1][:, None]
        )
        return c0 * (1 - weights[:, 0][:, None]) + c1 * weights[:, 0][:, None]

    def forward(self, x):
        x_embedded_all = []
        for i in range(self.n_levels):
            resolution = math.floor(self.base_resolution * self.b**i)
            voxel_min_vertex, voxel_max_vertex, hashed_voxel_indices = get_voxel_vertices(
                x, self.box_min, self.box_max, resolution, self.log2_hashmap_size
            )
            voxel_embedds = self.embeddings[i](hashed_voxel_indices)
            x_embedded = self.bilinear_interp(x, voxel_min_vertex, voxel_max_vertex, voxel_embedds)
            x_embedded_all.append(x_embedded)
        return torch.cat(x_embedded_all, dim=-1)


class NGPImage(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = HashEmbedder()
        self.mlp = nn.Sequential(
            nn.Linear(self.encoder.out_dim, 32), nn.ReLU(), nn.Linear(32, 3), nn.Sigmoid()
        )

    def forward(self, x):
        return self.mlp(self.encoder(x))


ys, xs = torch.meshgrid(torch.linspace(0, 1, H), torch.linspace(0, 1, W), indexing="ij")
image = torch.stack(
    [
        0.5 + 0.5 * torch.sin(10 * xs) * torch.cos(7 * ys),
        ((xs - 0.5) ** 2 + (ys - 0.4) ** 2 < 0.08).float(),
        (xs + ys) / 2,
    ],
    dim=-1,
)
coords = torch.stack([xs, ys], dim=-1).reshape(-1, 2) * 0.999  # stay inside the last cell
target = image.reshape(-1, 3)

model = NGPImage()
resolutions = [
    math.floor(model.encoder.base_resolution * model.encoder.b**i)
    for i in range(model.encoder.n_levels)
]
_, _, level3_hashes = get_voxel_vertices(coords, 0.0, 1.0, resolutions[-1], 7)
hash_dtype = str(level3_hashes.dtype)
distinct_vertices = (resolutions[-1] + 1) ** 2
used_slots = level3_hashes.unique().numel()  # fewer than the vertices: the table collides
hash_sample = level3_hashes[::97].flatten().tolist()
big = torch.tensor([[3_000_000_000_000, 4000]]) * 2654435761  # int64 arithmetic wraps, as C's
wrapped = big.tolist()

optimizer = torch.optim.Adam(
    [
        {"params": model.encoder.parameters(), "lr": 0.05},
        {"params": model.mlp.parameters(), "weight_decay": 1e-6},
    ],
    lr=0.01,
    betas=(0.9, 0.99),
    eps=1e-15,
)
psnrs = []
for step in range(60):
    batch = torch.randint(0, H * W, (256,))
    loss = ((model(coords[batch]) - target[batch]) ** 2).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 6 == 0:
        psnrs.append(-10 * math.log10(loss.item()))
with torch.no_grad():
    final_psnr = -10 * torch.log10(((model(coords) - target) ** 2).mean()).item()
table_grad_rows = int((model.encoder.embeddings[0].weight.grad.abs().sum(1) > 0).sum())
