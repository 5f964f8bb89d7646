"""``torch._subclasses``: PyTorch's tensor subclasses for tracing (fake tensors). minigrad has
none; :mod:`.fake_tensor` answers the one question libraries ask of them, ``is_fake``."""
