"""Reference models built only from minigrad's public API.

- :class:`MLP` — multilayer perceptron classifier;
- :class:`Autoencoder`, :class:`DenoisingAutoencoder`, :class:`VAE` — dense autoencoders;
- :class:`LeNet` — a small convolutional classifier;
- :class:`GPT` (with :class:`GPTConfig`) — a decoder-only transformer language model;
- :func:`prepare_for_finetuning`, :func:`count_parameters` — full, head-only, adapter and LoRA
  fine-tuning of a pretrained MLP.
"""

from .autoencoder import VAE, Autoencoder, DenoisingAutoencoder
from .cnn import LeNet
from .finetune import METHODS, count_parameters, prepare_for_finetuning
from .gpt import GPT, GPTConfig
from .mlp import MLP

__all__ = [
    "GPT",
    "METHODS",
    "MLP",
    "VAE",
    "Autoencoder",
    "DenoisingAutoencoder",
    "GPTConfig",
    "LeNet",
    "count_parameters",
    "prepare_for_finetuning",
]
