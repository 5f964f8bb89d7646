"""Learning to learn by gradient descent by gradient descent (Andrychowicz et al. 2016) as its
PyTorch re-implementations write it: a coordinate-wise two-layer ``nn.LSTMCell`` optimizer
whose input is the gradient preprocessed into ``(log|g| / p, sign)`` pairs, random quadratic
optimizees ``||W theta - y||^2``, gradients of the optimizee taken with
``torch.autograd.grad`` and detached (the paper drops second derivatives), the meta-loss
summed over an unrolled trajectory and backpropagated through the LSTM's updates every few
steps (truncated BPTT with ``.detach()`` of the hidden state and of theta, then
``requires_grad_()``), meta-training by Adam, and a comparison with SGD and Adam on held-out
quadratics. Problems are drawn with NumPy."""

import math

import numpy as np
import torch
import torch.nn as nn
from numpy_init import init_from_numpy, randn

DIM, HIDDEN, UNROLL, TRUNCATE, PREPROC = 6, 12, 12, 4, 10.0


class LSTMOptimizer(nn.Module):
    def __init__(self):
        super().__init__()
        self.cell1 = nn.LSTMCell(2, HIDDEN)
        self.cell2 = nn.LSTMCell(HIDDEN, HIDDEN)
        self.out = nn.Linear(HIDDEN, 1)

    def initial_state(self, n):
        return [(torch.zeros(n, HIDDEN), torch.zeros(n, HIDDEN)) for _ in range(2)]

    @staticmethod
    def preprocess(grad):
        log_part = (grad.abs() + 1e-8).log() / PREPROC
        sign_part = (grad * math.exp(PREPROC)).clamp(-1, 1)
        return torch.stack([log_part.clamp(min=-1), sign_part], 1)

    def forward(self, grad, state):
        h1, c1 = self.cell1(self.preprocess(grad), state[0])
        h2, c2 = self.cell2(h1, state[1])
        return self.out(h2).squeeze(1) * 0.1, [(h1, c1), (h2, c2)]


def quadratic(rng):
    W, y = randn(rng, DIM, DIM), randn(rng, DIM)
    return lambda theta: ((W @ theta - y) ** 2).sum()


def run_learned(opt_net, f, steps, meta_optimizer=None):
    train = meta_optimizer is not None
    theta = torch.zeros(DIM, requires_grad=True)
    state = opt_net.initial_state(DIM)
    losses, meta_loss, meta_losses = [], 0.0, []
    for step in range(steps):
        loss = f(theta)
        losses.append(loss.item())
        meta_loss = meta_loss + loss
        grad = torch.autograd.grad(loss, theta, retain_graph=train)[0].detach()
        update, state = opt_net(grad, state)
        theta = theta + update
        if train and (step + 1) % TRUNCATE == 0:
            meta_optimizer.zero_grad()
            meta_loss.backward()
            nn.utils.clip_grad_norm_(opt_net.parameters(), 1.0)
            meta_optimizer.step()
            meta_losses.append(meta_loss.item())
            meta_loss = 0.0
            state = [(h.detach(), c.detach()) for h, c in state]
            theta = theta.detach().requires_grad_()
    return losses, meta_losses


def run_baseline(optimizer_cls, f, steps, **kwargs):
    theta = torch.zeros(DIM, requires_grad=True)
    optimizer = optimizer_cls([theta], **kwargs)
    losses = []
    for _ in range(steps):
        loss = f(theta)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


rng = np.random.default_rng(0)
opt_net = init_from_numpy(LSTMOptimizer(), seed=11)
meta_optimizer = torch.optim.Adam(opt_net.parameters(), lr=5e-3)
meta_history = []
for epoch in range(20):
    f = quadratic(rng)
    _, meta_losses = run_learned(opt_net, f, UNROLL, meta_optimizer)
    meta_history.append(sum(meta_losses))

test_problems = [quadratic(rng) for _ in range(3)]
learned_final = [run_learned(opt_net, f, 20)[0][-1] for f in test_problems]
sgd_final = [run_baseline(torch.optim.SGD, f, 20, lr=0.01)[-1] for f in test_problems]
adam_final = [run_baseline(torch.optim.Adam, f, 20, lr=0.1)[-1] for f in test_problems]
preprocessed = LSTMOptimizer.preprocess(torch.tensor([1e-6, -0.5, 3.0, 0.0])).tolist()
lstm_weight_sample = opt_net.cell1.weight_hh[:3, :3].flatten().tolist()
