"""Contrastive Predictive Coding (van den Oord et al. 2018) on 1-D signals, as the reference
ports write it: a strided Conv1d encoder turns the waveform into latents z_t, a GRU summarises
z_<=t into a context c_t, one Linear predictor W_k per step ahead, and the InfoNCE loss scores
the true future latent against the other sequences' latents in the batch (negatives from the
batch) with torch.einsum, cross_entropy on the diagonal and per-step prediction accuracy."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy

rng = np.random.default_rng(0)
batch, length, steps_ahead = 8, 64, 3
t = np.arange(length)
freqs = rng.uniform(0.05, 0.25, (batch, 1))
phase = rng.uniform(0, 2 * math.pi, (batch, 1))
wave = np.sin(2 * math.pi * freqs * t + phase) + 0.1 * rng.standard_normal((batch, length))
x = torch.from_numpy(wave.astype(np.float32)).unsqueeze(1)  # (batch, 1, length)


class CPC(nn.Module):
    def __init__(self, z_dim=16, c_dim=16, k=steps_ahead):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv1d(1, z_dim, kernel_size=4, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv1d(z_dim, z_dim, kernel_size=4, stride=2, padding=1),
        )
        self.gru = nn.GRU(z_dim, c_dim, batch_first=True)
        self.predictors = nn.ModuleList(nn.Linear(c_dim, z_dim, bias=False) for _ in range(k))

    def forward(self, x, t_context):
        z = self.encoder(x).transpose(1, 2)  # (batch, time, z_dim)
        c, _ = self.gru(z[:, : t_context + 1])
        c_t = c[:, -1]  # (batch, c_dim)
        losses, accuracies = [], []
        labels = torch.arange(x.size(0))
        for k, predictor in enumerate(self.predictors, start=1):
            pred = predictor(c_t)  # (batch, z_dim)
            scores = torch.einsum("bd,nd->bn", pred, z[:, t_context + k])
            losses.append(F.cross_entropy(scores, labels))
            accuracies.append((scores.argmax(dim=1) == labels).float().mean())
        return torch.stack(losses).mean(), torch.stack(accuracies), z.shape


model = init_from_numpy(CPC())
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
t_contexts = rng.integers(4, 12, 40)
losses, accuracy_curve = [], []
for step, t_context in enumerate(t_contexts):
    optimizer.zero_grad()
    loss, accuracies, z_shape = model(x, int(t_context))
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
    accuracy_curve.append(accuracies.tolist())
print(f"InfoNCE {losses[0]:.4f} -> {losses[-1]:.4f} (log batch = {math.log(batch):.4f})")

with torch.no_grad():
    final_loss, final_acc, _ = model(x, 8)
mutual_info_bound = math.log(batch) - final_loss.item()  # I(x_{t+k}; c_t) >= log N - L
z_shape = tuple(z_shape)
predictor_grad_norms = [p.weight.grad.norm().item() for p in model.predictors]
final_accuracy = final_acc.tolist()
print(f"MI lower bound {mutual_info_bound:.3f} nats, accuracy per step {final_accuracy}")
