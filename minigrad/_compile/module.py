"""``compile(module)``'s result: PyTorch's ``OptimizedModule``, an ``nn.Module`` around it.

PyTorch returns a module that holds the original as its child ``_orig_mod``: its parameters
are the original's, its ``state_dict`` keys start with ``_orig_mod.`` (so a checkpoint of a
compiled model loads into the other framework's compiled model, and programs that strip the
prefix find it), it can sit inside ``nn.Sequential``, and every other attribute is read from
and written to the original. Its ``forward`` is the compiled call.
"""

from __future__ import annotations

from ..nn.modules.module import Module

# Attributes of the wrapper itself; all others are the wrapped module's.
_OWN = frozenset({"_orig_mod", "_compiled", "_ready", "forward"})


class OptimizedModule(Module):
    """``module`` with ``forward`` replaced by ``compiled`` (a :class:`CompiledFunction` of
    the module), as ``torch.compile(module)`` returns it."""

    def __init__(self, module: Module, compiled) -> None:
        # compiled: a CompiledFunction of the module, or the module itself (backend="eager")
        object.__setattr__(self, "_ready", False)
        super().__init__()
        self._orig_mod = module  # a registered child: keys are "_orig_mod.<name>"
        object.__setattr__(self, "_compiled", compiled)
        object.__setattr__(self, "_ready", True)

    def forward(self, *args, **kwargs):
        return self._compiled(*args, **kwargs)

    @property
    def eager_reason(self) -> str | None:
        """Why the compiled call now runs eagerly (None while it is captured; backend="eager"
        never captures)."""
        if self._compiled is self._orig_mod:
            return 'compile(backend="eager")'
        return self._compiled.eager_reason

    @property
    def training(self) -> bool:
        return self._orig_mod.training

    @training.setter
    def training(self, value: bool) -> None:
        if self._ready:  # (Module.__init__ sets it before the child exists)
            self._orig_mod.training = value

    def __getattr__(self, name: str):
        modules = self.__dict__.get("_modules")
        if modules is None or "_orig_mod" not in modules:  # (being built or restored)
            raise AttributeError(name)
        if name == "_orig_mod":
            return modules["_orig_mod"]
        return getattr(modules["_orig_mod"], name)

    def __getstate__(self) -> dict:
        """The module's state without its traces (saved as ``torch.save`` of a compiled model
        pickles it; a loaded one traces afresh)."""
        return {k: v for k, v in self.__dict__.items() if k != "_compiled"}

    def __setstate__(self, state: dict) -> None:
        from .api import CompiledFunction

        self.__dict__.update(state)
        object.__setattr__(self, "_compiled", CompiledFunction(self._orig_mod))  # (traced anew)

    def __setattr__(self, name: str, value) -> None:
        if name in _OWN or hasattr(type(self), name):
            super().__setattr__(name, value)
        else:
            setattr(self._orig_mod, name, value)

    def __delattr__(self, name: str) -> None:
        if name in _OWN or hasattr(type(self), name):
            super().__delattr__(name)
        else:
            delattr(self._orig_mod, name)

    def __len__(self) -> int:
        return len(self._orig_mod)

    def __dir__(self):
        return sorted(set(dir(self._orig_mod)) | set(super().__dir__()))
