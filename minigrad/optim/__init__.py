"""Optimizers with PyTorch's ``torch.optim`` names, defaults and update rules; schedulers."""

from . import lr_scheduler, swa_utils
from ._adafactor import Adafactor
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, Adamax, AdamW, NAdam
from .asgd import ASGD
from .lbfgs import LBFGS
from .lion import Lion
from .muon import Muon
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD
from .sparse_adam import SparseAdam

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
    "swa_utils",
    # -- branch optimutils
    "ASGD",
    "Adafactor",
    "RAdam",
    "Rprop",
    # -- branch sparse
    "SparseAdam",
    # -- branch surface
    "Muon",
]
