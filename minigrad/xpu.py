"""``minigrad.xpu``, as ``torch.xpu`` in a PyTorch built without Intel GPUs: probing says not
available, seeding is accepted, anything else raises (see :mod:`minigrad._absent_device`)."""

from ._absent_device import absent_device_functions, absent_device_getattr

globals().update(absent_device_functions("xpu"))
__getattr__ = absent_device_getattr("xpu")
