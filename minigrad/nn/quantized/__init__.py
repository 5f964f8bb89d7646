"""``minigrad.nn.quantized``: PyTorch's older name of :mod:`minigrad.ao.nn.quantized` (the same
package and subpackage objects)."""

import sys as _sys

from ...ao.nn import quantized as _target

_prefix = _target.__name__
for _name, _module in list(_sys.modules.items()):
    if _name == _prefix or _name.startswith(_prefix + "."):
        _sys.modules[__name__ + _name[len(_prefix) :]] = _module
