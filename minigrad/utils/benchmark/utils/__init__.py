"""The modules of ``minigrad.utils.benchmark`` at PyTorch's paths (``utils.common``,
``utils.timer``, ``utils.compare``)."""
