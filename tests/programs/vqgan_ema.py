"""VQ-GAN (Esser et al. 2021) training as taming-transformers and its descendants (ViT-VQGAN,
the vector-quantize-pytorch EMA codebook) write it in plain PyTorch, scaled down: an
l2-normalized (cosine) codebook lookup by ``torch.cdist``/``argmin``, the straight-through
estimator ``z + (z_q - z).detach()``, a commitment loss weighted by beta, the codebook updated
by exponential moving averages kept in buffers (cluster sizes and summed embeddings with
``index_add_``, Laplace smoothing, ``lerp_``), dead codes restarted from the batch's encodings
with ``torch.where``, codebook perplexity; a PatchGAN discriminator with hinge loss, started
after a few steps (``adopt_weight``), and the adaptive generator weight
``||grad L_rec|| / (||grad L_G|| + 1e-4)`` taken with ``torch.autograd.grad`` on the decoder's
last layer (``retain_graph=True``, ``clamp(0, 1e4).detach()``); two optimizers step in turn."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


class EMAQuantizer(nn.Module):
    def __init__(self, num_codes=16, dim=4, beta=0.25, decay=0.9, eps=1e-5, threshold=0.5):
        super().__init__()
        self.beta, self.decay, self.eps, self.threshold = beta, decay, eps, threshold
        embed = F.normalize(torch.randn(num_codes, dim), dim=-1)
        self.register_buffer("embed", embed)
        self.register_buffer("cluster_size", torch.ones(num_codes))
        self.register_buffer("embed_avg", embed.clone())

    def forward(self, z):
        b, c, h, w = z.shape
        flat = F.normalize(z.permute(0, 2, 3, 1).reshape(-1, c), dim=-1)
        dist = torch.cdist(flat, self.embed)
        indices = dist.argmin(dim=1)
        z_q = F.embedding(indices, self.embed)
        if self.training:
            self.ema_update(flat.detach(), indices)
        commit = self.beta * F.mse_loss(flat, z_q.detach())
        z_q = flat + (z_q - flat).detach()
        one_hot = F.one_hot(indices, self.embed.shape[0]).float()
        avg_probs = one_hot.mean(0)
        perplexity = torch.exp(-torch.sum(avg_probs * torch.log(avg_probs + 1e-10)))
        z_q = z_q.view(b, h, w, c).permute(0, 3, 1, 2)
        return z_q, commit, perplexity, indices

    @torch.no_grad()
    def ema_update(self, flat, indices):
        counts = torch.bincount(indices, minlength=self.embed.shape[0]).float()
        sums = torch.zeros_like(self.embed_avg).index_add_(0, indices, flat)
        self.cluster_size.lerp_(counts, 1 - self.decay)
        self.embed_avg.lerp_(sums, 1 - self.decay)
        n = self.cluster_size.sum()
        smoothed = (self.cluster_size + self.eps) / (n + self.embed.shape[0] * self.eps) * n
        self.embed.copy_(F.normalize(self.embed_avg / smoothed.unsqueeze(1), dim=-1))
        dead = self.cluster_size < self.threshold
        if dead.any():
            pick = torch.randint(0, flat.shape[0], (self.embed.shape[0],))
            self.embed.copy_(torch.where(dead[:, None], flat[pick], self.embed))
            self.cluster_size.masked_fill_(dead, 1.0)
            self.embed_avg.copy_(torch.where(dead[:, None], flat[pick], self.embed_avg))


class VQGAN(nn.Module):
    def __init__(self, ch=16, dim=4):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, ch, 4, 2, 1), nn.GroupNorm(4, ch), nn.SiLU(), nn.Conv2d(ch, dim, 1)
        )
        self.quantize = EMAQuantizer(dim=dim)
        self.decoder = nn.Sequential(
            nn.Conv2d(dim, ch, 3, 1, 1),
            nn.GroupNorm(4, ch),
            nn.SiLU(),
            nn.ConvTranspose2d(ch, ch, 4, 2, 1),
            nn.SiLU(),
            nn.Conv2d(ch, 1, 3, 1, 1),
        )

    def forward(self, x):
        z_q, commit, perplexity, indices = self.quantize(self.encoder(x))
        return self.decoder(z_q), commit, perplexity, indices

    def last_layer(self):
        return self.decoder[-1].weight


class PatchDiscriminator(nn.Module):
    def __init__(self, ch=8):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(1, ch, 4, 2, 1),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(ch, 2 * ch, 4, 1, 1, bias=False),
            nn.BatchNorm2d(2 * ch),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(2 * ch, 1, 3, 1, 1),
        )

    def forward(self, x):
        return self.main(x)


def adopt_weight(weight, global_step, threshold=0, value=0.0):
    return value if global_step < threshold else weight


def hinge_d_loss(logits_real, logits_fake):
    return 0.5 * (torch.mean(F.relu(1.0 - logits_real)) + torch.mean(F.relu(1.0 + logits_fake)))


def calculate_adaptive_weight(nll_loss, g_loss, last_layer):
    nll_grads = torch.autograd.grad(nll_loss, last_layer, retain_graph=True)[0]
    g_grads = torch.autograd.grad(g_loss, last_layer, retain_graph=True)[0]
    d_weight = torch.norm(nll_grads) / (torch.norm(g_grads) + 1e-4)
    return torch.clamp(d_weight, 0.0, 1e4).detach()


def images(n):
    """Soft blobs at random places on 8x8 canvases."""
    yy, xx = torch.meshgrid(torch.arange(8.0), torch.arange(8.0), indexing="ij")
    centers = torch.rand(n, 2, 1, 1) * 6 + 1
    return torch.exp(-((yy - centers[:, :1]) ** 2 + (xx - centers[:, 1:]) ** 2) / 3.0)


model, disc = VQGAN(), PatchDiscriminator()
opt_ae = torch.optim.Adam(model.parameters(), lr=3e-3, betas=(0.5, 0.9))
opt_disc = torch.optim.Adam(disc.parameters(), lr=3e-3, betas=(0.5, 0.9))
history = {"rec": [], "g": [], "d": [], "d_weight": [], "perplexity": []}
for step in range(16):
    x = images(16) * 2 - 1
    xrec, commit, perplexity, indices = model(x)
    rec_loss = (x - xrec).abs().mean()
    logits_fake = disc(xrec)
    g_loss = -torch.mean(logits_fake)
    disc_factor = adopt_weight(1.0, step, threshold=6)
    d_weight = calculate_adaptive_weight(rec_loss, g_loss, model.last_layer())
    loss = rec_loss + commit + d_weight * disc_factor * g_loss
    opt_ae.zero_grad()
    loss.backward()
    opt_ae.step()
    d_loss = disc_factor * hinge_d_loss(disc(x.detach()), disc(xrec.detach()))
    opt_disc.zero_grad()
    d_loss.backward()
    opt_disc.step()
    for key, value in zip(history, (rec_loss, g_loss, d_loss, d_weight, perplexity)):
        history[key].append(value.item())
codebook_norms = model.quantize.embed.norm(dim=1).tolist()
cluster_size = model.quantize.cluster_size.tolist()
running_var = disc.main[3].running_var[:4].tolist()
model.eval()
with torch.no_grad():
    xrec, _, _, indices = model(images(4) * 2 - 1)
    eval_codes = indices.tolist()
print(
    f"rec {history['rec'][0]:.3f} -> {history['rec'][-1]:.3f}, perplexity {history['perplexity']}"
)
