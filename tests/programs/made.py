"""MADE: Masked Autoencoder for Distribution Estimation, as karpathy/pytorch-made writes it:
MaskedLinear (an nn.Linear with a registered 'mask' buffer applied in forward by
F.linear(input, self.mask * self.weight, self.bias)), connectivity orderings drawn with a
seeded numpy RandomState, masks built from the m^l vectors, order-agnostic training with
several orderings (update_masks), the autoregressive property verified by the Jacobian
sparsity of outputs with respect to inputs (torch.autograd), and binary log-likelihood
training on a synthetic correlated binary dataset with BCE-with-logits."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


class MaskedLinear(nn.Linear):
    """same as Linear except has a configurable mask on the weights"""

    def __init__(self, in_features, out_features, bias=True):
        super().__init__(in_features, out_features, bias)
        self.register_buffer("mask", torch.ones(out_features, in_features))

    def set_mask(self, mask):
        self.mask.data.copy_(torch.from_numpy(mask.astype(np.uint8).T))

    def forward(self, input):
        return F.linear(input, self.mask * self.weight, self.bias)


class MADE(nn.Module):
    def __init__(self, nin, hidden_sizes, nout, num_masks=1, natural_ordering=False):
        super().__init__()
        self.nin = nin
        self.nout = nout
        self.hidden_sizes = hidden_sizes
        assert self.nout % self.nin == 0, "nout must be integer multiple of nin"

        # define a simple MLP neural net
        self.net = []
        hs = [nin] + hidden_sizes + [nout]
        for h0, h1 in zip(hs, hs[1:]):
            self.net.extend([MaskedLinear(h0, h1), nn.ReLU()])
        self.net.pop()  # pop the last ReLU for the output layer
        self.net = nn.Sequential(*self.net)

        # seeds for orders/connectivities of the model ensemble
        self.natural_ordering = natural_ordering
        self.num_masks = num_masks
        self.seed = 0  # for cycling through num_masks orderings

        self.m = {}
        self.update_masks()  # builds the initial self.m connectivity
        # note, we could also precompute the masks and cache them, but this
        # could get memory expensive for large number of masks.

    def update_masks(self):
        if self.m and self.num_masks == 1:
            return  # only a single seed, skip for efficiency
        L = len(self.hidden_sizes)

        # fetch the next seed and construct a random stream
        rng = np.random.RandomState(self.seed)
        self.seed = (self.seed + 1) % self.num_masks

        # sample the order of the inputs and the connectivity of all neurons
        self.m[-1] = np.arange(self.nin) if self.natural_ordering else rng.permutation(self.nin)
        for l in range(L):  # noqa: E741
            self.m[l] = rng.randint(self.m[l - 1].min(), self.nin - 1, size=self.hidden_sizes[l])

        # construct the mask matrices
        masks = [self.m[l - 1][:, None] <= self.m[l][None, :] for l in range(L)]  # noqa: E741
        masks.append(self.m[L - 1][:, None] < self.m[-1][None, :])

        # handle the case where nout = nin * k, for integer k > 1
        if self.nout > self.nin:
            k = int(self.nout / self.nin)
            # replicate the mask across the other outputs
            masks[-1] = np.concatenate([masks[-1]] * k, axis=1)

        # set the masks in all MaskedLinear layers
        layers = [layer for layer in self.net.modules() if isinstance(layer, MaskedLinear)]
        for layer, m in zip(layers, masks):
            layer.set_mask(m)

    def forward(self, x):
        return self.net(x)


def check_autoregressive(model, nin):
    """Output d may depend only on inputs that come before d in the ordering."""
    x = torch.rand(1, nin, requires_grad=True)
    res = []
    for k in range(nin):
        xtr = model(x)
        loss = xtr[0, k]
        loss.backward()
        depends = (x.grad[0] != 0).numpy().astype(np.uint8)
        depends_ix = list(np.where(depends)[0])
        isok = k not in depends_ix
        res.append((len(depends_ix), k, depends_ix, isok))
        x.grad.zero_()
    return res


D = 10
model = MADE(D, [64, 64], D, num_masks=4, natural_ordering=False)
res = check_autoregressive(model, D)
# one input has no dependencies, and each dependency set is a strict prefix of the ordering
dependency_counts = sorted(r[0] for r in res)
autoregressive_ok = all(r[3] for r in res)
masked_layers = [layer for layer in model.net.modules() if isinstance(layer, MaskedLinear)]
connectivity = masked_layers[0].mask.float().T
for layer in masked_layers[1:]:
    connectivity = connectivity @ layer.mask.float().T  # paths from input i to output j
mask_counts = sorted((connectivity > 0).sum(0).tolist())  # each output's allowed inputs
print(f"dependency counts {dependency_counts}, autoregressive {autoregressive_ok}")

# Data: correlated bits, x_d = x_{d-1} xor noise(0.1), x_0 ~ Bernoulli(0.5)
n = 512
bits = torch.zeros(n, D)
bits[:, 0] = torch.bernoulli(torch.full((n,), 0.5))
for d in range(1, D):
    flip = torch.bernoulli(torch.full((n,), 0.1))
    bits[:, d] = (bits[:, d - 1] + flip) % 2
train_x, test_x = bits[:400], bits[400:]

opt = torch.optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-4)
history = []
for epoch in range(12):
    model.train()
    for i in range(0, 400, 50):
        model.update_masks()  # a different ordering per batch (order-agnostic training)
        xb = train_x[i : i + 50]
        logits = model(xb)
        loss = F.binary_cross_entropy_with_logits(logits, xb, reduction="sum") / xb.size(0)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        nlls = []
        for _ in range(model.num_masks):  # ensemble over the orderings
            model.update_masks()
            nlls.append(
                F.binary_cross_entropy_with_logits(model(test_x), test_x, reduction="none").sum(1)
            )
        history.append(torch.stack(nlls).mean().item())
    if epoch % 4 == 0:
        print(f"epoch {epoch}: test nll {history[-1]:.3f} nats")
# the data's entropy: log 2 + 9 * H(0.1)
entropy = float(np.log(2) + 9 * -(0.1 * np.log(0.1) + 0.9 * np.log(0.9)))
print(f"final test nll {history[-1]:.3f}, data entropy {entropy:.3f}, uniform {D * np.log(2):.3f}")
mask_dtype = model.net[0].mask.dtype
