"""``minigrad.mtia``, as ``torch.mtia`` in a PyTorch built without Meta's MTIA accelerators: probing
says not available, seeding is accepted, anything else raises (see
:mod:`minigrad._absent_device`)."""

from ._absent_device import absent_device_functions, absent_device_getattr

globals().update(absent_device_functions("mtia"))
__getattr__ = absent_device_getattr("mtia")
