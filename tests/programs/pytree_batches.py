"""``torch.utils._pytree`` the way training loops use it: ``tree_map`` moving a nested batch
(dicts, lists, tuples, namedtuples) to a device and dtype, ``tree_flatten``/``tree_unflatten``
round trips, a registered container type, and gradient clipping over a tree of grads."""

import collections

import numpy as np
import torch
import torch.utils._pytree as pytree
from numpy_init import randn

Pair = collections.namedtuple("Pair", ["left", "right"])


class Box:
    def __init__(self, content, label):
        self.content, self.label = content, label


pytree.register_pytree_node(
    Box,
    lambda b: ([b.content], b.label),
    lambda children, label: Box(children[0], label),
)

rng = np.random.default_rng(3)
batch = {
    "image": randn(rng, 2, 3),
    "tokens": [torch.tensor([1, 2, 3]), torch.tensor([4, 5])],
    "pair": Pair(randn(rng, 2), torch.tensor(7)),
    "meta": {"id": 11, "name": "sample"},
    "box": Box(randn(rng, 4), "crop"),
}
device = torch.device("cpu")
moved = pytree.tree_map(
    lambda t: t.to(device, non_blocking=True) if isinstance(t, torch.Tensor) else t, batch
)
leaves, spec = pytree.tree_flatten(batch)
n_leaves = len(leaves)
leaf_kinds = [type(x).__name__ if not isinstance(x, torch.Tensor) else "Tensor" for x in leaves]
doubled = pytree.tree_unflatten([x * 2 if isinstance(x, torch.Tensor) else x for x in leaves], spec)
doubled_image = doubled["image"].flatten().tolist()
box_label = doubled["box"].label
box_values = doubled["box"].content.tolist()
pair_type = type(moved["pair"]).__name__
halves = pytree.tree_map_only(
    torch.Tensor, lambda t: t.double() if t.is_floating_point() else t, batch
)
half_dtypes = [
    str(t.dtype).split(".")[-1] for t in pytree.tree_leaves(halves) if isinstance(t, torch.Tensor)
]
all_tensors = pytree.tree_all(lambda x: isinstance(x, torch.Tensor), batch["tokens"])
any_int = pytree.tree_any(lambda x: isinstance(x, int), batch)
structure_same = pytree.tree_structure(moved) == spec
grads = {"w": randn(rng, 3, 3), "b": [randn(rng, 3)]}
total = torch.sqrt(sum((g**2).sum() for g in pytree.tree_leaves(grads)))
scale = min(1.0, 1.0 / (total.item() + 1e-6))
clipped = pytree.tree_map(lambda g: g * scale, grads)
clipped_norm = torch.sqrt(sum((g**2).sum() for g in pytree.tree_leaves(clipped))).item()
