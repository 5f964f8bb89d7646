"""CS231n assignment 3's network visualisation notebook, on a small CNN trained here for a few
steps instead of SqueezeNet: ``for param in model.parameters(): param.requires_grad = False``,
saliency maps (``X.requires_grad_()``, ``scores.gather(1, y.view(-1, 1)).squeeze()``,
``backward(torch.ones(...))``, ``X.grad.data.abs().max(dim=1)``), fooling images by
normalised gradient ascent on ``X_fooling.data`` until ``scores.data.max(1)[1][0]`` is the
target, and class visualisation with the notebook's helpers: ``jitter`` by two
``torch.cat``s of slices, ``blur_image`` through NumPy (``scipy.ndimage.gaussian_filter1d``
written out with ``np.pad`` and a kernel, to spare scipy's slow import) copied back with ``X.copy_(torch.Tensor(X_np).type_as(X))``, L2-regularised ascent on
``img.data``, per-channel ``clamp_`` of ``img.data[:, c]``, and ``deprocess`` clamping to
[0, 1]."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
dtype = torch.FloatTensor
SQUEEZENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
SQUEEZENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)

model = nn.Sequential(
    nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
    nn.Linear(16, 4),
)  # fmt: skip
templates = torch.randn(4, 3, 12, 12)
labels = torch.randint(0, 4, (32,))
images = templates[labels] + 0.5 * torch.randn(32, 3, 12, 12)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
train_losses = []
for step in range(12):
    loss = F.cross_entropy(model(images), labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    train_losses.append(loss.item())
optimizer.zero_grad()
model.eval()
for param in model.parameters():
    param.requires_grad = False


def compute_saliency_maps(X, y, model):
    model.eval()
    X.requires_grad_()
    saliency = None
    scores = model(X)
    scores = scores.gather(1, y.view(-1, 1)).squeeze()
    scores.backward(torch.ones(scores.size()))
    saliency = X.grad.data
    saliency = saliency.abs()
    saliency, _ = torch.max(saliency, dim=1)
    return saliency.squeeze()


X, y = images[:5].clone(), labels[:5]
saliency = compute_saliency_maps(X, y, model)
saliency_shape = tuple(saliency.shape)
params_have_no_grad = all(p.grad is None for p in model.parameters())


def make_fooling_image(X, target_y, model):
    X_fooling = X.clone()
    X_fooling = X_fooling.requires_grad_()
    learning_rate = 1
    for i in range(100):
        scores = model(X_fooling)
        _, index = scores.data.max(1)
        if index[0].item() == target_y:
            break
        target_score = scores[0, target_y]
        target_score.backward()
        g = X_fooling.grad.data
        dX = learning_rate * g / g.norm()
        X_fooling.data += dX
        X_fooling.grad.data.zero_()
    return X_fooling, i


X_orig = images[5:6].clone()
target_y = (labels[5].item() + 1) % 4
X_fooling, fooling_steps = make_fooling_image(X_orig, target_y, model)
fooled_prediction = model(X_fooling).argmax(1).item()
fooling_diff = (X_fooling - X_orig).abs().max().item()


def jitter(X, ox, oy):
    if ox != 0:
        left = X[:, :, :, :-ox]
        right = X[:, :, :, -ox:]
        X = torch.cat([right, left], dim=3)
    if oy != 0:
        top = X[:, :, :-oy]
        bottom = X[:, :, -oy:]
        X = torch.cat([bottom, top], dim=2)
    return X


def gaussian_filter1d(x, sigma, axis):
    """scipy.ndimage.gaussian_filter1d (mode 'reflect', truncate 4)."""
    radius = int(4 * sigma + 0.5)
    offsets = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (offsets / sigma) ** 2)
    kernel /= kernel.sum()
    x = np.moveaxis(x, axis, -1)
    pad = [(0, 0)] * (x.ndim - 1) + [(radius, radius)]
    padded = np.pad(x, pad, mode="symmetric")
    out = sum(w * padded[..., i : i + x.shape[-1]] for i, w in enumerate(kernel))
    return np.moveaxis(out.astype(x.dtype), -1, axis)


def blur_image(X, sigma=1):
    X_np = X.cpu().clone().numpy()
    X_np = gaussian_filter1d(X_np, sigma, axis=2)
    X_np = gaussian_filter1d(X_np, sigma, axis=3)
    X.copy_(torch.Tensor(X_np).type_as(X))
    return X


def deprocess(img):
    img = img[0].permute(1, 2, 0) * torch.from_numpy(SQUEEZENET_STD) + torch.from_numpy(
        SQUEEZENET_MEAN
    )
    return img.clamp(0, 1)


jitter_gap = (
    (jitter(X_orig, 2, 3) - torch.roll(X_orig, shifts=(3, 2), dims=(2, 3))).abs().max().item()
)


def create_class_visualization(target_y, model, dtype, **kwargs):
    model.type(dtype)
    l2_reg = kwargs.pop("l2_reg", 1e-3)
    learning_rate = kwargs.pop("learning_rate", 25)
    num_iterations = kwargs.pop("num_iterations", 100)
    blur_every = kwargs.pop("blur_every", 10)
    max_jitter = kwargs.pop("max_jitter", 16)
    img = torch.randn(1, 3, 12, 12).mul_(1.0).type(dtype).requires_grad_()
    scores_seen = []
    for t in range(num_iterations):
        # Randomly jitter the image a bit; this gives slightly nicer results
        ox, oy = (t * 3) % (max_jitter + 1), (t * 5) % (max_jitter + 1)
        img.data.copy_(jitter(img.data, ox, oy))
        scores = model(img)
        target_score = scores[0, target_y] - l2_reg * img.norm() ** 2
        target_score.backward()
        g = img.grad.data
        img.data += learning_rate * g / g.norm()
        img.grad.data.zero_()
        scores_seen.append(scores[0, target_y].item())
        # Undo the random jitter
        img.data.copy_(jitter(img.data, -ox, -oy))
        # As regularizer, clamp and periodically blur the image
        for c in range(3):
            lo = float(-SQUEEZENET_MEAN[c] / SQUEEZENET_STD[c])
            hi = float((1.0 - SQUEEZENET_MEAN[c]) / SQUEEZENET_STD[c])
            img.data[:, c].clamp_(min=lo, max=hi)
        if t % blur_every == 0:
            blur_image(img.data, sigma=0.5)
    return deprocess(img.data.cpu()), scores_seen


visualization, class_scores = create_class_visualization(
    2, model, dtype, num_iterations=12, learning_rate=1.0, max_jitter=2, blur_every=5
)
visualization_range = [visualization.min().item(), visualization.max().item()]
visualization_class = (
    model(
        ((visualization - torch.from_numpy(SQUEEZENET_MEAN)) / torch.from_numpy(SQUEEZENET_STD))
        .permute(2, 0, 1)
        .unsqueeze(0)
    )
    .argmax(1)
    .item()
)
