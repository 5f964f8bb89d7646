"""``torch.utils.model_zoo``: the old home of ``load_url``, which pretrained-model code written
for PyTorch 1.x still calls; it is :func:`minigrad.hub.load_state_dict_from_url`."""

from ..hub import load_state_dict_from_url as load_url

__all__ = ["load_url"]
