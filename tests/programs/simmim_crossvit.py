"""Two of lucidrains' vit-pytorch variants, scaled down, with the ``einops`` calls written out:
SimMIM (Xie et al. 2022) pre-training a ViT encoder -- masked patch indices from
``torch.rand(b, n).topk(k=num_masked, dim=-1).indices``, a boolean mask by
``torch.zeros(...).scatter_(-1, idx, 1).bool()``, mask tokens put in with
``torch.where(mask[..., None], mask_tokens, tokens)``, the encoded masked tokens picked by
``encoded[batch_range, masked_indices]`` with ``batch_range = arange(b)[:, None]``, and the L1
loss over masked patches divided by ``num_masked``; then CrossViT (Chen et al. 2021) fine-tuned
on top: two patch sizes, ``ProjectInOut`` wrappers, cross attention where each branch's class
token attends to the other branch's patches with ``kv_include_self``, the two heads' logits
summed."""

import torch
import torch.nn.functional as F
from torch import nn


def patchify(img, p):  # Rearrange('b c (h p1) (w p2) -> b (h w) (p1 p2 c)')
    b, c, h, w = img.shape
    return (
        img.reshape(b, c, h // p, p, w // p, p)
        .permute(0, 2, 4, 3, 5, 1)
        .reshape(b, (h // p) * (w // p), -1)
    )


class Attention(nn.Module):
    def __init__(self, dim, heads=2, dim_head=8):
        super().__init__()
        self.heads, self.scale = heads, dim_head**-0.5
        self.norm = nn.LayerNorm(dim)
        self.to_q, self.to_kv = (
            nn.Linear(dim, heads * dim_head, bias=False),
            nn.Linear(dim, 2 * heads * dim_head, bias=False),
        )
        self.to_out = nn.Linear(heads * dim_head, dim)

    def forward(self, x, context=None, kv_include_self=False):
        b, n, _ = x.shape
        x = self.norm(x)
        context = x if context is None else context
        if kv_include_self:
            context = torch.cat((x, context), dim=1)
        qkv = (self.to_q(x), *self.to_kv(context).chunk(2, dim=-1))
        q, k, v = (t.reshape(b, t.shape[1], self.heads, -1).transpose(1, 2) for t in qkv)
        attn = (torch.matmul(q, k.transpose(-1, -2)) * self.scale).softmax(dim=-1)
        return self.to_out(torch.matmul(attn, v).transpose(1, 2).reshape(b, n, -1))


class Transformer(nn.Module):
    def __init__(self, dim, depth, mlp_dim):
        super().__init__()
        self.layers = nn.ModuleList(
            nn.ModuleList(
                [
                    Attention(dim),
                    nn.Sequential(
                        nn.LayerNorm(dim),
                        nn.Linear(dim, mlp_dim),
                        nn.GELU(),
                        nn.Linear(mlp_dim, dim),
                    ),
                ]
            )
            for _ in range(depth)
        )
        self.norm = nn.LayerNorm(dim)

    def forward(self, x):
        for attn, ff in self.layers:
            x = attn(x) + x
            x = ff(x) + x
        return self.norm(x)


class ImageEmbedder(nn.Module):
    def __init__(self, dim, image_size, patch_size):
        super().__init__()
        self.patch_size, num_patches = patch_size, (image_size // patch_size) ** 2
        self.to_patch_embedding = nn.Linear(patch_size**2, dim)
        self.pos_embedding = nn.Parameter(torch.randn(1, num_patches + 1, dim))
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim))

    def forward(self, img):
        x = self.to_patch_embedding(patchify(img, self.patch_size))
        b, n, _ = x.shape
        x = torch.cat((self.cls_token.repeat(b, 1, 1), x), dim=1)
        return x + self.pos_embedding[:, : (n + 1)]


class SimMIM(nn.Module):
    def __init__(self, embedder, encoder, masking_ratio=0.5):
        super().__init__()
        self.embedder, self.encoder, self.masking_ratio = embedder, encoder, masking_ratio
        dim, pixel_values_per_patch = embedder.pos_embedding.shape[-1], embedder.patch_size**2
        self.mask_token = nn.Parameter(torch.randn(dim))
        self.to_pixels = nn.Linear(dim, pixel_values_per_patch)

    def forward(self, img):
        patches = patchify(img, self.embedder.patch_size)
        batch, num_patches, *_ = patches.shape
        tokens = (
            self.embedder.to_patch_embedding(patches)
            + self.embedder.pos_embedding[:, 1 : (num_patches + 1)]
        )
        num_masked = int(self.masking_ratio * num_patches)
        masked_indices = torch.rand(batch, num_patches).topk(k=num_masked, dim=-1).indices
        masked_bool_mask = torch.zeros((batch, num_patches)).scatter_(-1, masked_indices, 1).bool()
        mask_tokens = self.mask_token[None, None, :].expand(batch, num_patches, -1)
        tokens = torch.where(masked_bool_mask[..., None], mask_tokens, tokens)
        encoded = self.encoder(tokens)
        batch_range = torch.arange(batch)[:, None]
        pred_pixel_values = self.to_pixels(encoded[batch_range, masked_indices])
        masked_patches = patches[batch_range, masked_indices]
        return F.l1_loss(pred_pixel_values, masked_patches) / num_masked, int(
            masked_bool_mask.sum()
        )


class CrossViT(nn.Module):
    def __init__(self, sm_embedder, sm_encoder, num_classes=3, sm_dim=16, lg_dim=24):
        super().__init__()
        self.sm_image_embedder, self.sm_encoder = sm_embedder, sm_encoder
        self.lg_image_embedder, self.lg_encoder = (
            ImageEmbedder(lg_dim, 8, 4),
            Transformer(lg_dim, 1, 2 * lg_dim),
        )
        self.cross_attend = nn.ModuleList(
            [
                ProjectInOut(sm_dim, lg_dim, Attention(lg_dim)),
                ProjectInOut(lg_dim, sm_dim, Attention(sm_dim)),
            ]
        )
        self.sm_mlp_head = nn.Sequential(nn.LayerNorm(sm_dim), nn.Linear(sm_dim, num_classes))
        self.lg_mlp_head = nn.Sequential(nn.LayerNorm(lg_dim), nn.Linear(lg_dim, num_classes))

    def forward(self, img):
        sm_tokens = self.sm_encoder(self.sm_image_embedder(img))
        lg_tokens = self.lg_encoder(self.lg_image_embedder(img))
        (sm_cls, sm_patch_tokens), (lg_cls, lg_patch_tokens) = (
            (t[:, :1], t[:, 1:]) for t in (sm_tokens, lg_tokens)
        )
        sm_attend_lg, lg_attend_sm = self.cross_attend
        sm_cls = sm_attend_lg(sm_cls, context=lg_patch_tokens, kv_include_self=True) + sm_cls
        lg_cls = lg_attend_sm(lg_cls, context=sm_patch_tokens, kv_include_self=True) + lg_cls
        return self.sm_mlp_head(sm_cls[:, 0]) + self.lg_mlp_head(lg_cls[:, 0])


class ProjectInOut(nn.Module):
    def __init__(self, dim_in, dim_out, fn):
        super().__init__()
        self.fn = fn
        need_projection = dim_in != dim_out
        self.project_in = nn.Linear(dim_in, dim_out) if need_projection else nn.Identity()
        self.project_out = nn.Linear(dim_out, dim_in) if need_projection else nn.Identity()

    def forward(self, x, *args, **kwargs):
        return self.project_out(self.fn(self.project_in(x), *args, **kwargs))


torch.manual_seed(0)
labels = torch.randint(0, 3, (32,))
yy, xx = torch.meshgrid(torch.arange(8.0), torch.arange(8.0), indexing="ij")
images = torch.stack([torch.sin(xx * (1 + int(c)) / 2) * torch.cos(yy / 3) for c in labels])[
    :, None
]
images = images + 0.2 * torch.randn_like(images)
embedder, encoder = ImageEmbedder(16, 8, 2), Transformer(16, 2, 32)
mim = SimMIM(embedder, encoder)
optimizer = torch.optim.AdamW(mim.parameters(), lr=3e-3, weight_decay=0.05)
mim_losses = []
for step in range(10):
    loss, num_masked_total = mim(images)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    mim_losses.append(loss.item())
print(f"SimMIM: loss {mim_losses[0]:.4f} -> {mim_losses[-1]:.4f}, masked {num_masked_total}")
model = CrossViT(embedder, encoder)
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
cls_losses = []
for step in range(10):
    loss = F.cross_entropy(model(images), labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    cls_losses.append(loss.item())
with torch.no_grad():
    logits = model(images)
accuracy = (logits.argmax(1) == labels).float().mean().item()
grads_reached = [
    mim.mask_token.grad is not None,
    model.lg_image_embedder.cls_token.grad is not None,
]
print(f"CrossViT: loss {cls_losses[0]:.4f} -> {cls_losses[-1]:.4f}, accuracy {accuracy:.3f}")
