"""Karpathy's makemore part 3 ("Building makemore: activations & gradients, BatchNorm"), in the
"torchified" form of the lecture: hand-written ``Linear``, ``BatchNorm1d`` and ``Tanh`` classes
that keep their output in ``self.out`` (``self.out += self.bias`` on a non-leaf), a deep
stack of them with the last layer's ``gamma`` shrunk and the hidden weights scaled by the
tanh gain 5/3 under ``torch.no_grad()``, ``layer.out.retain_grad()`` before every backward, the
update-to-data ratios ``((lr * p.grad).std() / p.data.std()).log10()`` collected per step, and
the lecture's diagnostics printed with ``%`` formatting of 0-dim tensors: each tanh layer's
mean, std and saturation percentage, its gradient's statistics, the 2-D weights' grad:data
ratios, ``torch.histogram(t, density=True)`` of the activations, then the eval-mode losses with
the running statistics."""

import torch
import torch.nn.functional as F

words = (
    "noah liam mason jacob william ethan michael alexander james daniel elijah benjamin "
    "logan aiden jayden matthew jackson david lucas joseph anthony andrew samuel gabriel "
    "joshua john carter luke dylan christopher isaac oliver henry sebastian caleb owen "
    "ryan nathan wyatt hunter jack christian landon jonathan levi jaxon julian isaiah eli"
).split()
chars = sorted(list(set("".join(words))))
stoi = {s: i + 1 for i, s in enumerate(chars)}
stoi["."] = 0
itos = {i: s for s, i in stoi.items()}
vocab_size = len(itos)
block_size = 3


def build_dataset(words):
    X, Y = [], []
    for w in words:
        context = [0] * block_size
        for ch in w + ".":
            ix = stoi[ch]
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]
    return torch.tensor(X), torch.tensor(Y)


Xtr, Ytr = build_dataset(words[:44])
Xdev, Ydev = build_dataset(words[44:])
g = torch.Generator().manual_seed(2147483647)


class Linear:
    def __init__(self, fan_in, fan_out, bias=True):
        self.weight = torch.randn((fan_in, fan_out), generator=g) / fan_in**0.5
        self.bias = torch.zeros(fan_out) if bias else None

    def __call__(self, x):
        self.out = x @ self.weight
        if self.bias is not None:
            self.out += self.bias
        return self.out

    def parameters(self):
        return [self.weight] + ([] if self.bias is None else [self.bias])


class BatchNorm1d:
    def __init__(self, dim, eps=1e-5, momentum=0.1):
        self.eps = eps
        self.momentum = momentum
        self.training = True
        self.gamma = torch.ones(dim)
        self.beta = torch.zeros(dim)
        self.running_mean = torch.zeros(dim)
        self.running_var = torch.ones(dim)

    def __call__(self, x):
        if self.training:
            xmean = x.mean(0, keepdim=True)
            xvar = x.var(0, keepdim=True)
        else:
            xmean = self.running_mean
            xvar = self.running_var
        xhat = (x - xmean) / torch.sqrt(xvar + self.eps)
        self.out = self.gamma * xhat + self.beta
        if self.training:
            with torch.no_grad():
                self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * xmean
                self.running_var = (1 - self.momentum) * self.running_var + self.momentum * xvar
        return self.out

    def parameters(self):
        return [self.gamma, self.beta]


class Tanh:
    def __call__(self, x):
        self.out = torch.tanh(x)
        return self.out

    def parameters(self):
        return []


n_embd, n_hidden = 8, 24
C = torch.randn((vocab_size, n_embd), generator=g)
layers = [
    Linear(n_embd * block_size, n_hidden, bias=False), BatchNorm1d(n_hidden), Tanh(),
    Linear(n_hidden, n_hidden, bias=False), BatchNorm1d(n_hidden), Tanh(),
    Linear(n_hidden, n_hidden), Tanh(),
    Linear(n_hidden, vocab_size, bias=False), BatchNorm1d(vocab_size),
]  # fmt: skip
with torch.no_grad():
    layers[-1].gamma *= 0.1
    for layer in layers[:-1]:
        if isinstance(layer, Linear):
            layer.weight *= 5 / 3

parameters = [C] + [p for layer in layers for p in layer.parameters()]
n_params = sum(p.nelement() for p in parameters)
for p in parameters:
    p.requires_grad = True

max_steps, batch_size = 30, 32
lossi, ud = [], []
for i in range(max_steps):
    ix = torch.randint(0, Xtr.shape[0], (batch_size,), generator=g)
    Xb, Yb = Xtr[ix], Ytr[ix]
    emb = C[Xb]
    x = emb.view(emb.shape[0], -1)
    for layer in layers:
        x = layer(x)
    loss = F.cross_entropy(x, Yb)
    for layer in layers:
        layer.out.retain_grad()
    for p in parameters:
        p.grad = None
    loss.backward()
    lr = 1.0 if i < 20 else 0.1
    for p in parameters:
        p.data += -lr * p.grad
    lossi.append(loss.log10().item())
    with torch.no_grad():
        ud.append([((lr * p.grad).std() / p.data.std()).log10().item() for p in parameters])

activation_lines, gradient_lines, weight_lines, saturations, hist_peaks = [], [], [], [], []
grad_stds, grad_data_ratios = [], []
for i, layer in enumerate(layers[:-1]):
    if isinstance(layer, Tanh):
        t = layer.out
        activation_lines.append(
            "layer %d (%10s): mean %+.2f, std %.2f, saturated: %.2f%%"
            % (
                i,
                layer.__class__.__name__,
                t.mean(),
                t.std(),
                (t.abs() > 0.97).float().mean() * 100,
            )
        )
        saturations.append((t.abs() > 0.97).float().mean().item())
        hy, hx = torch.histogram(t, density=True)
        hist_peaks.append([hy.max().item(), hx[0].item(), hx[-1].item(), len(hx)])
        t = layer.out.grad
        grad_stds.append(t.std().item())
        gradient_lines.append(
            "layer %d (%10s): mean %+f, std %e" % (i, layer.__class__.__name__, t.mean(), t.std())
        )
for i, p in enumerate(parameters):
    t = p.grad
    if p.ndim == 2:
        grad_data_ratios.append((t.std() / p.std()).item())
        weight_lines.append(
            "weight %10s | mean %+f | std %e | grad:data ratio %e"
            % (tuple(p.shape), t.mean(), t.std(), t.std() / p.std())
        )
last_ud = ud[-1]


@torch.no_grad()
def split_loss(split):
    x, y = {"train": (Xtr, Ytr), "val": (Xdev, Ydev)}[split]
    emb = C[x]
    x = emb.view(emb.shape[0], -1)
    for layer in layers:
        x = layer(x)
    return F.cross_entropy(x, y).item()


for layer in layers:
    layer.training = False
split_losses = [split_loss("train"), split_loss("val")]
running_var_sample = layers[1].running_var[0, :4].tolist()
