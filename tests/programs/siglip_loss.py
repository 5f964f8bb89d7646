"""SigLIP's pairwise sigmoid loss (Zhai et al. 2023) as big_vision's and open_clip's
``SigLipLoss`` write it in PyTorch: a learnable temperature ``t' = log 10`` (``exp`` applied
in the forward) and bias initialized to -10, ``F.normalize`` features, labels ``2 * eye - 1``
(``torch.eye`` minus ones), ``-F.logsigmoid(labels * logits).sum() / n``; its chunked form
(negatives from other "devices" streamed in blocks, as the distributed loss does with
``torch.roll``-style neighbour exchange, here over chunks of one batch) must add up to the full
loss; compared with the softmax (InfoNCE) CLIP loss, both trained on the same two-tower model
(an MLP image tower on noisy prototypes and an ``nn.EmbeddingBag`` text tower on bags of
words); retrieval accuracy and the learned temperature/bias are reported."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
CONCEPTS, WORDS, DIM = 12, 40, 16


class SigLipLoss(nn.Module):
    def forward(self, image_features, text_features, logit_scale, logit_bias):
        logits = logit_scale * image_features @ text_features.T + logit_bias
        n = image_features.shape[0]
        labels = 2 * torch.eye(n, dtype=image_features.dtype) - torch.ones(n, n)
        return -F.logsigmoid(labels * logits).sum() / n


def chunked_siglip(image_features, text_features, logit_scale, logit_bias, chunks):
    """Each "device" holds one chunk of images; text chunks travel around the ring."""
    img_chunks, txt_chunks = image_features.chunk(chunks), text_features.chunk(chunks)
    n, total = image_features.shape[0], 0.0
    for rank, img in enumerate(img_chunks):
        for hop in range(chunks):
            txt = txt_chunks[(rank + hop) % chunks]
            logits = logit_scale * img @ txt.T + logit_bias
            labels = -torch.ones_like(logits)
            if hop == 0:
                labels = labels + 2 * torch.eye(img.shape[0], dtype=img.dtype)
            total = total - F.logsigmoid(labels * logits).sum()
    return total / n


def clip_loss(image_features, text_features, logit_scale):
    logits = logit_scale * image_features @ text_features.T
    labels = torch.arange(logits.shape[0])
    return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2


class TwoTower(nn.Module):
    def __init__(self, kind):
        super().__init__()
        self.image = nn.Sequential(nn.Linear(DIM, 32), nn.GELU(), nn.Linear(32, 16))
        self.text = nn.EmbeddingBag(WORDS, 16, mode="mean")
        if kind == "siglip":
            self.logit_scale = nn.Parameter(torch.ones([]) * math.log(10))
            self.logit_bias = nn.Parameter(torch.ones([]) * -10)
        else:
            self.logit_scale = nn.Parameter(torch.ones([]) * math.log(1 / 0.07))
            self.logit_bias = None

    def forward(self, images, words, offsets):
        img = F.normalize(self.image(images), dim=-1)
        txt = F.normalize(self.text(words, offsets), dim=-1)
        return img, txt, self.logit_scale.exp(), self.logit_bias


prototypes = torch.randn(CONCEPTS, DIM)
vocab_of = torch.randint(0, WORDS, (CONCEPTS, 4))


def batch(n):
    concepts = torch.randperm(CONCEPTS)[:n]
    images = prototypes[concepts] + 0.5 * torch.randn(n, DIM)
    lengths = torch.randint(2, 5, (n,))
    words = torch.cat([vocab_of[c][torch.randperm(4)[:k]] for c, k in zip(concepts, lengths)])
    offsets = torch.cat([torch.zeros(1, dtype=torch.long), lengths.cumsum(0)[:-1]])
    return images, words, offsets


feats_i = F.normalize(torch.randn(8, 6, dtype=torch.float64), dim=-1)
feats_t = F.normalize(torch.randn(8, 6, dtype=torch.float64), dim=-1)
full = SigLipLoss()(feats_i, feats_t, 10.0, -10.0)
chunk_gap = (full - chunked_siglip(feats_i, feats_t, 10.0, -10.0, 4)).abs().item()
full_value = full.item()

results = {}
for kind in ("siglip", "clip"):
    torch.manual_seed(3)
    model = TwoTower(kind)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for step in range(30):
        img, txt, scale, bias = model(*batch(8))
        loss = (
            SigLipLoss()(img, txt, scale, bias) if kind == "siglip" else clip_loss(img, txt, scale)
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, math.log(100))
        losses.append(loss.item())
    with torch.no_grad():
        img, txt, scale, bias = model(*batch(CONCEPTS))
        recall = (torch.argmax(img @ txt.T, dim=1) == torch.arange(CONCEPTS)).float().mean().item()
    results[kind] = {
        "losses": losses,
        "recall": recall,
        "scale": scale.item(),
        "bias": None if bias is None else bias.item(),
        "bag_grad": model.text.weight.grad[vocab_of[0, 0], :4].tolist(),
    }
print(
    {
        k: (v["losses"][0], v["losses"][-1], v["recall"], v["scale"], v["bias"])
        for k, v in results.items()
    }
)
