"""The "Visualizing Gradients" tutorial and the "Understanding requires_grad, retain_grad, Leaf,
and Non-leaf Tensors" recipe, as written for PyTorch: ``is_leaf``/``requires_grad``/
``retains_grad`` of every tensor of ``relu(x @ W + b)`` under an MSE loss, the errors for
``backward`` without grad and ``retain_grad`` on a tensor that needs none, the warning when a
non-leaf's ``.grad`` is read, ``retain_grad()`` (the loss's own grad is 1), ``no_grad``; then
the gradient flow of a deep sigmoid MLP with and without ``BatchNorm1d``: forward hooks on
every leaf module register tensor hooks (``functools.partial``) that collect each layer's
output gradient, whose mean absolute value is reported per layer before and after training."""

import warnings
from functools import partial

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
x = torch.ones(1, 3)
W = torch.ones(3, 2, requires_grad=True)
b = torch.ones(1, 2, requires_grad=True)
y = torch.ones(1, 2)
z = (x @ W) + b
y_pred = F.relu(z)
loss = F.mse_loss(y_pred, y)
tensors = {"x": x, "W": W, "b": b, "y": y, "z": z, "y_pred": y_pred, "loss": loss}
flags = {k: (t.is_leaf, t.requires_grad, t.retains_grad) for k, t in tensors.items()}
print(f"{x.is_leaf=} {z.is_leaf=} {W.requires_grad=} {loss.requires_grad=}")

try:
    (x @ W.detach()).sum().backward()
except RuntimeError as e:
    no_grad_error = str(e)
try:
    x.retain_grad()
except RuntimeError as e:
    retain_error = str(e)

with torch.no_grad():
    z2 = (x @ W) + b
print(f"{z.requires_grad=}, {z2.requires_grad=}")
no_grad_flags = (z2.requires_grad, z2.is_leaf, z2.grad_fn is None)

loss.backward()
print(f"{W.grad=}")
print(f"{b.grad=}")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    print(f"{z.grad=}")
nonleaf_warning = (caught[0].category.__name__, "retain_grad" in str(caught[0].message))
first_grads = (W.grad.tolist(), b.grad.tolist(), x.grad, y.grad, z.grad)

z = (x @ W) + b
y_pred = F.relu(z)
loss = F.mse_loss(y_pred, y)
z.retain_grad()
y_pred.retain_grad()
loss.retain_grad()
W.retain_grad()  # a no-op on a leaf
W.grad = None
b.grad = None
loss.backward()
retained = {k: t.grad.tolist() for k, t in (("W", W), ("b", b), ("z", z), ("y_pred", y_pred))}
loss_grad = loss.grad.item()
retains_after = [t.retains_grad for t in (W, z, y_pred, loss)]


def fc_layer(in_size, out_size, norm_layer):
    return nn.Sequential(nn.Linear(in_size, out_size), norm_layer(out_size), nn.Sigmoid())


class Net(nn.Module):
    def __init__(self, in_size=16, hidden_size=32, out_size=4, num_layers=6, batchnorm=False):
        super().__init__()
        norm_layer = nn.BatchNorm1d if batchnorm else nn.Identity
        layers = [fc_layer(in_size, hidden_size, norm_layer)]
        layers += [fc_layer(hidden_size, hidden_size, norm_layer) for _ in range(num_layers - 1)]
        self.layers = nn.Sequential(*layers, nn.Linear(hidden_size, out_size))

    def forward(self, x):
        return self.layers(x)


def hook_forward(module_name, grads, hook_backward, module, args, output):
    """A forward hook that hangs a backward hook on the module's output."""
    output.register_hook(partial(hook_backward, module_name, grads))


def hook_backward(module_name, grads, grad):
    grads.append((module_name, grad))


def get_all_layers(net, hook_forward, hook_backward):
    grads = []
    for name, layer in net.named_modules():
        if any(layer.children()) is False:  # skip Sequential and other wrappers
            layer.register_forward_hook(partial(hook_forward, name, grads, hook_backward))
    return grads


inputs = torch.randn(32, 16)
labels = torch.randint(0, 4, (32,))
flows = {}
for batchnorm in (False, True):
    net = Net(batchnorm=batchnorm)
    grads = get_all_layers(net, hook_forward, hook_backward)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    curve = []
    for step in range(6):
        grads.clear()
        loss = F.cross_entropy(net(inputs), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        curve.append(loss.item())
        if step in (0, 5):
            sigmoid = [(n, g.abs().mean().item()) for n, g in grads if n.endswith(".2")]
            flows[(batchnorm, step)] = sigmoid[::-1]  # hooks run from the output backwards
    flows[(batchnorm, "loss")] = curve
    print(
        f"batchnorm={batchnorm} first/last layer grad: "
        f"{flows[(batchnorm, 0)][0][1]:.2e} / {flows[(batchnorm, 0)][-1][1]:.2e}"
    )
hooked_layers = [n for n, _ in grads]
