"""A Vision Transformer written the way timm writes one, scaled down: timm's own
``trunc_normal_`` (``uniform_`` of the CDF bounds, ``erfinv_``, ``mul_``/``add_``/``clamp_``
in place), ``DropPath`` by ``x.new_empty(shape).bernoulli_(keep_prob).div_(keep_prob)`` with
stochastic-depth rates from ``torch.linspace(...)`` ``.item()``, ``LayerScale`` (``gamma``,
in-place ``mul_``), ``Attention`` with ``qkv.reshape(B, N, 3, H, D).permute(2, 0, 3, 1, 4)``
``.unbind(0)`` and ``F.scaled_dot_product_attention`` next to the explicit softmax path,
``named_apply`` of ``init_weights_vit_timm``, ``no_weight_decay()`` and
``param_groups_layer_decay`` building AdamW groups (``lr_scale`` per block), a cosine schedule
with warm-up read from ``lr_scale``, ``LabelSmoothingCrossEntropy`` checked against
``F.cross_entropy(label_smoothing=)``, and ``resample_abs_pos_embed`` (bicubic ``interpolate``
with ``antialias``) loading the trained weights into a model for larger images."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0):
    def norm_cdf(x):
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    with torch.no_grad():
        l, u = norm_cdf((a - mean) / std), norm_cdf((b - mean) / std)  # noqa: E741
        tensor.uniform_(2 * l - 1, 2 * u - 1)
        tensor.erfinv_()
        tensor.mul_(std * math.sqrt(2.0))
        tensor.add_(mean)
        tensor.clamp_(min=a, max=b)
        return tensor


def drop_path(x, drop_prob: float = 0.0, training: bool = False, scale_by_keep: bool = True):
    if drop_prob == 0.0 or not training:
        return x
    keep_prob = 1 - drop_prob
    shape = (x.shape[0],) + (1,) * (x.ndim - 1)
    random_tensor = x.new_empty(shape).bernoulli_(keep_prob)
    if keep_prob > 0.0 and scale_by_keep:
        random_tensor.div_(keep_prob)
    return x * random_tensor


class DropPath(nn.Module):
    def __init__(self, drop_prob=0.0, scale_by_keep=True):
        super().__init__()
        self.drop_prob, self.scale_by_keep = drop_prob, scale_by_keep

    def forward(self, x):
        return drop_path(x, self.drop_prob, self.training, self.scale_by_keep)

    def extra_repr(self):
        return f"drop_prob={round(self.drop_prob, 3):0.3f}"


class LayerScale(nn.Module):
    def __init__(self, dim, init_values=1e-5, inplace=False):
        super().__init__()
        self.inplace = inplace
        self.gamma = nn.Parameter(init_values * torch.ones(dim))

    def forward(self, x):
        return x.mul_(self.gamma) if self.inplace else x * self.gamma


class Attention(nn.Module):
    fused_attn = True

    def __init__(self, dim, num_heads=2, qkv_bias=True):
        super().__init__()
        self.num_heads, self.head_dim = num_heads, dim // num_heads
        self.scale = self.head_dim**-0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        if self.fused_attn:
            x = F.scaled_dot_product_attention(q, k, v)
        else:
            q = q * self.scale
            attn = (q @ k.transpose(-2, -1)).softmax(dim=-1)
            x = attn @ v
        return self.proj(x.transpose(1, 2).reshape(B, N, C))


class Block(nn.Module):
    def __init__(self, dim, num_heads, init_values=None, drop_path=0.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, num_heads)
        self.ls1 = LayerScale(dim, init_values) if init_values else nn.Identity()
        self.drop_path1 = DropPath(drop_path) if drop_path > 0.0 else nn.Identity()
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))
        self.ls2 = LayerScale(dim, init_values) if init_values else nn.Identity()
        self.drop_path2 = DropPath(drop_path) if drop_path > 0.0 else nn.Identity()

    def forward(self, x):
        x = x + self.drop_path1(self.ls1(self.attn(self.norm1(x))))
        return x + self.drop_path2(self.ls2(self.mlp(self.norm2(x))))


def init_weights_vit_timm(module, name=""):
    if isinstance(module, nn.Linear):
        trunc_normal_(module.weight, std=0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)


def named_apply(fn, module, name="", depth_first=True, include_root=False):
    if not depth_first and include_root:
        fn(module=module, name=name)
    for child_name, child_module in module.named_children():
        child_name = ".".join((name, child_name)) if name else child_name
        named_apply(fn, child_module, child_name, depth_first, include_root=True)
    if depth_first and include_root:
        fn(module=module, name=name)
    return module


class VisionTransformer(nn.Module):
    def __init__(self, img_size=8, patch=2, dim=16, depth=3, heads=2, classes=4, dpr=0.2):
        super().__init__()
        self.grid = img_size // patch
        self.patch_embed = nn.Conv2d(3, dim, patch, patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.randn(1, self.grid**2 + 1, dim) * 0.02)
        rates = [x.item() for x in torch.linspace(0, dpr, depth)]
        self.blocks = nn.Sequential(*[Block(dim, heads, 1e-1, rates[i]) for i in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, classes)
        trunc_normal_(self.pos_embed, std=0.02)
        nn.init.normal_(self.cls_token, std=1e-6)
        named_apply(init_weights_vit_timm, self)

    @torch.jit.ignore
    def no_weight_decay(self):
        return {"pos_embed", "cls_token"}

    def forward(self, x):
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        x = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), x), dim=1) + self.pos_embed
        x = self.norm(self.blocks(x))
        return self.head(x[:, 0])


def param_groups_layer_decay(model, weight_decay=0.05, no_weight_decay_list=(), decay=0.75):
    num_layers = len(model.blocks) + 1
    layer_scales = [decay ** (num_layers - i) for i in range(num_layers + 1)]
    groups = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        if param.ndim == 1 or name in no_weight_decay_list:
            g_decay, this_decay = "no_decay", 0.0
        else:
            g_decay, this_decay = "decay", weight_decay
        if name.startswith(("cls_token", "pos_embed", "patch_embed")):
            layer_id = 0
        elif name.startswith("blocks"):
            layer_id = int(name.split(".")[1]) + 1
        else:
            layer_id = num_layers
        group_name = "layer_%d_%s" % (layer_id, g_decay)
        if group_name not in groups:
            groups[group_name] = {
                "lr_scale": layer_scales[layer_id],
                "weight_decay": this_decay,
                "params": [],
            }
        groups[group_name]["params"].append(param)
    return list(groups.values())


class LabelSmoothingCrossEntropy(nn.Module):
    def __init__(self, smoothing=0.1):
        super().__init__()
        self.smoothing, self.confidence = smoothing, 1.0 - smoothing

    def forward(self, x, target):
        logprobs = F.log_softmax(x, dim=-1)
        nll_loss = -logprobs.gather(dim=-1, index=target.unsqueeze(1)).squeeze(1)
        smooth_loss = -logprobs.mean(dim=-1)
        return (self.confidence * nll_loss + self.smoothing * smooth_loss).mean()


def resample_abs_pos_embed(posemb, new_size, num_prefix_tokens=1, antialias=True):
    num_new_tokens = new_size[0] * new_size[1] + num_prefix_tokens
    if num_new_tokens == posemb.shape[1]:
        return posemb
    prefix, posemb = posemb[:, :num_prefix_tokens], posemb[:, num_prefix_tokens:]
    embed_dim, old = posemb.shape[-1], int(math.sqrt(posemb.shape[1]))
    posemb = posemb.reshape(1, old, old, -1).permute(0, 3, 1, 2)
    posemb = F.interpolate(posemb, size=new_size, mode="bicubic", antialias=antialias)
    posemb = posemb.permute(0, 2, 3, 1).reshape(1, -1, embed_dim)
    return torch.cat([prefix, posemb], dim=1)


w = torch.empty(2000)
trunc_normal_(w, std=0.02)
trunc_stats = [w.mean().item(), w.std().item(), w.abs().max().item()]
images = torch.randn(32, 3, 8, 8) * 0.3
labels = torch.arange(32) % 4
images[labels == 1, 0] += 1.0
images[labels == 2, :, :4] += 1.0
images[labels == 3, :, :, :4] -= 1.0
model = VisionTransformer()
dp_repr = repr(model.blocks[2].drop_path1)
groups = param_groups_layer_decay(model, no_weight_decay_list=model.no_weight_decay())
group_summary = [(g["lr_scale"], g["weight_decay"], len(g["params"])) for g in groups]
optimizer = torch.optim.AdamW(groups, lr=3e-3)
criterion = LabelSmoothingCrossEntropy(0.1)
losses, lrs, steps, warmup = [], [], 24, 4
for step in range(steps):
    if step < warmup:
        lr = 3e-3 * (step + 1) / warmup
    else:
        lr = 1e-5 + 0.5 * (3e-3 - 1e-5) * (
            1 + math.cos(math.pi * (step - warmup) / (steps - warmup))
        )
    for group in optimizer.param_groups:
        group["lr"] = lr * group["lr_scale"]
    lrs.append(optimizer.param_groups[0]["lr"])
    batch = slice((step % 2) * 16, (step % 2) * 16 + 16)
    out = model(images[batch])
    loss = criterion(out, labels[batch])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
smoothing_gap = (loss - F.cross_entropy(out, labels[batch], label_smoothing=0.1)).abs().item()
model.eval()
with torch.no_grad():
    fused_logits = model(images)
    Attention.fused_attn = False
    explicit_gap = (model(images) - fused_logits).abs().max().item()
    Attention.fused_attn = True
accuracy = (fused_logits.argmax(1) == labels).float().mean().item()
gammas = [model.blocks[i].ls1.gamma.abs().mean().item() for i in range(3)]

big = VisionTransformer(img_size=12)
state = model.state_dict()
state["pos_embed"] = resample_abs_pos_embed(state["pos_embed"], (6, 6))
big.load_state_dict(state)
big.eval()
with torch.no_grad():
    big_out = big(F.interpolate(images[:4], size=(12, 12), mode="bilinear")).tolist()
small_pos = resample_abs_pos_embed(model.pos_embed.detach(), (3, 3))
resampled = [big.pos_embed.shape[1], small_pos[0, 1:, :2].flatten().tolist()]
