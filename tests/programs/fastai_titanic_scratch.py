"""fast.ai course part 1, lesson 5 ("Linear model and neural net from scratch", Jeremy Howard's
Titanic notebook) in plain PyTorch, on a Titanic-like table drawn with NumPy: columns scaled by
``t_indep.max(dim=0)``, ``torch.rand(n_coeff) - 0.5`` coefficients seeded with
``torch.manual_seed(442)``, the mean absolute error, the hand-written ``update_coeffs``
(``coeffs.sub_(coeffs.grad * lr); coeffs.grad.zero_()`` under ``torch.no_grad()``), losses
printed with ``f"{loss:.3f}"``, a ``torch.randperm`` split, ``show_coeffs`` by
``dict(zip(...requires_grad_(False)))``, accuracy of ``sigmoid`` predictions, then the matrix
form (``indeps @ coeffs``, ``trn_dep[:, None]``), the one-hidden-layer net with
``const = torch.rand(1)[0]`` and the deep net with a list of layers and constants."""

import numpy as np
import torch
import torch.nn.functional as F

rng = np.random.default_rng(5)
n = 240
age = rng.integers(1, 80, n).astype(np.float32)
sibsp = rng.integers(0, 5, n).astype(np.float32)
parch = rng.integers(0, 4, n).astype(np.float32)
log_fare = np.log1p(rng.gamma(2.0, 15.0, n)).astype(np.float32)
male = (rng.random(n) < 0.6).astype(np.float32)
pclass = rng.integers(1, 4, n)
embarked = rng.integers(0, 3, n)
score = 1.5 - 2.5 * male - 0.7 * (pclass - 2) - 0.02 * (age - 30) + 0.2 * log_fare
survived = (score + rng.normal(0, 0.8, n) > 0.5).astype(np.float32)
indep_cols = ["Age", "SibSp", "Parch", "LogFare", "Sex_male", "Sex_female"]
indep_cols += ["Pclass_1", "Pclass_2", "Pclass_3", "Embarked_C", "Embarked_Q", "Embarked_S"]
columns = [age, sibsp, parch, log_fare, male, 1 - male]
columns += [(pclass == k).astype(np.float32) for k in (1, 2, 3)]
columns += [(embarked == k).astype(np.float32) for k in (0, 1, 2)]

t_dep = torch.tensor(survived)
t_indep = torch.tensor(np.stack(columns, axis=1), dtype=torch.float)
torch.manual_seed(442)
n_coeff = t_indep.shape[1]
coeffs = torch.rand(n_coeff) - 0.5
vals, indices = t_indep.max(dim=0)
t_indep = t_indep / vals
preds = (t_indep * coeffs).sum(axis=1)
first_loss = torch.abs(preds - t_dep).mean().item()

perm = torch.randperm(len(t_dep))
trn_idx, val_idx = perm[:192], perm[192:]
trn_indep, val_indep = t_indep[trn_idx], t_indep[val_idx]
trn_dep, val_dep = t_dep[trn_idx], t_dep[val_idx]
printed = []


def calc_preds(coeffs, indeps):
    return (indeps * coeffs).sum(axis=1)


def calc_loss(coeffs, indeps, deps):
    return torch.abs(calc_preds(coeffs, indeps) - deps).mean()


def update_coeffs(coeffs, lr):
    coeffs.sub_(coeffs.grad * lr)
    coeffs.grad.zero_()


def one_epoch(coeffs, lr):
    loss = calc_loss(coeffs, trn_indep, trn_dep)
    loss.backward()
    with torch.no_grad():
        update_coeffs(coeffs, lr)
    printed.append(f"{loss:.3f}")


def init_coeffs():
    return (torch.rand(n_coeff) - 0.5).requires_grad_()


def train_model(epochs=30, lr=0.01):
    torch.manual_seed(442)
    coeffs = init_coeffs()
    for i in range(epochs):
        one_epoch(coeffs, lr=lr)
    return coeffs


def acc(coeffs):
    return (val_dep.bool() == (calc_preds(coeffs, val_indep) > 0.5)).float().mean()


coeffs = train_model(18, lr=0.1)
linear_printed = printed[:]
coeffs_shown = {k: round(v.item(), 4) for k, v in zip(indep_cols, coeffs.requires_grad_(False))}
linear_acc = acc(coeffs).item()


def calc_preds(coeffs, indeps):  # noqa: F811
    return torch.sigmoid((indeps * coeffs).sum(axis=1))


printed.clear()
coeffs = train_model(lr=100)
sigmoid_acc = acc(coeffs).item()
sigmoid_printed = printed[:]

# the matrix form
trn_dep = trn_dep[:, None]
val_dep = val_dep[:, None]


def calc_preds(coeffs, indeps):  # noqa: F811
    return torch.sigmoid(indeps @ coeffs)


def init_coeffs():  # noqa: F811
    return (torch.rand(n_coeff, 1) * 0.1).requires_grad_()


printed.clear()
coeffs = train_model(lr=100)
matrix_acc = acc(coeffs).item()
matrix_printed = printed[:]


# a neural net with one hidden layer
def init_coeffs(n_hidden=8):  # noqa: F811
    layer1 = (torch.rand(n_coeff, n_hidden) - 0.5) / n_hidden
    layer2 = torch.rand(n_hidden, 1) - 0.3
    const = torch.rand(1)[0]
    return layer1.requires_grad_(), layer2.requires_grad_(), const.requires_grad_()


def calc_preds(coeffs, indeps):  # noqa: F811
    l1, l2, const = coeffs
    res = F.relu(indeps @ l1)
    res = res @ l2 + const
    return torch.sigmoid(res)


def update_coeffs(coeffs, lr):  # noqa: F811
    for layer in coeffs:
        layer.sub_(layer.grad * lr)
        layer.grad.zero_()


printed.clear()
coeffs = train_model(lr=3)
nn_acc = acc(coeffs).item()
nn_printed = printed[:]
const_is_leaf = coeffs[2].is_leaf and coeffs[2].dim() == 0


# the deep learning version
def init_coeffs():  # noqa: F811
    hiddens = [6, 6]
    sizes = [n_coeff] + hiddens + [1]
    n = len(sizes)
    layers = [(torch.rand(sizes[i], sizes[i + 1]) - 0.3) / sizes[i + 1] * 4 for i in range(n - 1)]
    consts = [(torch.rand(1)[0] - 0.5) * 0.1 for i in range(n - 1)]
    for layer in layers + consts:
        layer.requires_grad_()
    return layers, consts


def calc_preds(coeffs, indeps):  # noqa: F811
    layers, consts = coeffs
    n = len(layers)
    res = indeps
    for i, layer in enumerate(layers):
        res = res @ layer + consts[i]
        if i != n - 1:
            res = F.relu(res)
    return torch.sigmoid(res)


def update_coeffs(coeffs, lr):  # noqa: F811
    layers, consts = coeffs
    for layer in layers + consts:
        layer.sub_(layer.grad * lr)
        layer.grad.zero_()


printed.clear()
coeffs = train_model(lr=4)
deep_acc = acc(coeffs).item()
deep_printed = printed[:]
