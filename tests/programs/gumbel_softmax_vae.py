"""A categorical VAE with the Gumbel-softmax trick (Jang et al. 2017), as the popular PyTorch
examples write it: an encoder producing logits for N categorical latents of K classes,
F.gumbel_softmax(logits, tau, hard=...) with a temperature annealed by exp(-rate * step)
(straight-through one-hot samples when hard=True), the KL to a uniform prior from
the softmax probabilities, a Bernoulli decoder with binary_cross_entropy (sum), and sampling
new images from one-hot latents built with scatter_; on images of four on/off quadrants."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
latent_dim, categorical_dim = 4, 4  # N latents with K classes each
temp_min, anneal_rate = 0.5, 0.0015


def make_images(n):
    """8x8 binary images made of 4 quadrants, each quadrant all on or all off."""
    codes = torch.randint(0, 2, (n, 4)).float()
    img = codes.view(n, 2, 1, 2, 1).expand(n, 2, 4, 2, 4).reshape(n, 64)
    return img, codes


class VAE_gumbel(nn.Module):
    def __init__(self, temp):
        super(VAE_gumbel, self).__init__()
        self.fc1 = nn.Linear(64, 128)
        self.fc2 = nn.Linear(128, 64)
        self.fc3 = nn.Linear(64, latent_dim * categorical_dim)
        self.fc4 = nn.Linear(latent_dim * categorical_dim, 64)
        self.fc5 = nn.Linear(64, 128)
        self.fc6 = nn.Linear(128, 64)
        self.relu = nn.ReLU()
        self.sigmoid = nn.Sigmoid()

    def encode(self, x):
        h1 = self.relu(self.fc1(x))
        h2 = self.relu(self.fc2(h1))
        return self.fc3(h2)

    def decode(self, z):
        h4 = self.relu(self.fc4(z))
        h5 = self.relu(self.fc5(h4))
        return self.sigmoid(self.fc6(h5))

    def forward(self, x, temp, hard):
        q = self.encode(x.view(-1, 64))
        q_y = q.view(q.size(0), latent_dim, categorical_dim)
        z = F.gumbel_softmax(q_y, tau=temp, hard=hard)
        z = z.view(-1, latent_dim * categorical_dim)
        return self.decode(z), F.softmax(q_y, dim=-1).reshape(*q.size())


def loss_function(recon_x, x, qy):
    BCE = F.binary_cross_entropy(recon_x, x.view(-1, 64), reduction="sum") / x.shape[0]
    log_ratio = torch.log(qy * categorical_dim + 1e-20)
    KLD = torch.sum(qy * log_ratio, dim=-1).mean()
    return BCE + KLD


train_x, train_codes = make_images(512)
temp = 1.0
model = VAE_gumbel(temp)
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
losses, temps = [], []
step = 0
for epoch in range(10):
    model.train()
    perm = torch.randperm(512)
    train_loss = 0.0
    for i in range(0, 512, 32):
        data = train_x[perm[i : i + 32]]
        optimizer.zero_grad()
        recon_batch, qy = model(data, temp, hard=epoch >= 5)  # straight-through in later epochs
        loss = loss_function(recon_batch, data, qy)
        loss.backward()
        train_loss += loss.item() * len(data)
        optimizer.step()
        step += 1
        if step % 10 == 1:
            temp = np.maximum(temp * np.exp(-anneal_rate * step), temp_min)
    losses.append(train_loss / 512)
    temps.append(float(temp))
    print(f"====> Epoch: {epoch} Average loss: {losses[-1]:.4f} temp {temp:.3f}")

# gumbel_softmax properties
logits = torch.randn(1000, 5)
soft = F.gumbel_softmax(logits, tau=0.5)
hard = F.gumbel_softmax(logits, tau=0.5, hard=True)
soft_sums = soft.sum(-1)
hard_is_one_hot = bool(((hard == 0) | (hard == 1)).all()) and bool((hard.sum(-1) == 1).all())
x = torch.randn(3, 4, requires_grad=True)
F.gumbel_softmax(x, tau=1.0, hard=True)[:, 0].sum().backward()
straight_through_grad = x.grad.abs().sum().item()  # gradients flow through the soft sample

# Generate from random one-hot codes
model.eval()
with torch.no_grad():
    ind = torch.randint(0, categorical_dim, (16 * latent_dim, 1))
    z = torch.zeros(16 * latent_dim, categorical_dim)
    z.scatter_(1, ind, 1)
    z = z.view(16, latent_dim * categorical_dim)
    sample = model.decode(z)
    recon, _ = model(train_x[:64], temp, hard=True)
    recon_error = (recon.round() != train_x[:64]).float().mean().item()
print(f"reconstruction bit error {recon_error:.3f}, sample shape {tuple(sample.shape)}")
