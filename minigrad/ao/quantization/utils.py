"""Small helpers of ``torch.ao.quantization.utils``."""

from __future__ import annotations

import functools

from ..._warnings import warn_user

# PyTorch 2.13's words, which its eager and FX entry points (prepare, convert, quantize,
# quantize_dynamic, prepare_qat, quantize_qat, prepare_fx, prepare_qat_fx, convert_fx) give as a
# DeprecationWarning at every call
DEPRECATION_WARNING = (
    "torch.ao.quantization is deprecated and will be removed in 2.10. \n"
    "For migrations of users: \n"
    "1. Eager mode quantization (torch.ao.quantization.quantize, "
    "torch.ao.quantization.quantize_dynamic), please migrate to use torchao eager mode "
    "quantize_ API instead \n"
    "2. FX graph mode quantization (torch.ao.quantization.quantize_fx.prepare_fx,"
    "torch.ao.quantization.quantize_fx.convert_fx, please migrate to use torchao pt2e "
    "quantization API instead (prepare_pt2e, convert_pt2e) \n"
    "3. pt2e quantization has been migrated to torchao "
    "(https://github.com/pytorch/ao/tree/main/torchao/quantization/pt2e) \n"
    "see https://github.com/pytorch/ao/issues/2259 for more details"
)


def deprecated_entry_point(fn):
    """Warn :data:`DEPRECATION_WARNING` (a DeprecationWarning at the caller's line) on each call
    of ``fn``, as PyTorch's ``typing_extensions.deprecated`` entry points do."""

    @functools.wraps(fn)
    def warned(*args, **kwargs):
        warn_user(DEPRECATION_WARNING, DeprecationWarning)
        return fn(*args, **kwargs)

    return warned


__all__ = ["get_combined_dict"]


def get_combined_dict(default_dict: dict, additional_dict: dict) -> dict:
    """A new dict of ``default_dict``'s items updated with ``additional_dict``'s (its values
    win), as the quantization tables combine defaults with a user's additions.

    Example:
        >>> get_combined_dict(dict(a=1, b=1), dict(b=2, c=3))
        {'a': 1, 'b': 2, 'c': 3}
    """
    combined = default_dict.copy()
    combined.update(additional_dict)
    return combined
