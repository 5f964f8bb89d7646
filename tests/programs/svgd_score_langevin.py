"""Particle and score-based sampling as research code writes it in PyTorch: Stein variational
gradient descent (Liu and Wang 2016) towards a Gaussian-mixture target from
``MixtureSameFamily`` (the score by ``torch.autograd.grad``, an RBF kernel on ``torch.cdist``
with the median-heuristic bandwidth from ``torch.median``, the repulsive term from the
kernel's gradient); a score network trained by sliced score matching (Song et al. 2019: the
Hutchinson term v^T (ds/dx) v from a second ``autograd.grad`` with ``create_graph=True``) and
by denoising score matching over noise levels (NCSN); and annealed Langevin dynamics drawing
samples with the learned score."""

import math

import torch
import torch.distributions as D
import torch.nn as nn

torch.manual_seed(0)

mixture = D.MixtureSameFamily(
    D.Categorical(torch.tensor([0.3, 0.7])),
    D.Independent(D.Normal(torch.tensor([[-2.0, 0.0], [2.0, 1.0]]), torch.full((2, 2), 0.6)), 1),
)


def target_score(x):
    x = x.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(mixture.log_prob(x).sum(), x)
    return g


# -- SVGD
def svgd_step(x, step=0.3):
    n = x.shape[0]
    sq = torch.cdist(x, x).pow(2)
    h = torch.median(sq) / math.log(n + 1)
    K = torch.exp(-sq / h)
    grad_K = -(2 / h) * (K.sum(1, keepdim=True) * x - K @ x)  # sum_j grad_{x_j} k(x_j, x_i)
    phi = (K @ target_score(x) - grad_K) / n
    return x + step * phi


particles = torch.randn(60, 2) * 0.5
svgd_log_probs = []
for it in range(40):
    particles = svgd_step(particles)
    if it % 10 == 9:
        svgd_log_probs.append(mixture.log_prob(particles).mean().item())
right_mode_share = (particles[:, 0] > 0).float().mean().item()
svgd_sample = particles[:3].tolist()
spread = particles.std(0).tolist()

# -- sliced score matching of a score network
data = mixture.sample((512,))


class ScoreNet(nn.Module):
    def __init__(self, noise_conditional=False):
        super().__init__()
        self.noise_conditional = noise_conditional
        n_in = 3 if noise_conditional else 2
        self.net = nn.Sequential(
            nn.Linear(n_in, 64), nn.Softplus(), nn.Linear(64, 64), nn.Softplus(), nn.Linear(64, 2)
        )

    def forward(self, x, sigma=None):
        if self.noise_conditional:
            return self.net(torch.cat([x, sigma.log()], 1)) / sigma
        return self.net(x)


def sliced_score_loss(model, x):
    x = x.requires_grad_(True)
    v = torch.randn_like(x)
    s = model(x)
    (grad_v,) = torch.autograd.grad((s * v).sum(), x, create_graph=True)
    return ((grad_v * v).sum(1) + 0.5 * (s * v).sum(1).pow(2)).mean()


ssm = ScoreNet()
optimizer = torch.optim.Adam(ssm.parameters(), lr=2e-3)
ssm_losses = []
for it in range(40):
    batch = data[torch.randint(0, len(data), (128,))]
    optimizer.zero_grad()
    loss = sliced_score_loss(ssm, batch.clone())
    loss.backward()
    optimizer.step()
    ssm_losses.append(loss.item())
probe = torch.tensor([[-2.0, 0.5], [2.0, 0.0], [0.0, 3.0]])
with torch.no_grad():
    learned_score = ssm(probe)
score_cosine = nn.functional.cosine_similarity(learned_score, target_score(probe)).tolist()

# -- denoising score matching over noise levels, then annealed Langevin dynamics
sigmas = torch.exp(torch.linspace(math.log(2.0), math.log(0.1), 6))
ncsn = ScoreNet(noise_conditional=True)
optimizer = torch.optim.Adam(ncsn.parameters(), lr=2e-3)
dsm_losses = []
for it in range(50):
    batch = data[torch.randint(0, len(data), (128,))]
    sigma = sigmas[torch.randint(0, len(sigmas), (128,))].unsqueeze(1)
    noise = torch.randn_like(batch) * sigma
    target = -noise / sigma**2
    optimizer.zero_grad()
    loss = 0.5 * ((ncsn(batch + noise, sigma) - target).pow(2).sum(1) * sigma.squeeze(1) ** 2)
    loss = loss.mean()
    loss.backward()
    optimizer.step()
    dsm_losses.append(loss.item())

x = torch.rand(64, 2) * 8 - 4
with torch.no_grad():
    for sigma in sigmas:
        step = 5e-3 * (sigma / sigmas[-1]) ** 2  # NCSN's step size, by noise level
        s = torch.full((64, 1), sigma.item())
        for _ in range(15):
            x = x + 0.5 * step * ncsn(x, s) + step.sqrt() * torch.randn_like(x)
start = torch.rand(64, 2) * 8 - 4
langevin_log_prob = mixture.log_prob(x).median().item()
start_log_prob = mixture.log_prob(start).median().item()
langevin_sample = x[:3].tolist()
