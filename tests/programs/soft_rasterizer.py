"""A soft rasterizer of 2-D triangles (Liu et al. 2019, "Soft Rasterizer", in the 2-D form of
the differentiable-vector-graphics tutorials): each pixel's signed distance to a triangle's
edges comes from batched cross products and point-to-segment distances (``clamp`` of the
projection, ``torch.linalg.vector_norm``), inside-ness from the signs, and the coverage is
``sigmoid(sign * d^2 / sigma)``; colours are blended with a softmax over depth ("soft z-buffer"
with a background term, ``logsumexp``-stable) and the silhouette is their probabilistic union
``1 - prod(1 - D)``. The vertices and colours of two triangles are fitted to a target image
with Adam, sharpening ``sigma`` on a schedule; the gradient reaches vertices through pixels
outside the triangles as well, which a hard rasterizer cannot do."""

import torch

torch.manual_seed(0)
H = W = 24
ys, xs = torch.meshgrid(torch.linspace(-1, 1, H), torch.linspace(-1, 1, W), indexing="ij")
pixels = torch.stack([xs, ys], -1).reshape(-1, 2)  # (P, 2)


def edge_distances(tri, p):
    """Squared distance from every pixel to each triangle's boundary and an inside flag.
    tri: (T, 3, 2), p: (P, 2) -> (T, P) and (T, P) bool."""
    a, b = tri, tri.roll(-1, dims=1)  # the edges (v0 v1), (v1 v2), (v2 v0)
    ab = (b - a)[:, None]  # (T, 1, 3, 2)
    ap = p[None, :, None, :] - a[:, None]  # (T, P, 3, 2)
    t = ((ap * ab).sum(-1) / (ab * ab).sum(-1)).clamp(0, 1)
    closest = a[:, None] + t[..., None] * ab
    d2 = torch.linalg.vector_norm(p[None, :, None, :] - closest, dim=-1).pow(2).amin(-1)
    cross = ab[..., 0] * ap[..., 1] - ab[..., 1] * ap[..., 0]  # (T, P, 3)
    inside = (cross > 0).all(-1) | (cross < 0).all(-1)
    return d2, inside


def render(tri, colors, depth, sigma, gamma=0.05):
    d2, inside = edge_distances(tri, pixels)
    sign = torch.where(inside, 1.0, -1.0)
    coverage = torch.sigmoid(sign * d2 / sigma)  # (T, P)
    z = (1.0 - depth)[:, None] / gamma  # nearer triangles (small depth) weigh more
    logits = torch.cat(
        [z + torch.log(coverage + 1e-10), torch.full((1, coverage.shape[1]), -1e-3 / gamma)]
    )
    weights = torch.softmax(logits, dim=0)  # the last row is the background
    background = torch.ones(1, 3)
    image = weights[:-1].T @ colors + weights[-1:].T * background
    silhouette = 1 - torch.prod(1 - coverage, dim=0)
    return image.reshape(H, W, 3), silhouette.reshape(H, W)


target_tri = torch.tensor(
    [[[-0.6, -0.5], [0.5, -0.7], [0.0, 0.6]], [[0.2, 0.1], [0.8, 0.2], [0.5, 0.8]]]
)
target_col = torch.tensor([[0.9, 0.1, 0.1], [0.1, 0.2, 0.9]])
depth = torch.tensor([0.3, 0.6])
with torch.no_grad():
    target, target_sil = render(target_tri, target_col, depth, sigma=1e-4)

tri = (target_tri + 0.25 * torch.randn(2, 3, 2)).requires_grad_()
col_logits = torch.zeros(2, 3, requires_grad=True)
opt = torch.optim.Adam([{"params": [tri], "lr": 0.02}, {"params": [col_logits], "lr": 0.1}])
losses, sigmas = [], []
for step in range(40):
    sigma = 3e-2 * (0.9**step) + 1e-4
    image, sil = render(tri, torch.sigmoid(col_logits), depth, sigma)
    loss = (image - target).pow(2).mean() + 0.5 * (sil - target_sil).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    if step == 0:
        first_vertex_grad = tri.grad[0].tolist()
    opt.step()
    losses.append(loss.item())
    sigmas.append(sigma)

vertex_error = (tri.detach() - target_tri).abs().max().item()
fitted_colors = torch.sigmoid(col_logits).detach().tolist()
with torch.no_grad():
    _, inside = edge_distances(target_tri, pixels)
    inside_count = inside.sum(1).tolist()
# a triangle lying entirely away from the target still gets a gradient through the soft edges
far = torch.tensor([[[0.7, -0.9], [0.9, -0.9], [0.8, -0.7]]], requires_grad=True)
_, far_sil = render(far, torch.ones(1, 3), torch.zeros(1), sigma=1e-2)
(far_sil * target_sil).sum().backward()
far_grad_norm = far.grad.norm().item()
