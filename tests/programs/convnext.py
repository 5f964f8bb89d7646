"""ConvNeXt (Liu et al. 2022) and ConvNeXt V2 (Woo et al. 2023) as facebookresearch's
models/convnext.py writes them, scaled down: a LayerNorm supporting ``channels_first`` (written
out with mean/pow/sqrt) and ``channels_last`` (``F.layer_norm``), blocks of a depthwise 7x7
convolution, a permute to channels-last, LayerNorm, an inverted-bottleneck MLP of nn.Linear with
GELU, layer scale ``gamma`` and stochastic depth (timm's ``drop_path`` with
``x.new_empty(shape).bernoulli_(keep_prob).div_(keep_prob)``) under a linearly increasing
rate; the V2 block's global response normalization (``torch.norm`` over H, W); ``trunc_normal_``
init, a head scaled in place, AdamW with no weight decay on 1-D parameters and a cosine
schedule."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


def drop_path(x, drop_prob=0.0, training=False, scale_by_keep=True):
    if drop_prob == 0.0 or not training:
        return x
    keep_prob = 1 - drop_prob
    shape = (x.shape[0],) + (1,) * (x.ndim - 1)  # one decision per sample
    random_tensor = x.new_empty(shape).bernoulli_(keep_prob)
    if keep_prob > 0.0 and scale_by_keep:
        random_tensor.div_(keep_prob)
    return x * random_tensor


class DropPath(nn.Module):
    def __init__(self, drop_prob=0.0):
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, x):
        return drop_path(x, self.drop_prob, self.training)


class LayerNorm(nn.Module):
    def __init__(self, normalized_shape, eps=1e-6, data_format="channels_last"):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(normalized_shape))
        self.bias = nn.Parameter(torch.zeros(normalized_shape))
        self.eps, self.data_format = eps, data_format
        self.normalized_shape = (normalized_shape,)

    def forward(self, x):
        if self.data_format == "channels_last":
            return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        u = x.mean(1, keepdim=True)
        s = (x - u).pow(2).mean(1, keepdim=True)
        x = (x - u) / torch.sqrt(s + self.eps)
        return self.weight[:, None, None] * x + self.bias[:, None, None]


class GRN(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.gamma = nn.Parameter(torch.zeros(1, 1, 1, dim))
        self.beta = nn.Parameter(torch.zeros(1, 1, 1, dim))

    def forward(self, x):
        gx = torch.norm(x, p=2, dim=(1, 2), keepdim=True)
        nx = gx / (gx.mean(dim=-1, keepdim=True) + 1e-6)
        return self.gamma * (x * nx) + self.beta + x


class Block(nn.Module):
    def __init__(self, dim, drop_path=0.0, layer_scale_init_value=1e-6, v2=False):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim)
        self.norm = LayerNorm(dim, eps=1e-6)
        self.pwconv1, self.act = nn.Linear(dim, 4 * dim), nn.GELU()
        self.grn = GRN(4 * dim) if v2 else nn.Identity()
        self.pwconv2 = nn.Linear(4 * dim, dim)
        self.gamma = None
        if layer_scale_init_value > 0 and not v2:
            self.gamma = nn.Parameter(layer_scale_init_value * torch.ones(dim))
        self.drop_path = DropPath(drop_path) if drop_path > 0.0 else nn.Identity()

    def forward(self, x):
        shortcut = x
        x = self.dwconv(x).permute(0, 2, 3, 1)  # (N, C, H, W) -> (N, H, W, C)
        x = self.pwconv2(self.grn(self.act(self.pwconv1(self.norm(x)))))
        if self.gamma is not None:
            x = self.gamma * x
        return shortcut + self.drop_path(x.permute(0, 3, 1, 2))


class ConvNeXt(nn.Module):
    def __init__(self, num_classes=3, depths=(2, 2), dims=(8, 16), drop_path_rate=0.3, v2=False):
        super().__init__()
        self.downsample_layers = nn.ModuleList()
        stem = nn.Sequential(
            nn.Conv2d(3, dims[0], kernel_size=2, stride=2),
            LayerNorm(dims[0], eps=1e-6, data_format="channels_first"),
        )
        self.downsample_layers.append(stem)
        for i in range(len(dims) - 1):
            self.downsample_layers.append(
                nn.Sequential(
                    LayerNorm(dims[i], eps=1e-6, data_format="channels_first"),
                    nn.Conv2d(dims[i], dims[i + 1], kernel_size=2, stride=2),
                )
            )
        dp_rates = [x.item() for x in torch.linspace(0, drop_path_rate, sum(depths))]
        self.stages, cur = nn.ModuleList(), 0
        for i, depth in enumerate(depths):
            blocks = [Block(dims[i], dp_rates[cur + j], 0.5, v2) for j in range(depth)]
            self.stages.append(nn.Sequential(*blocks))
            cur += depth
        self.norm = nn.LayerNorm(dims[-1], eps=1e-6)
        self.head = nn.Linear(dims[-1], num_classes)
        self.apply(self._init_weights)
        self.head.weight.data.mul_(0.5)
        self.head.bias.data.mul_(0.5)

    def _init_weights(self, m):
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.trunc_normal_(m.weight, std=0.02)
            nn.init.constant_(m.bias, 0)

    def forward(self, x):
        for down, stage in zip(self.downsample_layers, self.stages):
            x = stage(down(x))
        return self.head(self.norm(x.mean([-2, -1])))  # global average pooling, (N, C)


def make_batch(n=8):
    labels = torch.randint(0, 3, (n,))
    images = 0.3 * torch.randn(n, 3, 16, 16)
    for i, c in enumerate(labels.tolist()):
        images[i, c, 4:12, 4:12] += 1.0  # a square in the class's colour
    return images, labels


ln = LayerNorm(8, data_format="channels_first")
probe = torch.randn(2, 8, 5, 5)
layer_norm_gap = (
    (ln(probe) - F.layer_norm(probe.permute(0, 2, 3, 1), (8,), eps=1e-6).permute(0, 3, 1, 2))
    .abs()
    .max()
    .item()
)
results = {}
for v2 in (False, True):
    model = ConvNeXt(v2=v2)
    decay = [p for p in model.parameters() if p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.ndim <= 1]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}],
        lr=4e-3,
    )
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=3)
    losses = []
    for step in range(3):
        images, labels = make_batch()
        loss = F.cross_entropy(model(images), labels, label_smoothing=0.1)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    model.eval()
    images, labels = make_batch(16)
    with torch.no_grad():
        logits = model(images)
    results[v2] = {
        "losses": losses,
        "logits": logits[:2].tolist(),
        "accuracy": (logits.argmax(1) == labels).float().mean().item(),
        "eval_repeat_gap": (model(images) - logits).abs().max().item(),
    }
print({k: (v["losses"][0], v["losses"][-1], v["accuracy"]) for k, v in results.items()})
