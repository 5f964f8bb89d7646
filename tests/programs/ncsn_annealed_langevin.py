"""NCSN (Song & Ermon, "Generative Modeling by Estimating Gradients of the Data Distribution",
2019) on 2-D toy data, as the authors' ``ncsn`` repository writes it: a geometric ladder of
noise levels ``sigmas = exp(linspace(log(sigma_1), log(sigma_L), L))``, a noise-conditional
score network (``ConditionalLinear`` layers scaling features by a per-level ``nn.Embedding``
initialised with ``uniform_()``), the ``anneal_dsm_score_estimation`` loss (a random level per
sample via ``torch.randint``, perturbed ``x + randn_like * sigma``, target
``-1 / sigma^2 * noise``, weighted by ``sigma^anneal_power``), and
``anneal_Langevin_dynamics`` sampling (step ``alpha = eps * (sigma / sigma_L)^2``,
``x + alpha / 2 * score + sqrt(alpha) * randn_like``) from uniform noise, with the score
norms recorded per level as the reference code prints them."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(19)


class ConditionalLinear(nn.Module):
    def __init__(self, num_in, num_out, num_classes):
        super().__init__()
        self.num_out = num_out
        self.lin = nn.Linear(num_in, num_out)
        self.embed = nn.Embedding(num_classes, num_out)
        self.embed.weight.data.uniform_()

    def forward(self, x, y):
        out = self.lin(x)
        gamma = self.embed(y)
        return gamma.view(-1, self.num_out) * out


class ConditionalModel(nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        self.lin1 = ConditionalLinear(2, 64, num_classes)
        self.lin2 = ConditionalLinear(64, 64, num_classes)
        self.lin3 = nn.Linear(64, 2)

    def forward(self, x, y):
        x = F.softplus(self.lin1(x, y))
        x = F.softplus(self.lin2(x, y))
        return self.lin3(x)


def anneal_dsm_score_estimation(scorenet, samples, labels, sigmas, anneal_power=2.0):
    used_sigmas = sigmas[labels].view(samples.shape[0], *([1] * len(samples.shape[1:])))
    perturbed_samples = samples + torch.randn_like(samples) * used_sigmas
    target = -1 / (used_sigmas**2) * (perturbed_samples - samples)
    scores = scorenet(perturbed_samples, labels)
    target = target.view(target.shape[0], -1)
    scores = scores.view(scores.shape[0], -1)
    loss = 1 / 2.0 * ((scores - target) ** 2).sum(dim=-1) * used_sigmas.squeeze() ** anneal_power
    return loss.mean(dim=0)


@torch.no_grad()
def anneal_Langevin_dynamics(x_mod, scorenet, sigmas, n_steps_each=20, step_lr=0.01):
    images, grad_norms = [], []
    for c, sigma in enumerate(sigmas):
        labels = torch.ones(x_mod.shape[0], dtype=torch.long) * c
        step_size = step_lr * (sigma / sigmas[-1]) ** 2
        for s in range(n_steps_each):
            images.append(torch.clamp(x_mod, -4.0, 4.0).to("cpu"))
            noise = torch.randn_like(x_mod) * np.sqrt(step_size * 2)
            grad = scorenet(x_mod, labels)
            x_mod = x_mod + step_size * grad + noise
        grad_norms.append(torch.norm(grad.view(grad.shape[0], -1), dim=-1).mean().item())
    return images, grad_norms


sigma_begin, sigma_end, num_classes = 3.0, 0.05, 6
sigmas = torch.tensor(
    np.exp(np.linspace(np.log(sigma_begin), np.log(sigma_end), num_classes))
).float()

# a ring of eight Gaussians
angles = torch.randint(0, 8, (512,)).float() * (2 * np.pi / 8)
data = torch.stack([angles.cos(), angles.sin()], dim=1) * 2.0 + 0.05 * torch.randn(512, 2)
loader = torch.utils.data.DataLoader(data, batch_size=128, shuffle=True, drop_last=True)

score = ConditionalModel(num_classes)
optimizer = torch.optim.Adam(score.parameters(), lr=1e-2, weight_decay=0.0, betas=(0.9, 0.999))
losses = []
for epoch in range(20):
    for X in loader:
        labels = torch.randint(0, len(sigmas), (X.shape[0],))
        loss = anneal_dsm_score_estimation(score, X, labels, sigmas, 2.0)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())

score.eval()
init = torch.rand(64, 2) * 8 - 4
images, grad_norms = anneal_Langevin_dynamics(init, score, sigmas.tolist(), 10, 0.00005 * 20)
final = images[-1]
radius = final.norm(dim=1)
radius_error = (radius - 2.0).abs().mean().item()
init_radius_error = (init.norm(dim=1) - 2.0).abs().mean().item()
sigma_values = sigmas.tolist()
n_images = len(images)
first_final = final[:3].tolist()
