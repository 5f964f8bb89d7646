"""``torch.__future__``: switches for behaviour that PyTorch plans to make the default, here the
two that choose how ``nn.Module`` conversions (``.to()``, ``.half()``, ``.cuda()``,
``to_empty``) and ``load_state_dict`` replace parameters.

Named ``__future__`` inside the package as in PyTorch; imports are absolute, so
``from __future__ import annotations`` elsewhere still means Python's.
"""

from __future__ import annotations

_overwrite_module_params_on_conversion: bool = False
_swap_module_params_on_conversion: bool = False


def set_overwrite_module_params_on_conversion(value: bool) -> None:
    """Whether converting an ``nn.Module`` (``module.to``, ``.half()``, ``.cuda()``,
    ``to_empty``) assigns new Parameter objects instead of changing the existing parameters'
    data in place (so references held elsewhere, an optimizer's, keep the old ones)."""
    global _overwrite_module_params_on_conversion
    _overwrite_module_params_on_conversion = bool(value)


def get_overwrite_module_params_on_conversion() -> bool:
    """See :func:`set_overwrite_module_params_on_conversion` (default ``False``)."""
    return _overwrite_module_params_on_conversion


def set_swap_module_params_on_conversion(value: bool) -> None:
    """Whether module conversions and ``load_state_dict`` use
    :func:`minigrad.utils.swap_tensors` instead of setting ``.data`` / ``copy_``: each
    parameter (and its ``.grad``) keeps its identity and takes the converted tensor's contents,
    class and ``__dict__``. ``load_state_dict`` swaps every parameter and buffer with
    ``param.module_load(state_dict[key], assign=assign)`` (wrapped in a Parameter where the
    module's is one). Takes precedence over :func:`set_overwrite_module_params_on_conversion`.
    """
    global _swap_module_params_on_conversion
    _swap_module_params_on_conversion = bool(value)


def get_swap_module_params_on_conversion() -> bool:
    """See :func:`set_swap_module_params_on_conversion` (default ``False``)."""
    return _swap_module_params_on_conversion
