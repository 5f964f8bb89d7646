"""``torch._tensor_str``: the print options (``PRINT_OPTS``, which libraries read, as PyG's
``.off`` writer reads ``PRINT_OPTS.threshold``) and the values part of a tensor's repr
(``_tensor_str``). The printing itself is :mod:`minigrad._format`'s."""

from ._format import OPTIONS as PRINT_OPTS
from ._format import get_printoptions, printoptions, set_printoptions
from ._format import tensor_str as _tensor_str

__all__ = ["PRINT_OPTS", "get_printoptions", "printoptions", "set_printoptions"]
_ = _tensor_str  # PyTorch's private name, imported by libraries
