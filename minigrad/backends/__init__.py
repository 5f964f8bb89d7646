"""``minigrad.backends``, as ``torch.backends``: the switches PyTorch programs set at the top
(``torch.backends.cudnn.benchmark = True``, ``torch.backends.cuda.matmul.allow_tf32 = True``).

minigrad runs convolutions as im2col + matrix products on NumPy or CuPy and never calls
cuDNN, and CuPy fixes its TF32 mode when it starts (``CUPY_TF32``), so these flags are
accepted and kept but change nothing; each one's docstring says so.
"""

from . import cuda, cudnn, mha, mkldnn, mps, quantized

__all__ = ["cuda", "cudnn", "mha", "mkldnn", "mps", "quantized"]
