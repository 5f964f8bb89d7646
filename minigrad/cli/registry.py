"""What ``minigrad train``, ``eval`` and ``graph`` can build: models, datasets, optimizers.

The command's models are small ``nn.Sequential`` stacks defined here rather than imported from
the top-level ``models`` package, which sits a layer above ``minigrad`` (see DESIGN.md).
"""

from __future__ import annotations

from .. import nn, optim
from ..datasets import MNIST, Digits, FashionMNIST

MODELS = {
    "mlp": "two hidden layers of 128 ReLU units",
    "linear": "softmax regression (one linear layer)",
    "cnn": "two 3x3 convolutions with ReLU and 2x2 max-pooling, then a linear layer",
}
DATASETS = {
    "digits": "UCI 8x8 digits, bundled (1,438 train / 359 test)",
    "mnist": "MNIST 28x28 digits, downloaded once (60,000 / 10,000)",
    "fashion-mnist": "Fashion-MNIST 28x28 clothes, downloaded once (60,000 / 10,000)",
}
# name -> (default learning rate, optimizer factory)
OPTIMIZERS = {
    "sgd": (0.1, lambda p, lr, wd: optim.SGD(p, lr=lr, weight_decay=wd)),
    "momentum": (0.05, lambda p, lr, wd: optim.SGD(p, lr=lr, momentum=0.9, weight_decay=wd)),
    "nesterov": (
        0.05,
        lambda p, lr, wd: optim.SGD(p, lr=lr, momentum=0.9, nesterov=True, weight_decay=wd),
    ),
    "adam": (1e-3, lambda p, lr, wd: optim.Adam(p, lr=lr, weight_decay=wd)),
    "adamw": (1e-3, lambda p, lr, wd: optim.AdamW(p, lr=lr, weight_decay=wd or 0.01)),
    "rmsprop": (1e-3, lambda p, lr, wd: optim.RMSprop(p, lr=lr, weight_decay=wd)),
    "adagrad": (0.05, lambda p, lr, wd: optim.Adagrad(p, lr=lr, weight_decay=wd)),
}


def build_model(name: str, input_shape: tuple, num_classes: int) -> nn.Module:
    """A fresh model ``name`` for images of ``input_shape`` (C, H, W) and ``num_classes``.

    Raises:
        ValueError: unknown ``name``.
    """
    c, h, w = input_shape
    if name == "linear":
        return nn.Sequential(nn.Flatten(), nn.Linear(c * h * w, num_classes))
    if name == "mlp":
        return nn.Sequential(
            nn.Flatten(),
            nn.Linear(c * h * w, 128),
            nn.ReLU(),
            nn.Linear(128, 128),
            nn.ReLU(),
            nn.Linear(128, num_classes),
        )
    if name == "cnn":
        return nn.Sequential(
            nn.Conv2d(c, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(32 * (h // 4) * (w // 4), num_classes),
        )
    raise ValueError(f"unknown model {name!r}; choose from {', '.join(MODELS)}")


def load_dataset(name: str, train: bool, device: str, download: bool = False, seed: int = 0):
    """The train or test split of dataset ``name`` as (N, C, H, W) float32 images in [0, 1].

    Raises:
        ValueError: unknown ``name``. FileNotFoundError / RuntimeError: MNIST-like data not
        cached and not downloadable.
    """
    if name == "digits":
        return Digits(train=train, seed=seed, flatten=False, device=device)
    if name == "mnist":
        return MNIST(train=train, download=download, device=device)
    if name == "fashion-mnist":
        return FashionMNIST(train=train, download=download, device=device)
    raise ValueError(f"unknown dataset {name!r}; choose from {', '.join(DATASETS)}")


def make_optimizer(name: str, params, lr: float | None, weight_decay: float):
    """The optimizer ``name`` over ``params`` (``lr=None``: that optimizer's default here)."""
    default_lr, factory = OPTIMIZERS[name]
    return factory(list(params), default_lr if lr is None else lr, weight_decay)
