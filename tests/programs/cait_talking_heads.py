"""CaiT ("Going deeper with Image Transformers", Touvron et al. 2021) as lucidrains'
vit-pytorch ``cait.py`` writes it, with the ``einops`` calls written out: ``LayerScale`` whose
initial epsilon depends on the depth (``torch.zeros(1, 1, dim).fill_(init_eps)``), talking-heads
attention mixing heads before and after the softmax with
``einsum('b h i j, h g -> b g i j')``, class-attention layers where the class token attends to
``torch.cat((x, context), dim=1)``, layer dropout (``torch.zeros(n).uniform_(0., 1.) < p``,
``all(to_drop)`` over a bool tensor, ``zip(layers, to_drop)`` with ``if not drop``), a patch
embedding of ``LayerNorm``-``Linear``-``LayerNorm``, ``pos_embedding[:, :n]`` added in place;
trained on tiny synthetic images, evaluated with layer dropout off, its state dict round-tripped
through ``torch.save``/``torch.load`` in a buffer."""

import io
import random

import torch
from torch import einsum, nn


class LayerScale(nn.Module):
    def __init__(self, dim, fn, depth):
        super().__init__()
        if depth <= 18:
            init_eps = 0.1
        elif depth > 18 and depth <= 24:
            init_eps = 1e-5
        else:
            init_eps = 1e-6
        self.scale = nn.Parameter(torch.zeros(1, 1, dim).fill_(init_eps))
        self.fn = fn

    def forward(self, x, **kwargs):
        return self.fn(x, **kwargs) * self.scale


def FeedForward(dim, hidden_dim, dropout=0.0):
    return nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, hidden_dim), nn.GELU(), nn.Dropout(dropout),
                         nn.Linear(hidden_dim, dim), nn.Dropout(dropout))  # fmt: skip


class Attention(nn.Module):
    def __init__(self, dim, heads=4, dim_head=8, dropout=0.0):
        super().__init__()
        inner_dim = dim_head * heads
        self.heads, self.scale = heads, dim_head**-0.5
        self.norm, self.to_q = nn.LayerNorm(dim), nn.Linear(dim, inner_dim, bias=False)
        self.to_kv = nn.Linear(dim, inner_dim * 2, bias=False)
        self.attend, self.dropout = nn.Softmax(dim=-1), nn.Dropout(dropout)
        self.mix_heads_pre_attn = nn.Parameter(torch.randn(heads, heads))
        self.mix_heads_post_attn = nn.Parameter(torch.randn(heads, heads))
        self.to_out = nn.Sequential(nn.Linear(inner_dim, dim), nn.Dropout(dropout))

    def forward(self, x, context=None):
        b, n, _, h = *x.shape, self.heads
        x = self.norm(x)
        context = x if context is None else torch.cat((x, context), dim=1)
        qkv = (self.to_q(x), *self.to_kv(context).chunk(2, dim=-1))
        q, k, v = (t.reshape(b, t.shape[1], h, -1).transpose(1, 2) for t in qkv)
        dots = einsum("b h i d, b h j d -> b h i j", q, k) * self.scale
        dots = einsum(
            "b h i j, h g -> b g i j", dots, self.mix_heads_pre_attn
        )  # talking heads, pre-softmax
        attn = self.dropout(self.attend(dots))
        attn = einsum(
            "b h i j, h g -> b g i j", attn, self.mix_heads_post_attn
        )  # talking heads, post-softmax
        out = einsum("b h i j, b h j d -> b h i d", attn, v)
        return self.to_out(out.transpose(1, 2).reshape(b, n, -1))


def dropout_layers(layers, dropout):
    if dropout == 0:
        return layers
    num_layers = len(layers)
    to_drop = torch.zeros(num_layers).uniform_(0.0, 1.0) < dropout
    if all(to_drop):  # make sure at least one layer makes it
        to_drop[random.randint(0, num_layers - 1)] = False
    return [layer for (layer, drop) in zip(layers, to_drop) if not drop]


class Transformer(nn.Module):
    def __init__(self, dim, depth, mlp_dim, layer_dropout=0.0):
        super().__init__()
        self.layer_dropout = layer_dropout
        self.layers = nn.ModuleList(
            nn.ModuleList(
                [
                    LayerScale(dim, Attention(dim), depth=ind + 1),
                    LayerScale(dim, FeedForward(dim, mlp_dim), depth=ind + 1),
                ]
            )
            for ind in range(depth)
        )

    def forward(self, x, context=None):
        layers = dropout_layers(self.layers, dropout=self.layer_dropout if self.training else 0.0)
        for attn, ff in layers:
            x = attn(x, context=context) + x
            x = ff(x) + x
        return x


class CaiT(nn.Module):
    def __init__(
        self,
        image_size=8,
        patch_size=2,
        num_classes=3,
        dim=16,
        depth=3,
        cls_depth=2,
        layer_dropout=0.25,
    ):
        super().__init__()
        self.patch_size, num_patches, patch_dim = (
            patch_size,
            (image_size // patch_size) ** 2,
            patch_size**2,
        )
        self.to_patch_embedding = nn.Sequential(
            nn.LayerNorm(patch_dim), nn.Linear(patch_dim, dim), nn.LayerNorm(dim)
        )
        self.pos_embedding = nn.Parameter(torch.randn(1, num_patches, dim))
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim))
        self.patch_transformer = Transformer(dim, depth, 2 * dim, layer_dropout)
        self.cls_transformer = Transformer(dim, cls_depth, 2 * dim, layer_dropout)
        self.mlp_head = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, num_classes))

    def forward(self, img):
        b, c, hh, ww = img.shape
        p = self.patch_size  # Rearrange('b c (h p1) (w p2) -> b (h w) (p1 p2 c)')
        patches = (
            img.reshape(b, c, hh // p, p, ww // p, p)
            .permute(0, 2, 4, 3, 5, 1)
            .reshape(b, -1, p * p * c)
        )
        x = self.to_patch_embedding(patches)
        x += self.pos_embedding[:, : x.shape[1]]
        x = self.patch_transformer(x)
        cls_tokens = self.cls_token.expand(b, -1, -1)
        x = self.cls_transformer(cls_tokens, context=x)
        return self.mlp_head(x[:, 0])


random.seed(0)
torch.manual_seed(0)
labels = torch.randint(0, 3, (32,))
images = torch.randn(32, 1, 8, 8) * 0.5
images[labels == 0, :, :4, :] += 1.0
images[labels == 1, :, :, :4] += 1.0
model = CaiT()
scales = [round(m.scale[0, 0, 0].item(), 6) for m in model.modules() if isinstance(m, LayerScale)]
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
losses, kept_layers = [], []
for epoch in range(12):
    model.train()
    kept_layers.append(len(dropout_layers(model.patch_transformer.layers, 0.25)))
    loss = nn.functional.cross_entropy(model(images), labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
    print(f"epoch {epoch}: loss {loss.item():.4f}")
model.eval()
with torch.no_grad():
    logits = model(images)
accuracy = (logits.argmax(-1) == labels).float().mean().item()
buffer = io.BytesIO()
torch.save(model.state_dict(), buffer)
buffer.seek(0)
restored = CaiT()
restored.load_state_dict(torch.load(buffer))
restored.eval()
with torch.no_grad():
    restored_gap = (restored(images) - logits).abs().max().item()
mix_grad_norm = model.cls_transformer.layers[0][0].fn.mix_heads_pre_attn.grad.norm().item()
print(f"accuracy {accuracy:.3f}, kept layers {kept_layers}, scales {scales}")
