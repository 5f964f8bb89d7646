"""``minigrad.func``: composable function transforms, as ``torch.func``.

``grad``, ``grad_and_value``, ``vjp``, ``jvp``, ``jacrev``, ``jacfwd``, ``hessian``,
``functional_call`` and ``vmap`` (with batching rules per op); ``linearize``, ``functionalize``
and ``replace_all_batch_norm_modules_``; ``rearrange`` (einops patterns). They compose:
``vmap(grad(loss), in_dims=(None, 0, 0))(params, x, y)`` gives per-sample gradients.
"""

import sys as _sys

from .. import autograd as _autograd
from . import autograd_functional as _autograd_functional
from ._eager import functionalize, linearize, replace_all_batch_norm_modules_
from ._einops import rearrange
from ._transforms import grad, grad_and_value, hessian, jacfwd, jacrev, jvp, vjp
from .functional_call import functional_call, stack_module_state
from .vmap import vmap

__all__ = [
    "functional_call",
    "functionalize",
    "linearize",
    "replace_all_batch_norm_modules_",
    "grad",
    "grad_and_value",
    "hessian",
    "jacfwd",
    "jacrev",
    "jvp",
    "rearrange",
    "stack_module_state",
    "vjp",
    "vmap",
]

# torch.autograd.functional's path: minigrad.autograd.functional (kept here, above autograd)
_sys.modules["minigrad.autograd.functional"] = _autograd_functional
_autograd.functional = _autograd_functional
