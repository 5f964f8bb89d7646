"""Loading a checkpoint into a model of another shape the way timm's helpers do it:
``resample_abs_pos_embed`` (the class token split off, the grid ``reshape``/``permute``-d and
resized by bicubic ``F.interpolate``, with ``antialias`` when it shrinks), ``adapt_input_conv``
(RGB filters summed to one channel, or repeated and rescaled by ``3 / in_chans``), a
``checkpoint_filter_fn`` that renames and reshapes keys, ``load_state_dict`` with
``strict=False`` and its ``missing_keys``/``unexpected_keys``, ``reset_classifier``,
``forward_features``/``forward_head(pre_logits=True)``, and a short fine-tune of the adapted
model; the checkpoint goes through ``torch.save``/``torch.load`` in a temporary directory."""

import math
import os
import tempfile

import torch
import torch.nn as nn
import torch.nn.functional as F


def resample_abs_pos_embed(
    posemb, new_size, old_size, num_prefix_tokens=1, interpolation="bicubic", antialias=True
):
    if new_size[0] == old_size[0] and new_size[1] == old_size[1]:
        return posemb
    posemb_prefix, posemb = posemb[:, :num_prefix_tokens], posemb[:, num_prefix_tokens:]
    embed_dim, orig_dtype = posemb.shape[-1], posemb.dtype
    posemb = posemb.float().reshape(1, old_size[0], old_size[1], -1).permute(0, 3, 1, 2)
    posemb = F.interpolate(posemb, size=new_size, mode=interpolation, antialias=antialias)
    posemb = posemb.permute(0, 2, 3, 1).reshape(1, -1, embed_dim).to(orig_dtype)
    return torch.cat([posemb_prefix, posemb], dim=1)


def adapt_input_conv(in_chans, conv_weight):
    conv_type = conv_weight.dtype
    conv_weight = conv_weight.float()
    if in_chans == 1:
        conv_weight = conv_weight.sum(dim=1, keepdim=True)
    elif in_chans != 3:
        repeat = int(math.ceil(in_chans / 3))
        conv_weight = conv_weight.repeat(1, repeat, 1, 1)[:, :in_chans, :, :]
        conv_weight *= 3 / float(in_chans)
    return conv_weight.to(conv_type)


class TinyViT(nn.Module):
    def __init__(self, img_size=16, patch_size=4, in_chans=3, num_classes=5, embed_dim=16):
        super().__init__()
        self.grid = (img_size // patch_size, img_size // patch_size)
        self.patch_embed = nn.Conv2d(in_chans, embed_dim, patch_size, stride=patch_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(
            torch.randn(1, 1 + self.grid[0] * self.grid[1], embed_dim) * 0.02
        )
        self.blocks = nn.TransformerEncoderLayer(
            embed_dim, 2, 32, dropout=0.0, batch_first=True, norm_first=True
        )
        self.norm, self.head = nn.LayerNorm(embed_dim), nn.Linear(embed_dim, num_classes)

    def reset_classifier(self, num_classes):
        self.head = (
            nn.Linear(self.head.in_features, num_classes) if num_classes > 0 else nn.Identity()
        )

    def forward_features(self, x):
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        x = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), x), dim=1) + self.pos_embed
        return self.norm(self.blocks(x))

    def forward_head(self, x, pre_logits=False):
        x = x[:, 0]
        return x if pre_logits else self.head(x)

    def forward(self, x):
        return self.forward_head(self.forward_features(x))


def checkpoint_filter_fn(state_dict, model):
    out_dict = {}
    for k, v in state_dict.items():
        k = k.replace("stem.proj", "patch_embed")
        if k == "patch_embed.weight" and v.shape[1] != model.patch_embed.weight.shape[1]:
            v = adapt_input_conv(model.patch_embed.weight.shape[1], v)
        elif k == "pos_embed" and v.shape[1] != model.pos_embed.shape[1]:
            old = int((v.shape[1] - 1) ** 0.5)
            v = resample_abs_pos_embed(v, model.grid, (old, old), antialias=model.grid[0] < old)
        out_dict[k] = v
    return out_dict


torch.manual_seed(0)
pretrained = TinyViT()
with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "pretrained.pth")
    state = {k.replace("patch_embed", "stem.proj"): v for k, v in pretrained.state_dict().items()}
    state["dist_token"] = torch.zeros(1, 1, 16)  # a key the new model does not have
    torch.save({"state_dict": state, "epoch": 7}, path)
    checkpoint = torch.load(path, map_location="cpu")
results = {}
for name, kwargs in (
    ("gray_small", dict(img_size=12, in_chans=1)),
    ("rgbn_large", dict(img_size=24, in_chans=4)),
):
    model = TinyViT(**kwargs)
    filtered = checkpoint_filter_fn(checkpoint["state_dict"], model)
    filtered = {k: v for k, v in filtered.items() if not k.startswith("head.")}
    incompatible = model.load_state_dict(filtered, strict=False)
    model.reset_classifier(3)
    pos = model.pos_embed.detach()
    results[name] = {
        "missing": sorted(incompatible.missing_keys),
        "unexpected": sorted(incompatible.unexpected_keys),
        "pos_shape": list(pos.shape),
        "pos_stats": [pos[0, 1:].mean().item(), pos[0, 1:].std().item(), pos[0, 1, :3].tolist()],
        "conv_sum": model.patch_embed.weight.sum().item(),
    }
    images = torch.randn(12, kwargs["in_chans"], kwargs["img_size"], kwargs["img_size"])
    labels = torch.randint(0, 3, (12,))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for step in range(6):
        loss = F.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    with torch.no_grad():
        results[name]["pre_logits_shape"] = list(
            model.forward_head(model.forward_features(images), pre_logits=True).shape
        )
    results[name]["losses"] = losses
    print(f"{name}: missing {results[name]['missing']}, loss {losses[0]:.4f} -> {losses[-1]:.4f}")
epoch = checkpoint["epoch"]
