"""The module name that reprs show: ``minigrad`` (``minigrad.float32``, ``minigrad.Size([2])``),
or ``torch`` while :mod:`minigrad.as_torch` runs a program that imports minigrad as ``torch``.

Programs compare these strings (``str(x.dtype) == "torch.float32"``, ``x.type() ==
"torch.FloatTensor"``) and print them; under ``as_torch`` they see the names they imported.
Code that generates Python source or files never uses a repr: it spells ``minigrad.<name>``.
"""

_shown = "minigrad"


def shown() -> str:
    """The module name reprs show now."""
    return _shown


def show_as(name: str) -> str:
    """Show ``name`` from now on; returns the name shown before (to restore it)."""
    global _shown
    previous, _shown = _shown, name
    return previous


# PyTorch's path of a class that minigrad keeps in another module (less the top name)
_TORCH_PATHS = {
    "autograd.graph.RemovableHandle": "utils.hooks.RemovableHandle",
    "cuda.amp.GradScaler": "cuda.amp.grad_scaler.GradScaler",
    "utils.data._multiprocessing_iter.MultiProcessingDataLoaderIter": (
        "utils.data.dataloader._MultiProcessingDataLoaderIter"
    ),
}


class PublicRepr:
    """Mixin of the public classes that keep ``object``'s repr, ``<module.Class object at
    0x...>``, which programs print (a pruning method from a module's hooks, a hook's handle, a
    sampler, a dataset): the module is named as the program imported it (``torch.nn.utils.
    prune.L1Unstructured`` under :mod:`minigrad.as_torch`), at PyTorch's path where minigrad
    keeps the class elsewhere. Classes of user code (``__main__.MyDataset``) are shown as
    Python shows them."""

    __slots__ = ()

    def __repr__(self) -> str:
        cls = type(self)
        return f"<{public_path(f'{cls.__module__}.{cls.__qualname__}')} object at {hex(id(self))}>"


def public_path(path: str) -> str:
    """A dotted ``path`` as a program sees it: minigrad's own names under the name shown now
    (``torch.nn.modules.linear.Linear`` under :mod:`minigrad.as_torch`, ``torch.cuda.amp`` in
    messages), at PyTorch's path where minigrad keeps the class elsewhere; other names as they
    are."""
    if path == "minigrad":
        return _shown
    if not path.startswith("minigrad."):
        return path
    path = path[len("minigrad.") :]
    return f"{_shown}.{_TORCH_PATHS.get(path, path)}"
