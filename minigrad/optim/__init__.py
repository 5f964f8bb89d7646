"""Optimizers with PyTorch's ``torch.optim`` names, defaults and update rules; schedulers."""

from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, Adamax, AdamW, NAdam
from .lbfgs import LBFGS
from .lion import Lion
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = [
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "LBFGS",
    "Lion",
    "NAdam",
    "Optimizer",
    "RMSprop",
    "lr_scheduler",
]
