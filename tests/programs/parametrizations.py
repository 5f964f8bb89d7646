"""The parametrizations tutorial (torch.nn.utils.parametrize): a symmetric weight, a matrix
exponential giving orthogonal weights, register_parametrization on a Linear (original in
parametrizations.weight.original), caching, several parametrizations chained, right_inverse
for initialization, remove_parametrizations; then torch.nn.utils.parametrizations.orthogonal,
spectral_norm and weight_norm, and a small orthogonal RNN trained on a copy task."""

import torch
import torch.nn as nn
import torch.nn.utils.parametrize as P
from torch.nn.utils import parametrizations

torch.manual_seed(0)


def symmetric(X):
    return X.triu() + X.triu(1).transpose(-1, -2)


X = torch.rand(3, 3)
A = symmetric(X)
assert torch.allclose(A, A.T)  # A is symmetric


class Symmetric(nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).transpose(-1, -2)


layer = nn.Linear(3, 3)
P.register_parametrization(layer, "weight", Symmetric())
A = layer.weight
assert torch.allclose(A, A.T)  # A is symmetric
print(A)
print(layer)
print(layer.parametrizations.weight.original.shape)
symmetric_ok = bool(torch.allclose(layer.weight, layer.weight.T))


class Skew(nn.Module):
    def forward(self, X):
        A = X.triu(1)
        return A - A.transpose(-1, -2)


cnn = nn.Conv2d(in_channels=5, out_channels=8, kernel_size=3)
P.register_parametrization(cnn, "weight", Skew())
# Print a few kernels
print(cnn.weight[0, 1])
print(cnn.weight[2, 2])
skew_ok = bool(torch.allclose(cnn.weight, -cnn.weight.transpose(-1, -2)))


class CayleyMap(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.register_buffer("Id", torch.eye(n))

    def forward(self, X):
        # (I + X)(I - X)^{-1}
        return torch.linalg.solve(self.Id - X, self.Id + X)


layer = nn.Linear(3, 3)
P.register_parametrization(layer, "weight", Skew())
P.register_parametrization(layer, "weight", CayleyMap(3))
X = layer.weight
print(torch.dist(X.T @ X, torch.eye(3)))  # X is orthogonal
cayley_gap = torch.dist(X.T @ X, torch.eye(3)).item()


class MatrixExponential(nn.Module):
    def forward(self, X):
        return torch.matrix_exp(X)


layer_orthogonal = nn.Linear(3, 3)
P.register_parametrization(layer_orthogonal, "weight", Skew())
P.register_parametrization(layer_orthogonal, "weight", MatrixExponential())
X = layer_orthogonal.weight
print(torch.dist(X.T @ X, torch.eye(3)))  # X is orthogonal
expm_gap = torch.dist(X.T @ X, torch.eye(3)).item()

layer_spd = nn.Linear(3, 3)
P.register_parametrization(layer_spd, "weight", Symmetric())
P.register_parametrization(layer_spd, "weight", MatrixExponential())
X = layer_spd.weight
print(torch.dist(X, X.T))  # X is symmetric
print((torch.linalg.eigvalsh(X) > 0.0).all())  # X is positive definite
spd_ok = bool((torch.linalg.eigvalsh(X) > 0.0).all())

# Caching: the parametrized value is computed once inside the context manager
layer = nn.Linear(3, 3)
P.register_parametrization(layer, "weight", Symmetric())
calls = []
layer.parametrizations.weight[0].register_forward_hook(lambda m, i, o: calls.append(1))
with P.cached():
    foo = layer.weight  # Computes and caches the weight
    bar = layer.weight  # Uses the cached version
cached_calls = len(calls)
assert foo is bar

# Concatenating parametrizations
layer = nn.Linear(3, 3)
P.register_parametrization(layer, "weight", Skew())
P.register_parametrization(layer, "weight", CayleyMap(3))
print(layer.parametrizations.weight)
n_chained = len(layer.parametrizations.weight)


# Initializing parametrizations: right_inverse
class SkewInit(nn.Module):
    def forward(self, X):
        A = X.triu(1)
        return A - A.transpose(-1, -2)

    def right_inverse(self, A):
        # We assume that A is skew-symmetric
        # We take the upper-triangular elements, as these are those used in the forward
        return A.triu(1)


layer = nn.Linear(3, 3)
P.register_parametrization(layer, "weight", SkewInit())
X = torch.rand(3, 3)
X = X - X.T  # X is now skew-symmetric
layer.weight = X  # Initialize layer.weight to be X
print(torch.dist(layer.weight, X))  # layer.weight == X
init_gap = torch.dist(layer.weight, X).item()

# Removing parametrizations
layer = nn.Linear(3, 3)
print("Before:")
print(layer)
print(layer.weight)
P.register_parametrization(layer, "weight", Skew())
print("\nParametrized:")
print(layer)
print(layer.weight)
P.remove_parametrizations(layer, "weight", leave_parametrized=True)
print("\nAfter. Weight has skew-symmetric values but it is unconstrained:")
print(layer)
print(layer.weight)
removed_is_parameter = isinstance(layer.weight, nn.Parameter)
removed_skew = bool(torch.allclose(layer.weight, -layer.weight.T))

# The built-in parametrizations
orth = parametrizations.orthogonal(nn.Linear(6, 6))
Q = orth.weight
orthogonal_gap = (Q @ Q.T - torch.eye(6)).abs().max().item()
sn = parametrizations.spectral_norm(nn.Linear(8, 5))
for _ in range(10):  # power iterations run in training-mode forwards
    sn(torch.randn(2, 8))
sn.eval()
sigma_max = torch.linalg.matrix_norm(sn.weight, ord=2).item()
wn = parametrizations.weight_norm(nn.Linear(4, 3))
wn_keys = sorted(k for k in wn.state_dict())
wn_gap = (
    (
        wn.weight
        - wn.parametrizations.weight.original0
        * wn.parametrizations.weight.original1
        / wn.parametrizations.weight.original1.norm(dim=1, keepdim=True)
    )
    .abs()
    .max()
    .item()
)


# An orthogonal RNN on a delayed-copy task: the recurrent matrix stays orthogonal in training
class OrthoRNN(nn.Module):
    def __init__(self, hidden=16):
        super().__init__()
        self.inp = nn.Linear(2, hidden)
        self.rec = parametrizations.orthogonal(nn.Linear(hidden, hidden, bias=False))
        self.out = nn.Linear(hidden, 2)

    def forward(self, x):
        h = torch.zeros(x.shape[0], self.rec.weight.shape[0])
        outs = []
        for t in range(x.shape[1]):
            h = torch.tanh(self.inp(x[:, t]) + self.rec(h))
            outs.append(self.out(h))
        return torch.stack(outs, 1)


rnn = OrthoRNN()
opt = torch.optim.Adam(rnn.parameters(), lr=1e-2)
seq = torch.randn(32, 8, 2)
target = torch.roll(seq, shifts=2, dims=1)
target[:, :2] = 0
losses = []
for step in range(40):
    opt.zero_grad()
    loss = nn.functional.mse_loss(rnn(seq), target)
    loss.backward()
    opt.step()
    losses.append(loss.item())
W = rnn.rec.weight
rnn_orthogonal_gap = (W @ W.T - torch.eye(W.shape[0])).abs().max().item()
print(
    f"orthogonal RNN loss {losses[0]:.3f} -> {losses[-1]:.3f}, |WWᵀ - I| {rnn_orthogonal_gap:.1e}"
)
