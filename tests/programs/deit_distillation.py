"""DeiT (Touvron et al. 2021) as facebookresearch/deit's models.py and losses.py write it,
scaled down: a ViT with a class token and a distillation token (``expand`` and ``torch.cat``
before the patches), a position embedding over both tokens and all patches, weights drawn by
``nn.init.trunc_normal_(std=.02)``, stochastic depth (``DropPath`` with ``torch.rand`` on the
batch dimension and ``floor_``) increasing linearly with depth (``torch.linspace``), two heads
whose outputs are averaged at inference; ``DistillationLoss`` in its hard form (cross-entropy
against the teacher's ``argmax``) and its soft form (``F.kl_div`` of temperature-scaled log
softmaxes with ``log_target=True``, ``reduction="sum"`` times T^2 over the count), the base loss
with label smoothing; a small CNN teacher is trained first and frozen (``requires_grad_(False)``,
``eval()``)."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
CLASSES = 4


def drop_path(x, drop_prob=0.0, training=False):
    if drop_prob == 0.0 or not training:
        return x
    keep_prob = 1 - drop_prob
    shape = (x.shape[0],) + (1,) * (x.ndim - 1)
    random_tensor = keep_prob + torch.rand(shape, dtype=x.dtype, device=x.device)
    random_tensor.floor_()
    return x.div(keep_prob) * random_tensor


class DropPath(nn.Module):
    def __init__(self, drop_prob=None):
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, x):
        return drop_path(x, self.drop_prob, self.training)


class Attention(nn.Module):
    def __init__(self, dim, num_heads):
        super().__init__()
        self.num_heads, self.scale = num_heads, (dim // num_heads) ** -0.5
        self.qkv, self.proj = nn.Linear(dim, dim * 3, bias=True), nn.Linear(dim, dim)

    def forward(self, x):
        B, N, C = x.shape
        qkv = (
            self.qkv(x).reshape(B, N, 3, self.num_heads, C // self.num_heads).permute(2, 0, 3, 1, 4)
        )
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = ((q @ k.transpose(-2, -1)) * self.scale).softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(B, N, C))


class Block(nn.Module):
    def __init__(self, dim, num_heads, drop_path_rate):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim, eps=1e-6), nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, num_heads)
        self.drop_path = DropPath(drop_path_rate) if drop_path_rate > 0.0 else nn.Identity()
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, x):
        x = x + self.drop_path(self.attn(self.norm1(x)))
        return x + self.drop_path(self.mlp(self.norm2(x)))


class DistilledVisionTransformer(nn.Module):
    def __init__(self, img_size=12, patch_size=4, embed_dim=32, depth=3, num_heads=4, dpr=0.2):
        super().__init__()
        self.patch_embed = nn.Conv2d(1, embed_dim, kernel_size=patch_size, stride=patch_size)
        num_patches = (img_size // patch_size) ** 2
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.dist_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, num_patches + 2, embed_dim))
        rates = [x.item() for x in torch.linspace(0, dpr, depth)]
        self.blocks = nn.ModuleList(Block(embed_dim, num_heads, rates[i]) for i in range(depth))
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6)
        self.head, self.head_dist = nn.Linear(embed_dim, CLASSES), nn.Linear(embed_dim, CLASSES)
        for p in (self.dist_token, self.pos_embed, self.cls_token):
            nn.init.trunc_normal_(p, std=0.02)
        self.apply(self._init_weights)

    def _init_weights(self, m):
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.constant_(m.bias, 0)
        elif isinstance(m, nn.LayerNorm):
            nn.init.constant_(m.bias, 0)
            nn.init.constant_(m.weight, 1.0)

    def forward_features(self, x):
        B = x.shape[0]
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        cls_tokens = self.cls_token.expand(B, -1, -1)
        dist_token = self.dist_token.expand(B, -1, -1)
        x = torch.cat((cls_tokens, dist_token, x), dim=1) + self.pos_embed
        for blk in self.blocks:
            x = blk(x)
        x = self.norm(x)
        return x[:, 0], x[:, 1]

    def forward(self, x):
        x, x_dist = self.forward_features(x)
        x, x_dist = self.head(x), self.head_dist(x_dist)
        if self.training:
            return x, x_dist
        return (x + x_dist) / 2


class DistillationLoss(nn.Module):
    def __init__(self, base_criterion, teacher_model, distillation_type, alpha, tau):
        super().__init__()
        self.base_criterion, self.teacher_model = base_criterion, teacher_model
        self.distillation_type, self.alpha, self.tau = distillation_type, alpha, tau

    def forward(self, inputs, outputs, labels):
        outputs, outputs_kd = outputs
        base_loss = self.base_criterion(outputs, labels)
        with torch.no_grad():
            teacher_outputs = self.teacher_model(inputs)
        if self.distillation_type == "soft":
            T = self.tau
            distillation_loss = (
                F.kl_div(
                    F.log_softmax(outputs_kd / T, dim=1),
                    F.log_softmax(teacher_outputs / T, dim=1),
                    reduction="sum",
                    log_target=True,
                )
                * (T * T)
                / outputs_kd.numel()
            )
        else:
            distillation_loss = F.cross_entropy(outputs_kd, teacher_outputs.argmax(dim=1))
        return base_loss * (1 - self.alpha) + distillation_loss * self.alpha


def images(n):
    """Bars: class 0 horizontal, 1 vertical, 2 diagonal, 3 anti-diagonal, with noise."""
    labels = torch.randint(0, CLASSES, (n,))
    x = 0.3 * torch.randn(n, 1, 12, 12)
    i = torch.arange(12)
    for k, label in enumerate(labels.tolist()):
        pos = torch.randint(2, 10, (1,)).item()
        if label == 0:
            x[k, 0, pos] += 1.0
        elif label == 1:
            x[k, 0, :, pos] += 1.0
        elif label == 2:
            x[k, 0, i, i] += 1.0
        else:
            x[k, 0, i, 11 - i] += 1.0
    return x, labels


teacher = nn.Sequential(
    nn.Conv2d(1, 8, 3, padding=1),
    nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Conv2d(8, 16, 3, padding=1),
    nn.ReLU(),
    nn.AdaptiveAvgPool2d(1),
    nn.Flatten(),
    nn.Linear(16, CLASSES),
)
t_opt = torch.optim.Adam(teacher.parameters(), lr=1e-2)
for _ in range(25):
    x, y = images(32)
    loss = F.cross_entropy(teacher(x), y)
    t_opt.zero_grad()
    loss.backward()
    t_opt.step()
teacher.requires_grad_(False)
teacher.eval()
x_test, y_test = images(64)
teacher_accuracy = (teacher(x_test).argmax(1) == y_test).float().mean().item()

results = {}
for kind in ("hard", "soft"):
    torch.manual_seed(1)
    model = DistilledVisionTransformer()
    criterion = DistillationLoss(nn.CrossEntropyLoss(label_smoothing=0.1), teacher, kind, 0.5, 3.0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.05)
    losses = []
    model.train()
    for step in range(8):
        x, y = images(16)
        loss = criterion(x, model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    dist_grad = model.dist_token.grad[0, 0, :4].tolist()
    model.eval()
    with torch.no_grad():
        logits = model(x_test)
    results[kind] = {
        "losses": losses,
        "dist_grad": dist_grad,
        "logits": logits[:3].tolist(),
        "accuracy": (logits.argmax(1) == y_test).float().mean().item(),
    }
pos_embed_std = model.pos_embed.std().item()
print(
    f"teacher {teacher_accuracy:.2f}, {[(k, r['losses'][0], r['losses'][-1], r['accuracy']) for k, r in results.items()]}"
)
