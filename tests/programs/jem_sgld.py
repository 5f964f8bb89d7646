"""A Joint Energy-based Model (Grathwohl et al. 2020, "Your classifier is secretly an
energy-based model") as its reference code writes it: a classifier whose ``logsumexp`` of
logits is the negative energy, trained with cross-entropy plus the contrastive EBM loss
``E(x_data) - E(x_sampled)``; negatives drawn by stochastic gradient Langevin dynamics from a
replay buffer (95% replayed, 5% fresh uniform noise), each step
``x_k.data += sgld_lr * autograd.grad(f(x_k).sum(), [x_k])[0] + sgld_std * randn_like``
under ``model.eval()``; with Swish activations (x * sigmoid(x)); on 2-D points of two classes
in [-1, 1]^2 (two Gaussian blobs)."""

import torch
import torch.nn as nn

torch.manual_seed(0)


class F_(nn.Module):
    def __init__(self, n_classes=2, hidden=32):
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(2, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU()
        )
        self.class_output = nn.Linear(hidden, n_classes)

    def classify(self, x):
        return self.class_output(self.body(x))

    def forward(self, x, y=None):
        logits = self.classify(x)
        if y is None:
            return logits.logsumexp(1)  # -E(x)
        return torch.gather(logits, 1, y[:, None])  # -E(x, y)


def sample_p_0(replay_buffer, bs, reinit_freq=0.05):
    buffer_size = len(replay_buffer)
    inds = torch.randint(0, buffer_size, (bs,))
    buffer_samples = replay_buffer[inds]
    random_samples = torch.FloatTensor(bs, 2).uniform_(-1, 1)
    choose_random = (torch.rand(bs) < reinit_freq).float()[:, None]
    samples = choose_random * random_samples + (1 - choose_random) * buffer_samples
    return samples, inds


def sample_q(f, replay_buffer, bs, n_steps=10, sgld_lr=1.0, sgld_std=0.01):
    f.eval()
    init_sample, buffer_inds = sample_p_0(replay_buffer, bs)
    x_k = torch.autograd.Variable(init_sample, requires_grad=True)
    for k in range(n_steps):
        f_prime = torch.autograd.grad(f(x_k).sum(), [x_k], retain_graph=True)[0]
        x_k.data += sgld_lr * f_prime + sgld_std * torch.randn_like(x_k)
    f.train()
    final_samples = x_k.detach()
    replay_buffer[buffer_inds] = final_samples
    return final_samples


def data(n):
    y = torch.randint(0, 2, (n,))
    centers = torch.tensor([[-0.5, -0.3], [0.5, 0.3]])
    return (centers[y] + 0.15 * torch.randn(n, 2)).clamp(-1, 1), y


f = F_()
optim = torch.optim.Adam(f.parameters(), lr=3e-3, betas=(0.0, 0.999))
replay_buffer = torch.FloatTensor(200, 2).uniform_(-1, 1)
xs, ys = data(512)
losses, ce_losses, ebm_gaps, grad_sample = [], [], [], None
for it in range(40):
    idx = torch.randint(0, 512, (32,))
    x_lab, y_lab = xs[idx], ys[idx]
    x_q = sample_q(f, replay_buffer, 32)
    fp, fq = f(x_lab).mean(), f(x_q).mean()
    l_p_x = -(fp - fq)
    l_p_y_given_x = nn.CrossEntropyLoss()(f.classify(x_lab), y_lab)
    loss = l_p_x + l_p_y_given_x
    optim.zero_grad()
    loss.backward()
    if it == 0:
        grad_sample = f.body[0].weight.grad[:2].tolist()
    optim.step()
    losses.append(loss.item())
    ce_losses.append(l_p_y_given_x.item())
    ebm_gaps.append((fp - fq).item())

with torch.no_grad():
    test_x, test_y = data(256)
    accuracy = (f.classify(test_x).argmax(1) == test_y).float().mean().item()
    energy_data = -f(test_x).mean().item()
    energy_noise = -f(torch.rand(256, 2) * 2 - 1).mean().item()
    energy_buffer = -f(replay_buffer).mean().item()
buffer_stats = [replay_buffer.mean(0).tolist(), replay_buffer.abs().max().item()]
conditional_shape = tuple(f(test_x, test_y).shape)
