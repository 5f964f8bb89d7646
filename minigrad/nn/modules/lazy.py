"""``LazyModuleMixin``, as ``torch.nn.modules.lazy``: modules whose parameter shapes are
inferred from the first input.

A lazy module starts with :class:`~minigrad.nn.parameter.UninitializedParameter` s. Its first
call runs ``initialize_parameters(*args, **kwargs)`` (which materializes them and runs the
usual initializer), then the module turns into ``cls_to_become`` (``LazyLinear`` becomes
``Linear``). Loading a state dict into a lazy module materializes its parameters with the
saved shapes.
"""

from __future__ import annotations

from ...autograd.grad_mode import no_grad
from ..parameter import is_lazy


class LazyModuleMixin:
    """Mixin for modules that infer their parameters' shapes on the first forward.

    Put it first among the bases, set ``cls_to_become``, and implement
    ``initialize_parameters(*args, **kwargs)``.
    """

    cls_to_become: type | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._initialize_hook = self.register_forward_pre_hook(_infer_parameters, with_kwargs=True)

    def _save_to_state_dict(self, destination, prefix: str, keep_vars: bool) -> None:
        for store in (self._parameters, self._buffers):
            for name, value in store.items():
                if value is None or name in self._non_persistent_buffers_set:
                    continue
                destination[prefix + name] = (
                    value if keep_vars or is_lazy(value) else value.detach()
                )

    def _load_from_state_dict(self, state_dict, prefix, missing, used, errors, assign) -> None:
        """Materialize uninitialized tensors with the shapes in ``state_dict``, then load."""
        skipped = {}
        for store in (self._parameters, self._buffers):
            for name, value in store.items():
                key = prefix + name
                if value is None or not is_lazy(value) or key not in state_dict:
                    continue
                if is_lazy(state_dict[key]):  # both uninitialized: nothing to load
                    skipped[name] = store
                    used.add(key)
                    continue
                with no_grad():
                    value.materialize(tuple(state_dict[key].shape))
        saved = {name: store[name] for name, store in skipped.items()}
        for name, store in skipped.items():
            store[name] = None
        try:
            super()._load_from_state_dict(state_dict, prefix, missing, used, errors, assign)
        finally:
            for name, store in skipped.items():
                store[name] = saved[name]

    def initialize_parameters(self, *args, **kwargs) -> None:
        """Materialize the uninitialized parameters from the first input; subclasses implement it."""
        raise NotImplementedError(
            f"initialize_parameters is not implemented for {self.__class__.__name__}"
        )

    def has_uninitialized_params(self) -> bool:
        """Whether any parameter or buffer is still uninitialized."""
        tensors = [*self._parameters.values(), *self._buffers.values()]
        return any(t is not None and is_lazy(t) for t in tensors)


def _infer_parameters(module, args, kwargs=None) -> None:
    """The forward pre-hook: initialize from the first input, then become the ordinary class."""
    module.initialize_parameters(*args, **(kwargs or {}))
    if module.has_uninitialized_params():
        raise RuntimeError(f"module {module._get_name()} has not been fully initialized")
    module._initialize_hook.remove()
    del module._initialize_hook
    if module.cls_to_become is not None:
        module.__class__ = module.cls_to_become
