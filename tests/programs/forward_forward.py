"""Hinton's forward-forward algorithm (pytorch/examples mnist_forward_forward, tiny): each layer
is trained on its own with a local "goodness" loss, positive data (the input with its true label
one-hot written into the first pixels) pushed above a threshold and negative data (a wrong label)
below it; no gradient flows between layers (``detach``), prediction picks the label whose
overlay gives the most goodness over all layers."""

import numpy as np
import torch
import torch.nn as nn
from numpy_init import init_from_numpy, randn

rng = np.random.default_rng(0)
num_classes, dim = 4, 16
prototypes = randn(rng, num_classes, dim)
labels = torch.from_numpy(rng.integers(0, num_classes, 96).astype(np.int64))
x = prototypes[labels] + 0.5 * randn(rng, 96, dim)


def overlay_y_on_x(x, y):
    x_ = x.clone()
    x_[:, :num_classes] *= 0.0
    x_[range(x.shape[0]), y] = x.max()
    return x_


class Layer(nn.Linear):
    def __init__(self, in_features, out_features):
        super().__init__(in_features, out_features)
        self.relu = torch.nn.ReLU()
        self.opt = torch.optim.Adam(self.parameters(), lr=0.03)
        self.threshold = 2.0
        self.num_epochs = 40

    def forward(self, x):
        x_direction = x / (x.norm(2, 1, keepdim=True) + 1e-4)
        return self.relu(torch.mm(x_direction, self.weight.T) + self.bias.unsqueeze(0))

    def train(self, x_pos, x_neg):
        losses = []
        for i in range(self.num_epochs):
            g_pos = self.forward(x_pos).pow(2).mean(1)
            g_neg = self.forward(x_neg).pow(2).mean(1)
            loss = torch.log(
                1 + torch.exp(torch.cat([-g_pos + self.threshold, g_neg - self.threshold]))
            ).mean()
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
            losses.append(loss.item())
        return self.forward(x_pos).detach(), self.forward(x_neg).detach(), losses


class Net(torch.nn.Module):
    def __init__(self, dims):
        super().__init__()
        self.layers = [
            init_from_numpy(Layer(dims[d], dims[d + 1]), d) for d in range(len(dims) - 1)
        ]

    def predict(self, x):
        goodness_per_label = []
        for label in range(num_classes):
            h = overlay_y_on_x(x, label)
            goodness = []
            for layer in self.layers:
                h = layer(h)
                goodness += [h.pow(2).mean(1)]
            goodness_per_label += [sum(goodness).unsqueeze(1)]
        return torch.cat(goodness_per_label, 1).argmax(1)

    def train(self, x_pos, x_neg):
        h_pos, h_neg = x_pos, x_neg
        layer_losses = []
        for layer in self.layers:
            h_pos, h_neg, losses = layer.train(h_pos, h_neg)
            layer_losses.append(losses)
        return layer_losses


net = Net([dim, 32, 32])
x_pos = overlay_y_on_x(x, labels)
wrong = (labels + torch.from_numpy(rng.integers(1, num_classes, 96).astype(np.int64))) % num_classes
x_neg = overlay_y_on_x(x, wrong)
layer_losses = net.train(x_pos, x_neg)
accuracy = net.predict(x).eq(labels).float().mean().item()
overlay_ok = bool((x_pos[:, :num_classes].argmax(1) == labels).all())
