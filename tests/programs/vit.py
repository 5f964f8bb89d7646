"""A small Vision Transformer (Dosovitskiy et al. 2020) as people write it for PyTorch: a Conv2d
patch embedding, a learned class token and positional embedding, a pre-norm
nn.TransformerEncoder, AdamW with decay/no-decay parameter groups, a linear-warmup cosine
schedule through LambdaLR, and label smoothing; on synthetic 16x16 images of four shapes."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.lr_scheduler import LambdaLR
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

img_size, patch_size, in_chans, num_classes = 16, 4, 3, 4
embed_dim, depth, num_heads, mlp_ratio = 32, 2, 4, 2.0
batch_size, epochs = 32, 5
base_lr, weight_decay, warmup_steps = 3e-3, 0.05, 8


def make_data(n):
    """Class 0: horizontal bar, 1: vertical bar, 2: square, 3: diagonal; random colour and place."""
    x = 0.1 * torch.randn(n, in_chans, img_size, img_size)
    y = torch.randint(0, num_classes, (n,))
    for i in range(n):
        colour = torch.rand(in_chans, 1, 1) + 0.5
        r, c = torch.randint(0, img_size - 6, (2,)).tolist()
        if y[i] == 0:
            x[i, :, r + 2 : r + 4, c : c + 6] += colour
        elif y[i] == 1:
            x[i, :, r : r + 6, c + 2 : c + 4] += colour
        elif y[i] == 2:
            x[i, :, r : r + 5, c : c + 5] += colour
        else:
            idx = torch.arange(6)
            x[i, :, r + idx, c + idx] += colour.view(in_chans, 1)
    return x, y


train_loader = DataLoader(TensorDataset(*make_data(384)), batch_size=batch_size, shuffle=True)
val_loader = DataLoader(TensorDataset(*make_data(128)), batch_size=64)


class PatchEmbed(nn.Module):
    """Image to patch embedding: one strided convolution, then flatten the grid to a sequence."""

    def __init__(self, img_size, patch_size, in_chans, embed_dim):
        super().__init__()
        self.num_patches = (img_size // patch_size) ** 2
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x):
        x = self.proj(x)  # B, D, H/p, W/p
        return x.flatten(2).transpose(1, 2)  # B, N, D


class ViT(nn.Module):
    def __init__(self):
        super().__init__()
        self.patch_embed = PatchEmbed(img_size, patch_size, in_chans, embed_dim)
        num_patches = self.patch_embed.num_patches
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, num_patches + 1, embed_dim))
        self.pos_drop = nn.Dropout(p=0.1)
        layer = nn.TransformerEncoderLayer(
            d_model=embed_dim,
            nhead=num_heads,
            dim_feedforward=int(embed_dim * mlp_ratio),
            dropout=0.1,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(layer, num_layers=depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6)
        self.head = nn.Linear(embed_dim, num_classes)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        self.apply(self._init_weights)

    def _init_weights(self, m):
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.patch_embed(x)
        cls_tokens = self.cls_token.expand(x.shape[0], -1, -1)
        x = torch.cat((cls_tokens, x), dim=1)
        x = self.pos_drop(x + self.pos_embed)
        x = self.encoder(x)
        x = self.norm(x)
        return self.head(x[:, 0])


model = ViT().to(device)
print(f"number of parameters: {sum(p.numel() for p in model.parameters() if p.requires_grad)}")

# No weight decay on biases, norms, the class token and the positional embedding
decay, no_decay = [], []
for name, param in model.named_parameters():
    if not param.requires_grad:
        continue
    if param.ndim <= 1 or name.endswith(".bias") or name in ("cls_token", "pos_embed"):
        no_decay.append(param)
    else:
        decay.append(param)
optimizer = torch.optim.AdamW(
    [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ],
    lr=base_lr,
    betas=(0.9, 0.999),
)

total_steps = epochs * len(train_loader)


def lr_lambda(step):
    if step < warmup_steps:
        return float(step + 1) / float(max(1, warmup_steps))
    progress = float(step - warmup_steps) / float(max(1, total_steps - warmup_steps))
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * progress)))


scheduler = LambdaLR(optimizer, lr_lambda)
criterion = nn.CrossEntropyLoss(label_smoothing=0.1)


def evaluate():
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for images, labels in val_loader:
            images, labels = images.to(device), labels.to(device)
            logits = model(images)
            correct += (logits.argmax(dim=-1) == labels).sum().item()
            total += labels.size(0)
    return correct / total


lrs, losses, accuracies = [], [], []
for epoch in range(epochs):
    model.train()
    running = 0.0
    for images, labels in train_loader:
        images, labels = images.to(device), labels.to(device)
        logits = model(images)
        loss = criterion(logits, labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        scheduler.step()
        lrs.append(scheduler.get_last_lr()[0])
        running += loss.item() * images.size(0)
    losses.append(running / len(train_loader.dataset))
    accuracies.append(evaluate())
    print(
        f"epoch {epoch + 1}: train loss {losses[-1]:.4f}  val acc {accuracies[-1]:.3f}"
        f"  lr {optimizer.param_groups[0]['lr']:.2e}"
    )

with torch.no_grad():
    probs = F.softmax(model(val_loader.dataset.tensors[0][:8].to(device)), dim=-1)
