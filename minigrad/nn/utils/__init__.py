"""``minigrad.nn.utils``, as ``torch.nn.utils``: gradient clipping (``clip_grad``) and parameter
vectors (``convert_parameters``), packed sequences (``rnn``)."""

from . import clip_grad, convert_parameters, rnn
from .clip_grad import clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm
from .convert_parameters import parameters_to_vector, vector_to_parameters
