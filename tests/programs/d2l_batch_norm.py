"""Batch normalisation from scratch as d2l.ai's chapter 8 writes it: a ``batch_norm`` function
that branches on ``torch.is_grad_enabled()`` (prediction mode uses the moving statistics),
takes means over ``dim=(0, 2, 3), keepdim=True`` for convolutions and ``dim=0`` for dense
layers, and updates ``moving_mean``/``moving_var`` by ``momentum * moving + (1 - momentum) *
batch``; a ``BatchNorm`` module holding ``gamma``/``beta`` as ``nn.Parameter`` and the moving
statistics as plain tensors moved with ``.to(X.device)``; LeNet with these layers trained on
tiny 1x14x14 images, and the same net with ``nn.BatchNorm2d``/``nn.BatchNorm1d`` (whose
momentum is ``1 - 0.9``) given the same weights, compared layer by layer, with the
``torch.no_grad()`` predictions using the running statistics."""

import torch
from torch import nn

torch.manual_seed(0)


def batch_norm(X, gamma, beta, moving_mean, moving_var, eps, momentum):
    # Use is_grad_enabled to determine whether we are in training mode
    if not torch.is_grad_enabled():
        # In prediction mode, use mean and variance obtained by moving average
        X_hat = (X - moving_mean) / torch.sqrt(moving_var + eps)
    else:
        assert len(X.shape) in (2, 4)
        if len(X.shape) == 2:
            # When using a fully connected layer, calculate the mean and variance on the
            # feature dimension
            mean = X.mean(dim=0)
            var = ((X - mean) ** 2).mean(dim=0)
        else:
            # When using a two-dimensional convolutional layer, calculate the mean and
            # variance on the channel dimension (axis=1).
            mean = X.mean(dim=(0, 2, 3), keepdim=True)
            var = ((X - mean) ** 2).mean(dim=(0, 2, 3), keepdim=True)
        # In training mode, the current mean and variance are used
        X_hat = (X - mean) / torch.sqrt(var + eps)
        # Update the mean and variance using moving average
        moving_mean = momentum * moving_mean + (1.0 - momentum) * mean
        moving_var = momentum * moving_var + (1.0 - momentum) * var
    Y = gamma * X_hat + beta  # Scale and shift
    return Y, moving_mean.data, moving_var.data


class BatchNorm(nn.Module):
    # num_features: the number of outputs for a fully connected layer or the number of
    # output channels for a convolutional layer. num_dims: 2 for a fully connected layer
    # and 4 for a convolutional layer
    def __init__(self, num_features, num_dims):
        super().__init__()
        if num_dims == 2:
            shape = (1, num_features)
        else:
            shape = (1, num_features, 1, 1)
        # The scale parameter and the shift parameter (model parameters) are initialized to
        # 1 and 0, respectively
        self.gamma = nn.Parameter(torch.ones(shape))
        self.beta = nn.Parameter(torch.zeros(shape))
        # The variables that are not model parameters are initialized to 0 and 1
        self.moving_mean = torch.zeros(shape)
        self.moving_var = torch.ones(shape)

    def forward(self, X):
        # If X is not on the main memory, copy moving_mean and moving_var to the device
        # where X is located
        if self.moving_mean.device != X.device:
            self.moving_mean = self.moving_mean.to(X.device)
            self.moving_var = self.moving_var.to(X.device)
        # Save the updated moving_mean and moving_var
        Y, self.moving_mean, self.moving_var = batch_norm(
            X, self.gamma, self.beta, self.moving_mean, self.moving_var, eps=1e-5, momentum=0.9
        )
        return Y


def lenet(bn2d, bn1d):
    return nn.Sequential(
        nn.Conv2d(1, 4, kernel_size=3), bn2d(4), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(4, 8, kernel_size=3), bn2d(8), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2), nn.Flatten(),
        nn.Linear(8 * 2 * 2, 24), bn1d(24), nn.Sigmoid(),
        nn.Linear(24, 3),
    )  # fmt: skip


scratch = lenet(lambda c: BatchNorm(c, num_dims=4), lambda c: BatchNorm(c, num_dims=2))
concise = lenet(nn.BatchNorm2d, nn.BatchNorm1d)
for module in concise:
    if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
        module.momentum = 0.1  # d2l's momentum 0.9 keeps 90% of the old moving average
renamed = {"gamma": "weight", "beta": "bias"}
concise.load_state_dict(
    {
        k.rsplit(".", 1)[0] + "." + renamed[k.rsplit(".", 1)[1]]
        if k.endswith(("gamma", "beta"))
        else k: v.reshape(-1) if k.endswith(("gamma", "beta")) else v
        for k, v in scratch.state_dict().items()
    },
    strict=False,
)
param_counts = [sum(p.numel() for p in n.parameters()) for n in (scratch, concise)]
buffers = [len(list(n.buffers())) for n in (scratch, concise)]

X = torch.rand(size=(2, 1, 14, 14))
shapes = []
with torch.no_grad():  # prediction mode: the moving statistics stay as they are
    for layer in scratch:
        X = layer(X)
        shapes.append((layer.__class__.__name__, tuple(X.shape)))

templates = torch.randn(3, 1, 14, 14)
labels = torch.randint(0, 3, (96,))
images = templates[labels] + 0.8 * torch.randn(96, 1, 14, 14)
losses = {"scratch": [], "concise": []}
for name, net in (("scratch", scratch), ("concise", concise)):
    trainer = torch.optim.SGD(net.parameters(), lr=1.0)
    loss = nn.CrossEntropyLoss()
    for epoch in range(6):
        for i in range(0, 96, 32):
            trainer.zero_grad()
            l = loss(net(images[i : i + 32]), labels[i : i + 32])  # noqa: E741
            l.backward()
            trainer.step()
            losses[name].append(l.item())

gamma_first = scratch[1].gamma.reshape(-1).tolist()
gamma_gap = (scratch[1].gamma.reshape(-1) - concise[1].weight).abs().max().item()
moving_mean_gap = (scratch[1].moving_mean.reshape(-1) - concise[1].running_mean).abs().max().item()
moving_var_gap = (scratch[5].moving_var.reshape(-1) - concise[5].running_var).abs().max().item()
# d2l's var is the biased one; nn.BatchNorm keeps the unbiased one in running_var
concise.eval()
with torch.no_grad():
    predict_scratch = scratch(images[:8])
    predict_concise = concise(images[:8])
predict_gap = (predict_scratch - predict_concise).abs().max().item()
accuracy = (scratch(images).argmax(1) == labels).float().mean().item()
num_batches_tracked = concise[1].num_batches_tracked.item()
