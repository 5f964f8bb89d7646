"""ELECTRA (Clark et al., 2020) replaced-token detection as HuggingFace-style PyTorch code writes
it: 15% of tokens masked by torch.bernoulli on a probability matrix (special tokens excluded
with masked_fill), a small masked-LM generator and a discriminator (nn.TransformerEncoder with
norm_first and GELU, key padding masks) that share the token embeddings, replacements sampled
from the generator's softmax by torch.multinomial under no_grad, per-token BCE on "replaced"
labels (a sampled token equal to the original counts as original), and the summed loss
MLM + 50 * RTD; accuracy of detection and of the generator's masked predictions at the end."""

import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB, PAD, MASK, CLS, SEQ, D = 24, 0, 1, 2, 12, 16


def encoder(d, layers):
    layer = nn.TransformerEncoderLayer(
        d,
        nhead=2,
        dim_feedforward=2 * d,
        dropout=0.1,
        activation="gelu",
        batch_first=True,
        norm_first=True,
    )
    return nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)


class Electra(nn.Module):
    def __init__(self):
        super().__init__()
        self.embeddings = nn.Embedding(VOCAB, D, padding_idx=PAD)
        self.position = nn.Embedding(SEQ, D)
        self.generator, self.discriminator = encoder(D, 1), encoder(D, 1)
        self.gen_head = nn.Linear(D, VOCAB)
        self.disc_head = nn.Linear(D, 1)

    def embed(self, ids):
        return self.embeddings(ids) + self.position(torch.arange(ids.size(1)))

    def forward(self, ids, labels, padding):
        gen_logits = self.gen_head(self.generator(self.embed(ids), src_key_padding_mask=padding))
        mlm_loss = F.cross_entropy(gen_logits.view(-1, VOCAB), labels.view(-1), ignore_index=-100)
        masked = labels != -100
        with torch.no_grad():
            probs = F.softmax(gen_logits[masked], dim=-1)
            sampled = torch.multinomial(probs, 1).squeeze(1)
        corrupted = ids.clone()
        corrupted[masked] = sampled
        original = torch.where(masked, labels, ids)
        replaced = (corrupted != original).float()
        h = self.discriminator(self.embed(corrupted), src_key_padding_mask=padding)
        disc_logits = self.disc_head(h).squeeze(-1)
        active = ~padding
        rtd_loss = F.binary_cross_entropy_with_logits(disc_logits[active], replaced[active])
        return mlm_loss, rtd_loss, disc_logits, replaced, gen_logits


def mask_tokens(ids, padding, mlm_probability=0.15):
    labels = ids.clone()
    probability_matrix = torch.full(labels.shape, mlm_probability)
    special = padding | (ids == CLS)
    probability_matrix.masked_fill_(special, value=0.0)
    masked_indices = torch.bernoulli(probability_matrix).bool()
    labels[~masked_indices] = -100
    inputs = ids.masked_fill(masked_indices, MASK)
    return inputs, labels


def make_corpus(n, generator):
    """Sentences count upward from a random start by 1 or 2 (tokens 3..23), padded at the end."""
    start = torch.randint(3, 12, (n, 1), generator=generator)
    step = torch.randint(1, 3, (n, 1), generator=generator)
    ids = (start + step * torch.arange(SEQ - 1)).clamp(max=VOCAB - 1)
    ids = torch.cat([torch.full((n, 1), CLS), ids], 1)
    lengths = torch.randint(6, SEQ + 1, (n,), generator=generator)
    padding = torch.arange(SEQ) >= lengths.unsqueeze(1)
    return ids.masked_fill(padding, PAD), padding


torch.manual_seed(0)
g = torch.Generator().manual_seed(0)
ids, padding = make_corpus(64, g)
model = Electra()
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.01)
mlm_losses, rtd_losses = [], []
for step in range(40):
    idx = torch.randint(0, 64, (32,))
    inputs, labels = mask_tokens(ids[idx], padding[idx])
    mlm_loss, rtd_loss, *_ = model(inputs, labels, padding[idx])
    loss = mlm_loss + 50.0 * rtd_loss
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    mlm_losses.append(mlm_loss.item())
    rtd_losses.append(rtd_loss.item())
model.eval()
with torch.no_grad():
    inputs, labels = mask_tokens(ids, padding)
    _, rtd_loss, disc_logits, replaced, gen_logits = model(inputs, labels, padding)
    active = ~padding
    detection_accuracy = (
        ((disc_logits[active] > 0).float() == replaced[active]).float().mean().item()
    )
    masked = labels != -100
    mlm_accuracy = (gen_logits.argmax(-1)[masked] == labels[masked]).float().mean().item()
    n_masked, n_replaced = int(masked.sum()), int(replaced.sum())
print(
    f"MLM {mlm_losses[0]:.3f} -> {mlm_losses[-1]:.3f}, RTD {rtd_losses[0]:.3f} -> "
    f"{rtd_losses[-1]:.3f}, detection {detection_accuracy:.3f}, MLM acc {mlm_accuracy:.3f}"
)
