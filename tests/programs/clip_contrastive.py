"""CLIP-style contrastive image-text pretraining as open_clip / the CLIP paper's pseudocode
write it: an image encoder (small CNN) and a text encoder (token embeddings + a
TransformerEncoder, the end-of-text token's feature taken by argmax over token ids), linear
projections, F.normalize, a learnable logit_scale initialised to log(1/0.07) and clamped at
100, the symmetric cross-entropy over the similarity matrix, then zero-shot classification by
ensembled text prompts ("a photo of a big {class}", ...)."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)

classes = ["circle", "square", "cross", "stripes"]
vocab = ["<pad>", "<sot>", "<eot>", "a", "photo", "of", "small", "big", "bright", "dark"] + classes
stoi = {w: i for i, w in enumerate(vocab)}
context_length = 8


def tokenize(texts):
    result = torch.zeros(len(texts), context_length, dtype=torch.long)
    for i, text in enumerate(texts):
        tokens = [stoi["<sot>"]] + [stoi[w] for w in text.split()] + [stoi["<eot>"]]
        result[i, : len(tokens)] = torch.tensor(tokens)
    return result


def draw(kind, big, bright):
    g = torch.arange(12.0)
    yy, xx = torch.meshgrid(g, g, indexing="ij")
    r = 4.5 if big else 2.5
    masks = {
        "circle": ((yy - 5.5) ** 2 + (xx - 5.5) ** 2) < r**2,
        "square": ((yy - 5.5).abs() < r) & ((xx - 5.5).abs() < r),
        "cross": ((yy - 5.5).abs() < 1) | ((xx - 5.5).abs() < 1),
        "stripes": (xx.long() % 3) == 0,
    }
    img = masks[kind].float() * (1.0 if bright else 0.5)
    return img.unsqueeze(0).repeat(3, 1, 1) + 0.1 * torch.randn(3, 12, 12)


def make_pairs(n, rng):
    images, texts, labels = [], [], []
    for _ in range(n):
        c = int(rng.integers(4))
        big, bright = bool(rng.integers(2)), bool(rng.integers(2))
        images.append(draw(classes[c], big, bright))
        words = ["a", "photo", "of", "a", "big" if big else "small", classes[c]]
        if rng.random() < 0.5:
            words.insert(4, "bright" if bright else "dark")
        texts.append(" ".join(words[:6]) if len(words) > 6 else " ".join(words))
        labels.append(c)
    return torch.stack(images), tokenize(texts), torch.tensor(labels)


class ImageEncoder(nn.Module):
    def __init__(self, width=32):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, width, 3, padding=1), nn.GELU(), nn.MaxPool2d(2),
            nn.Conv2d(width, width, 3, padding=1), nn.GELU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )  # fmt: skip

    def forward(self, x):
        return self.net(x)


class TextEncoder(nn.Module):
    def __init__(self, width=32, layers=2, heads=4):
        super().__init__()
        self.token_embedding = nn.Embedding(len(vocab), width)
        self.positional_embedding = nn.Parameter(torch.empty(context_length, width))
        nn.init.normal_(self.positional_embedding, std=0.01)
        layer = nn.TransformerEncoderLayer(width, heads, 4 * width, dropout=0.0, batch_first=True,
                                           norm_first=True, activation="gelu")  # fmt: skip
        self.transformer = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.ln_final = nn.LayerNorm(width)
        mask = torch.empty(context_length, context_length).fill_(float("-inf")).triu_(1)
        self.register_buffer("attn_mask", mask, persistent=False)

    def forward(self, text):
        x = self.token_embedding(text) + self.positional_embedding
        x = self.transformer(x, mask=self.attn_mask)
        x = self.ln_final(x)
        # take features from the eot embedding (eot_token is the highest number in each sequence)
        eot = (text == stoi["<eot>"]).int().argmax(dim=-1)
        return x[torch.arange(x.shape[0]), eot]


class CLIP(nn.Module):
    def __init__(self, embed_dim=16, width=32):
        super().__init__()
        self.visual = ImageEncoder(width)
        self.text = TextEncoder(width)
        self.image_projection = nn.Parameter(torch.randn(width, embed_dim) * width**-0.5)
        self.text_projection = nn.Parameter(torch.randn(width, embed_dim) * width**-0.5)
        self.logit_scale = nn.Parameter(torch.ones([]) * np.log(1 / 0.07))

    def encode_image(self, image):
        return self.visual(image) @ self.image_projection

    def encode_text(self, text):
        return self.text(text) @ self.text_projection

    def forward(self, image, text):
        image_features = F.normalize(self.encode_image(image), dim=-1)
        text_features = F.normalize(self.encode_text(text), dim=-1)
        return image_features, text_features, self.logit_scale.exp()


def clip_loss(image_features, text_features, logit_scale):
    logits_per_image = logit_scale * image_features @ text_features.T
    logits_per_text = logits_per_image.T
    labels = torch.arange(logits_per_image.shape[0], device=logits_per_image.device)
    return (
        F.cross_entropy(logits_per_image, labels) + F.cross_entropy(logits_per_text, labels)
    ) / 2


rng = np.random.default_rng(0)
images, texts, labels = make_pairs(256, rng)
model = CLIP()
optimizer = torch.optim.AdamW(
    model.parameters(), lr=5e-3, weight_decay=0.1, betas=(0.9, 0.98), eps=1e-6
)
losses, scales = [], []
batch = 32
for step in range(100):
    idx = torch.randperm(len(images))[:batch]
    image_features, text_features, logit_scale = model(images[idx], texts[idx])
    loss = clip_loss(image_features, text_features, logit_scale)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    with torch.no_grad():
        model.logit_scale.clamp_(0, math.log(100))
    losses.append(loss.item())
    scales.append(model.logit_scale.exp().item())
    if step % 20 == 0:
        print(f"step {step}: loss {loss.item():.3f}, logit scale {scales[-1]:.2f}")

# Zero-shot classification with prompts
test_images, _, test_labels = make_pairs(128, np.random.default_rng(1))
templates = ["a photo of a big {}", "a photo of a small {}", "a photo of a bright {}"]
model.eval()
with torch.no_grad():
    image_features = F.normalize(model.encode_image(test_images), dim=-1)
    zeroshot_weights = []
    for classname in classes:  # prompt ensembling, as open_clip's zero-shot classifier
        class_embeddings = model.encode_text(tokenize([t.format(classname) for t in templates]))
        class_embedding = F.normalize(class_embeddings, dim=-1).mean(dim=0)
        zeroshot_weights.append(class_embedding / class_embedding.norm())
    text_features = torch.stack(zeroshot_weights, dim=0)
    text_probs = (100.0 * image_features @ text_features.T).softmax(dim=-1)
    zero_shot_acc = (text_probs.argmax(-1) == test_labels).float().mean().item()
    top_probs, top_labels = text_probs.topk(2, dim=-1)
print(
    f"zero-shot accuracy {zero_shot_acc:.3f}; first image: {classes[top_labels[0, 0]]} ({top_probs[0, 0]:.2f})"
)
