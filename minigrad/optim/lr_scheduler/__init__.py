"""Learning-rate schedulers with ``torch.optim.lr_scheduler``'s names, formulas and state.

Each scheduler changes ``group["lr"]`` of its optimizer's param groups when ``step()`` is
called (once per epoch or per batch, after ``optimizer.step()``). The formulas are PyTorch's
own, including its recursive ("chainable") forms, so that the learning rates match PyTorch's
to the last bit and several schedulers can act on one optimizer.

Example:
    >>> opt = minigrad.optim.SGD(model.parameters(), lr=0.1)
    >>> sched = minigrad.optim.lr_scheduler.StepLR(opt, step_size=30, gamma=0.1)
    >>> for epoch in range(100):
    ...     train(...); opt.step(); sched.step()
"""

from .annealing import CosineAnnealingLR, OneCycleLR
from .base import LRScheduler, _LRScheduler
from .cyclic import CosineAnnealingWarmRestarts, CyclicLR
from .plateau import ReduceLROnPlateau
from .sequential import ChainedScheduler, SequentialLR
from .simple import (  # branch optimutils
    ConstantLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    MultiplicativeLR,
    MultiStepLR,
    PolynomialLR,
    StepLR,
)

__all__ = [
    "ChainedScheduler",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "OneCycleLR",
    "PolynomialLR",
    "ReduceLROnPlateau",
    "SequentialLR",
    "StepLR",
    # -- branch optimutils
    "ConstantLR",
    "MultiplicativeLR",
]

# PyTorch's schedulers live in one module, and code checks it (d2l's training loops tell a
# built-in scheduler from their own by ``scheduler.__module__ == torch.optim.lr_scheduler
# .__name__``): the classes carry this package's name, not their submodules'.
for _name in (*__all__, "_LRScheduler"):
    globals()[_name].__module__ = __name__
del _name
