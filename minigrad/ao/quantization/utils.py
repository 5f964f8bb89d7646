"""Small helpers of ``torch.ao.quantization.utils``."""

from __future__ import annotations

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
