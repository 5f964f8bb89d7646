"""``torch.jit.annotations``: the typing names that TorchScript-era model code imports from it
(``from torch.jit.annotations import List, Tuple``); they are :mod:`typing`'s own."""

from typing import Any, Dict, List, Optional, Tuple, Union  # noqa: UP035 - torch's names

__all__ = ["Any", "Dict", "List", "Optional", "Tuple", "Union"]
