"""``minigrad.backends``, as ``torch.backends``: the switches PyTorch programs set at the top
(``torch.backends.cudnn.benchmark = True``, ``torch.backends.cuda.matmul.allow_tf32 = True``).

minigrad runs convolutions as im2col + matrix products on NumPy or CuPy and never calls
cuDNN, and CuPy fixes its TF32 mode when it starts (``CUPY_TF32``), so these flags are
accepted and kept but change nothing; each one's docstring says so.
"""

import contextlib

from . import cuda, cudnn, mha, mkldnn, mps, quantized

__all__ = ["cuda", "cudnn", "mha", "mkldnn", "mps", "quantized"]


def flags_frozen() -> bool:
    """Whether the backend flags refuse plain assignment: never here (PyTorch freezes them
    only after its private ``disable_global_flags()``, which minigrad does not have)."""
    return False


@contextlib.contextmanager
def __allow_nonbracketed_mutation():  # PyTorch's private name (monai calls it)
    """PyTorch's context in which frozen flags may be assigned; the flags are never frozen
    here (:func:`flags_frozen`), so assignment inside it is assignment as anywhere."""
    yield
