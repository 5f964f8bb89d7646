"""``Module``: the base of every layer, with registration of parameters, buffers and submodules,
traversal, train/eval, forward hooks and a nested repr (device moves and state dicts come from
:class:`~minigrad.nn._module_state.StateMixin`)."""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Iterator
from types import MappingProxyType

from ..._public_name import public_path
from ...autograd.graph import RemovableHandle
from ...tensor import Tensor
from ..parameter import Buffer, Parameter
from . import _hooks
from ._hooks import (  # noqa: F401 - PyTorch's names in torch.nn.modules.module
    call_with_hooks,
    register_module_buffer_registration_hook,
    register_module_forward_hook,
    register_module_forward_pre_hook,
    register_module_full_backward_hook,
    register_module_full_backward_pre_hook,
    register_module_module_registration_hook,
    register_module_parameter_registration_hook,
)
from ._hooks import global_call_hooks as _GLOBAL_CALL_HOOKS  # never rebound: one dict
from ._module_state import _EXTRA_STATE as _EXTRA_STATE_KEY_SUFFIX  # noqa: F401 - PyTorch's name
from ._module_state import StateMixin, _IncompatibleKeys  # noqa: F401 - re-exported


def _addindent(text: str, spaces: int) -> str:
    """Indent every line but the first (PyTorch's helper for nested reprs)."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    first = lines.pop(0)
    return first + "\n" + "\n".join((" " * spaces + s) if s.strip() else "" for s in lines)


def _check_name(kind: str, name) -> None:
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
    if "." in name:
        raise KeyError(f'{kind} name can\'t contain ".", got: {name}')
    if name == "":
        raise KeyError(f'{kind} name can\'t be empty string ""')


class Module(StateMixin):
    """Base class of all layers and models (``torch.nn.Module``).

    Subclasses call ``super().__init__()`` first, assign parameters, buffers and submodules as
    attributes (they are registered automatically, in assignment order), and define
    ``forward``. Calling the module runs forward pre-hooks, ``forward`` and forward hooks.

    Example:
        >>> class Net(nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.fc = nn.Linear(4, 2)
        ...     def forward(self, x):
        ...         return self.fc(x).relu()
        >>> [name for name, _ in Net().named_parameters()]
        ['fc.weight', 'fc.bias']
    """

    training: bool
    # Read-only fallbacks for modules restored from files written before backward hooks
    # existed (their __dict__ lacks these); registering a hook gives the module its own dict.
    _backward_hooks = MappingProxyType({})
    _backward_pre_hooks = MappingProxyType({})

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise TypeError(
                f"{type(self).__name__}.__init__() got unexpected arguments; Module.__init__ "
                f"takes none"
            )
        setattr_ = super().__setattr__
        setattr_("training", True)
        setattr_("_parameters", {})
        setattr_("_buffers", {})
        setattr_("_non_persistent_buffers_set", set())
        setattr_("_modules", {})
        setattr_("_forward_pre_hooks", OrderedDict())
        setattr_("_forward_hooks", OrderedDict())
        setattr_("_backward_pre_hooks", OrderedDict())
        setattr_("_backward_hooks", OrderedDict())
        setattr_("_hooks_with_kwargs", set())

    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    # -- calling ------------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        compiled = self.__dict__.get("_compiled_call_impl")
        if compiled is not None:
            return compiled(*args, **kwargs)
        if type(self)._call_impl is _plain_call_impl and not (  # _call_impl's fast path inline
            self._forward_pre_hooks
            or self._forward_hooks
            or self._backward_hooks
            or self._backward_pre_hooks
            or _GLOBAL_CALL_HOOKS
        ):
            return self.forward(*args, **kwargs)
        return self._call_impl(*args, **kwargs)

    def _call_impl(self, *args, **kwargs):
        """forward, with the hooks when there are any."""
        if not (
            self._forward_pre_hooks
            or self._forward_hooks
            or self._backward_hooks
            or self._backward_pre_hooks
            or _GLOBAL_CALL_HOOKS  # hooks of every module: one check
        ):
            return self.forward(*args, **kwargs)
        return call_with_hooks(self, args, kwargs)

    def compile(self, *args, **kwargs) -> None:
        """Compile this module's calls in place with :func:`minigrad.compile` (same arguments):
        the module stays this object, its ``state_dict`` keys unchanged, as PyTorch's
        ``Module.compile``."""
        from ... import compile as compile_fn  # the top level, above nn: imported on use

        self._compiled_call_impl = compile_fn(self._call_impl, *args, **kwargs)

    def register_forward_pre_hook(
        self, hook, *, prepend: bool = False, with_kwargs: bool = False
    ) -> RemovableHandle:
        """Call ``hook(module, args)`` before each forward; it may return replacement args.

        With ``with_kwargs=True`` the hook is ``hook(module, args, kwargs)`` and may return
        ``(args, kwargs)``. Returns a handle whose ``remove()`` unregisters the hook.
        """
        return self._add_hook(self._forward_pre_hooks, hook, prepend, with_kwargs)

    def register_forward_hook(
        self,
        hook,
        *,
        prepend: bool = False,
        with_kwargs: bool = False,
        always_call: bool = False,
    ) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after each forward; it may return a new output.

        With ``with_kwargs=True`` the hook is ``hook(module, args, kwargs, output)``. With
        ``always_call=True`` it also runs when the call raises (with ``output`` None, or what
        the hooks before it returned), before the exception propagates. Returns a handle whose
        ``remove()`` unregisters the hook.

        Example:
            >>> shapes = []
            >>> h = model.register_forward_hook(lambda m, args, out: shapes.append(out.shape))
            >>> model(x); h.remove()
        """
        handle = self._add_hook(self._forward_hooks, hook, prepend, with_kwargs)
        if always_call:
            if "_hooks_always_called" not in self.__dict__:
                object.__setattr__(self, "_hooks_always_called", set())
            self._hooks_always_called.add(handle.id)
            handle._dicts += (self._hooks_always_called,)
        return handle

    def _add_hook(self, hooks: OrderedDict, hook, prepend: bool, with_kwargs: bool):
        handle = RemovableHandle(hooks, self._hooks_with_kwargs)
        hooks[handle.id] = hook
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        if with_kwargs:
            self._hooks_with_kwargs.add(handle.id)
        return handle

    def register_full_backward_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` when the gradients with respect to the
        module's inputs have been computed; it may return a replacement ``grad_input``.

        ``grad_input`` has one entry per positional argument of the call (None where it is
        not a tensor that requires grad), ``grad_output`` one per tensor output (None where no
        gradient reached it). Keyword arguments are not covered, as in PyTorch. When no input
        requires grad, the hook runs once the output gradients are known, with ``grad_input``
        all None. Differs on purpose: the module's tensor inputs and outputs pass through an
        identity that copies them (PyTorch returns them as views and forbids changing such an
        output in place; here an in-place change afterwards is allowed).

        Example (Grad-CAM):
            >>> grads = []
            >>> layer.register_full_backward_hook(lambda m, gi, go: grads.append(go[0]))
            >>> model(x)[0, cls].backward()
        """
        self._backward_hook_kind("full")
        return self._add_hook(self._own_hooks("_backward_hooks"), hook, prepend, False)

    def _own_hooks(self, name: str) -> OrderedDict:
        if name not in self.__dict__:
            object.__setattr__(self, name, OrderedDict())
        return self.__dict__[name]

    def _backward_hook_kind(self, kind: str) -> None:
        """A module takes full backward hooks or the deprecated kind, never both (even after
        removing one), as in PyTorch."""
        held = self.__dict__.get("_backward_hook_form")
        if held is not None and held != kind:
            raise RuntimeError(
                "Cannot use both regular backward hooks and full backward hooks on a single "
                "Module. Please use only one of them."
            )
        object.__setattr__(self, "_backward_hook_form", kind)

    def register_full_backward_pre_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Call ``hook(module, grad_output)`` when the gradients with respect to the module's
        outputs have been computed, before those with respect to its inputs; it may return a
        replacement ``grad_output``."""
        return self._add_hook(self._own_hooks("_backward_pre_hooks"), hook, prepend, False)

    def register_backward_hook(self, hook) -> RemovableHandle:
        """PyTorch's deprecated form, given the semantics of
        :meth:`register_full_backward_hook` (PyTorch's reports the gradients of the last op's
        inputs instead of the module's; ``grad_output`` is the same)."""
        self._backward_hook_kind("regular")
        return self._add_hook(self._own_hooks("_backward_hooks"), hook, False, False)

    # -- registration -------------------------------------------------------------------------
    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or a None placeholder) under ``name``."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        _check_name("parameter", name)
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                f"(minigrad.nn.Parameter or None required)"
            )
        if param is not None and param.grad_fn is not None:
            raise ValueError(
                f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must be "
                f"created explicitly. To express '{name}' as a function of another Tensor, "
                f"compute the value in the forward() method."
            )
        if param is not None and _hooks.global_parameter_registration_hooks:
            param = _hooks.registered(_hooks.global_parameter_registration_hooks, self, name, param)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a tensor that is state but not a parameter (running statistics, masks).

        Buffers move with ``to()``; persistent ones are part of ``state_dict()``.

        Example:
            >>> self.register_buffer("running_mean", minigrad.zeros(4))
        """
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        _check_name("buffer", name)
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                f"(minigrad Tensor or None required)"
            )
        if isinstance(tensor, Buffer):
            tensor = tensor.detach()
        self._buffers[name] = _registered_buffer(self, name, tensor)
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module (or a None placeholder) under ``name``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        _check_name("module", name)
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        self._modules[name] = _registered_module(self, name, module)

    register_module = add_module

    def __getattr__(self, name: str):
        state = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            members = state.get(store)
            if members is not None and name in members:
                return members[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __setattr__(self, name: str, value) -> None:
        state = self.__dict__
        params = state.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._forget(name, keep=self._parameters)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                given = value.type() if isinstance(value, Tensor) else type(value).__name__
                raise TypeError(
                    f"cannot assign '{given}' as parameter '{name}' "
                    f"({public_path('minigrad.nn.Parameter')} or None expected)"
                )
            params[name] = None
        elif isinstance(value, Module):
            if state.get("_modules") is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name, keep=self._modules)
            self._modules[name] = _registered_module(self, name, value)
        elif name in state.get("_modules", ()):
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as child module '{name}' "
                    f"(minigrad.nn.Module or None expected)"
                )
            self._modules[name] = _registered_module(self, name, None)
        elif isinstance(value, Buffer):
            if state.get("_buffers") is None:
                raise AttributeError("cannot assign buffer before Module.__init__() call")
            self._forget(name, keep=self._buffers)
            self.register_buffer(name, value, value.persistent)
        elif name in state.get("_buffers", ()):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                    f"(minigrad Tensor or None expected)"
                )
            self._buffers[name] = _registered_buffer(self, name, value)
        else:
            super().__setattr__(name, value)

    def _forget(self, name: str, keep: dict) -> None:
        """Remove ``name`` from every store but ``keep``, where it is about to be (re)assigned:
        replacing an entry there keeps its place in the order, as in PyTorch."""
        self.__dict__.pop(name, None)
        for store in (self._parameters, self._buffers, self._modules):
            if store is not keep:
                store.pop(name, None)
        self._non_persistent_buffers_set.discard(name)

    def __delattr__(self, name: str) -> None:
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._buffers:
            del self._buffers[name]
            self._non_persistent_buffers_set.discard(name)
        elif name in self._modules:
            del self._modules[name]
        else:
            super().__delattr__(name)

    def __dir__(self):
        keys = [*dir(type(self)), *self.__dict__, *self._parameters, *self._modules, *self._buffers]
        return sorted(k for k in set(keys) if not k[0].isdigit())

    def get_submodule(self, target: str) -> Module:
        """The submodule at dotted path ``target`` (``""`` is the module itself)."""
        module = self
        for part in target.split(".") if target else ():
            child = module._modules.get(part)
            if not isinstance(child, Module):
                raise AttributeError(f"{module._get_name()} has no attribute `{part}`")
            module = child
        return module

    def set_submodule(self, target: str, module: Module, strict: bool = False) -> None:
        """Put ``module`` at dotted path ``target`` (``"encoder.fc"``), replacing what is there;
        its parent must exist. With ``strict``, ``target`` must already name a submodule.

        Example:
            >>> model.set_submodule("classifier.2", nn.Linear(512, 10))
        """
        if not target:
            raise ValueError("Cannot set the submodule without a target name!")
        path, _, name = target.rpartition(".")
        parent = self.get_submodule(path)
        if not isinstance(module, Module):
            raise ValueError(f"`module` is not an nn.Module, found {type(module)}")
        if strict:
            if not hasattr(parent, name):
                raise AttributeError(f"{parent._get_name()} has no attribute `{name}`")
            if not isinstance(getattr(parent, name), Module):
                raise AttributeError(f"`{name}` is not an nn.Module")
        setattr(parent, name, module)

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at dotted path ``target`` (``"encoder.fc.weight"``)."""
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        if name not in module._parameters:
            raise AttributeError(f"{module._get_name()} has no parameter `{name}`")
        return module._parameters[name]

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at dotted path ``target``."""
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        if name not in module._buffers:
            raise AttributeError(f"{module._get_name()} has no buffer `{name}`")
        return module._buffers[name]

    # -- traversal ----------------------------------------------------------------------------
    def named_modules(
        self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """``(qualified name, module)`` for this module and every descendant, depth first."""
        if memo is None:
            memo = set()
        if self in memo:
            return
        if remove_duplicate:
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                sub = prefix + ("." if prefix else "") + name
                yield from module.named_modules(memo, sub, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen = set()
        for name, module in self._modules.items():
            if module is not None and module not in seen:
                seen.add(module)
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def _named_members(self, get_members, prefix: str, recurse: bool, remove_duplicate: bool):
        seen = set()  # ids: Tensor.__eq__ is elementwise, so tensors cannot go in a set
        if recurse:
            modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
        else:
            modules = [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in get_members(module):
                if value is None or id(value) in seen:
                    continue
                if remove_duplicate:
                    seen.add(id(value))
                yield module_prefix + ("." if module_prefix else "") + name, value

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """``(qualified name, parameter)`` pairs, each shared parameter once, in registration order.

        Example:
            >>> [n for n, _ in nn.Sequential(nn.Linear(2, 3)).named_parameters()]
            ['0.weight', '0.bias']
        """
        return self._named_members(
            lambda m: m._parameters.items(), prefix, recurse, remove_duplicate
        )

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        return self._named_members(lambda m: m._buffers.items(), prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    # -- modes and gradients ------------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set training mode (dropout active, batch norm uses batch statistics) recursively."""
        if not isinstance(mode, bool):
            raise ValueError(f"training mode is expected to be boolean, got {mode!r}")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self) -> Module:
        """Set evaluation mode: ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Set ``requires_grad`` of every parameter (False freezes the module)."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters: to None (default) or to zeros in place."""
        for param in self.parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                param.grad.detach_()
                param.grad.zero_()

    def apply(self, fn) -> Module:
        """Call ``fn(module)`` on every submodule (children first) and on this module.

        Example:
            >>> model.apply(lambda m: nn.init.zeros_(m.bias) if isinstance(m, nn.Linear) else None)
        """
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # -- devices and dtypes -------------------------------------------------------------------

    # -- copying ------------------------------------------------------------------------------
    def __deepcopy__(self, memo):
        # Tensors refuse pickling (and so plain deepcopy): copy those we own first.
        for module in self.modules():
            for buf in module._buffers.values():
                if buf is not None and id(buf) not in memo:
                    memo[id(buf)] = buf.detach().clone()
        result = type(self).__new__(type(self))
        memo[id(self)] = result
        for key, value in self.__dict__.items():
            object.__setattr__(result, key, copy.deepcopy(value, memo))
        return result

    # -- printing -----------------------------------------------------------------------------
    def _get_name(self) -> str:
        return type(self).__name__

    def extra_repr(self) -> str:
        """The settings shown inside the parentheses of the repr; override in subclasses."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [
            f"({name}): " + _addindent(repr(module), 2) for name, module in self._modules.items()
        ]
        lines = extra_lines + child_lines
        body = ""
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                body = extra_lines[0]
            else:
                body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{self._get_name()}({body})"

    def summary(self, *inputs, input_size=None, dtype=None, device=None, file=None):
        """Print a table of layers, output shapes and parameter counts; see :func:`nn.summary`."""
        from ..summary import summary

        return summary(self, *inputs, input_size=input_size, dtype=dtype, device=device, file=file)


def _registered_buffer(module: Module, name: str, tensor):
    """``tensor`` after the global buffer registration hooks (PyTorch's order and rules)."""
    hooks = _hooks.global_buffer_registration_hooks
    return _hooks.registered(hooks, module, name, tensor) if hooks else tensor


def _registered_module(module: Module, name: str, child):
    """``child`` after the global module registration hooks."""
    hooks = _hooks.global_module_registration_hooks
    return _hooks.registered(hooks, module, name, child) if hooks else child


_plain_call_impl = Module._call_impl  # (a subclass overriding _call_impl is called through it)
