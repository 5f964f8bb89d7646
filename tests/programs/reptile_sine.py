"""Reptile (Nichol et al. 2018) on sine-wave regression as OpenAI's reptile-sinewaves-demo.py
writes it for PyTorch: inner SGD steps written by hand as ``param.data -= lr * param.grad.data``,
the weights before adaptation kept with ``deepcopy(model.state_dict())`` and the outer step
taken by ``load_state_dict`` of the interpolated dict; then the variant that feeds
``p.grad = p.data - fast.data`` to an Adam meta-optimizer, with the fast weights a
``copy.deepcopy`` of the model adapted by ``torch.optim.SGD``. Tasks are drawn with NumPy."""

import copy
from copy import deepcopy

import numpy as np
import torch
import torch.nn as nn
from numpy_init import init_from_numpy

rng = np.random.RandomState(0)
x_all = np.linspace(-5, 5, 20)[:, None]
INNER_STEP, INNER_EPOCHS, OUTER_STEP0, ITERATIONS, NTRAIN = 0.02, 1, 0.1, 40, 10


def totorch(x):
    return torch.from_numpy(x.astype(np.float32))


def gen_task():
    phase, ampl = rng.uniform(low=0, high=2 * np.pi), rng.uniform(0.1, 5)
    return lambda x: np.sin(x + phase) * ampl


def make_model(seed):
    net = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 1))
    return init_from_numpy(net, seed=seed)


def train_on_batch(model, x, y):
    x, y = totorch(x), totorch(y)
    model.zero_grad()
    ypred = model(x)
    loss = (ypred - y).pow(2).mean()
    loss.backward()
    for param in model.parameters():
        param.data -= INNER_STEP * param.grad.data
    return loss.item()


def predict(model, x):
    return model(totorch(x)).data.numpy()


model = make_model(1)
inner_losses, outer_deltas = [], []
for iteration in range(ITERATIONS):
    weights_before = deepcopy(model.state_dict())
    f = gen_task()
    y_all = f(x_all)
    inds = rng.permutation(len(x_all))
    for _ in range(INNER_EPOCHS):
        for start in range(0, len(x_all), NTRAIN):
            mbinds = inds[start : start + NTRAIN]
            inner_losses.append(train_on_batch(model, x_all[mbinds], y_all[mbinds]))
    weights_after = model.state_dict()
    outerstepsize = OUTER_STEP0 * (1 - iteration / ITERATIONS)
    model.load_state_dict(
        {
            name: weights_before[name]
            + (weights_after[name] - weights_before[name]) * outerstepsize
            for name in weights_before
        }
    )
    outer_deltas.append(
        sum((model.state_dict()[k] - weights_before[k]).norm().item() for k in weights_before)
    )

# evaluation as in the demo: adapt a copy to a new task for a few steps, see the loss fall
f_plot = gen_task()
xtrain_plot = x_all[rng.choice(len(x_all), size=NTRAIN)]
weights_before = deepcopy(model.state_dict())
eval_losses = []
for _ in range(16):
    eval_losses.append(train_on_batch(model, xtrain_plot, f_plot(xtrain_plot)))
curve_error = float(np.square(predict(model, x_all) - f_plot(x_all)).mean())
model.load_state_dict(weights_before)  # restore
restored_gap = max(
    (model.state_dict()[k] - weights_before[k]).abs().max().item() for k in weights_before
)
state_dict_is_copy = (
    model.state_dict()["0.weight"].data_ptr() != weights_before["0.weight"].data_ptr()
)

# the meta-optimizer variant: the Reptile direction as a gradient for Adam
meta = make_model(2)
meta_opt = torch.optim.Adam(meta.parameters(), lr=1e-2)
meta_losses = []
for iteration in range(15):
    fast = copy.deepcopy(meta)
    inner_opt = torch.optim.SGD(fast.parameters(), lr=0.02)
    f = gen_task()
    x = totorch(x_all)
    y = totorch(f(x_all))
    for _ in range(3):
        loss = nn.functional.mse_loss(fast(x), y)
        inner_opt.zero_grad()
        loss.backward()
        inner_opt.step()
    meta_losses.append(loss.item())
    meta_opt.zero_grad()
    for p, fp in zip(meta.parameters(), fast.parameters()):
        p.grad = p.data - fp.data
    meta_opt.step()
meta_weight_sample = meta[0].weight[:4, 0].tolist()
grad_is_leafless = all(p.grad.grad_fn is None for p in meta.parameters())
