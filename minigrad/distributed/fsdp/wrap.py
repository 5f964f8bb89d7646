"""``torch.distributed.fsdp.wrap``: FSDP1's auto-wrap policies, callables
``policy(module, recurse, nonwrapped_numel)`` as PyTorch's: with ``recurse=True`` whether to
look into ``module``'s children, with ``recurse=False`` whether to wrap ``module`` itself."""

from __future__ import annotations

__all__ = [
    "ModuleWrapPolicy",
    "lambda_auto_wrap_policy",
    "size_based_auto_wrap_policy",
    "transformer_auto_wrap_policy",
]


class ModuleWrapPolicy:
    """Wrap every module that is an instance of one of ``module_classes``."""

    def __init__(self, module_classes):
        self._module_classes = set(module_classes)

    def __call__(self, module, recurse: bool, nonwrapped_numel: int = 0) -> bool:
        return recurse or isinstance(module, tuple(self._module_classes))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._module_classes})"


def transformer_auto_wrap_policy(module, recurse, nonwrapped_numel, transformer_layer_cls):
    """Wrap the instances of ``transformer_layer_cls`` (a set of classes)."""
    return recurse or isinstance(module, tuple(transformer_layer_cls))


def lambda_auto_wrap_policy(module, recurse, nonwrapped_numel, lambda_fn):
    """Wrap the modules for which ``lambda_fn(module)`` is true."""
    return recurse or bool(lambda_fn(module))


def size_based_auto_wrap_policy(
    module,
    recurse,
    nonwrapped_numel,
    min_num_params: int = int(1e8),
    force_leaf_modules=None,
    exclude_wrap_modules=None,
):
    """Wrap a module whose parameters not yet wrapped number at least ``min_num_params``
    (PyTorch's: never into ``force_leaf_modules``, never wrapping ``exclude_wrap_modules``)."""
    from ...nn import ModuleDict, ModuleList, MultiheadAttention

    force_leaf = (MultiheadAttention,) if force_leaf_modules is None else tuple(force_leaf_modules)
    exclude = (
        (ModuleList, ModuleDict) if exclude_wrap_modules is None else tuple(exclude_wrap_modules)
    )
    if recurse:
        return nonwrapped_numel >= min_num_params and not isinstance(module, force_leaf)
    return nonwrapped_numel >= min_num_params and not isinstance(module, exclude)


def _recursive_wrap(module, policy, wrap, ignored: set, only_wrap_children: bool = False):
    """PyTorch's ``_recursive_wrap``: ``(module or its wrapper, parameters wrapped)``."""
    numel = sum(p.numel() for p in module.parameters() if id(p) not in ignored)
    if not policy(module=module, recurse=True, nonwrapped_numel=numel):
        return module, 0
    total = 0
    for name, child in list(module.named_children()):
        wrapped, n = _recursive_wrap(child, policy, wrap, ignored)
        setattr(module, name, wrapped)
        total += n
    if not only_wrap_children and policy(
        module=module, recurse=False, nonwrapped_numel=numel - total
    ):
        return wrap(module), numel
    return module, total
