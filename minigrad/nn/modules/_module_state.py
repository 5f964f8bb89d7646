"""What ``Module`` does with its tensors as a whole: moves to devices and dtypes, state dicts."""

from __future__ import annotations

from collections import OrderedDict, namedtuple
from collections.abc import Mapping

import numpy as np

from ... import __future__ as _future
from ... import dtypes
from ..._warnings import warn_user
from ...autograd.grad_mode import no_grad
from ...autograd.graph import RemovableHandle
from ...creation import as_tensor
from ...tensor import Tensor, parse_to_args
from ...utils.swap import swap_tensors
from ..parameter import Parameter


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the keys it did not find, and those it did not use."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


class StateMixin:
    """Device/dtype moves and state dicts of :class:`~minigrad.nn.Module` (its base class)."""

    def _apply(self, fn, recurse: bool = True) -> StateMixin:
        """Replace the data of every parameter, gradient and buffer with ``fn(tensor)``.

        Parameters keep their identity (their data is set in place, or with
        ``minigrad.__future__.set_swap_module_params_on_conversion(True)`` their whole contents
        swapped in), so optimizers that hold them keep working; with
        ``set_overwrite_module_params_on_conversion(True)`` they are new Parameter objects, and
        so they are, as in PyTorch, where a conversion moves them to or from the ``meta``
        device (an optimizer made before ``to_empty`` keeps the meta parameters).
        """
        if recurse:
            for module in self.children():
                module._apply(fn)
        if _future.get_swap_module_params_on_conversion():
            return _apply_swapping(self, fn)
        if _future.get_overwrite_module_params_on_conversion():
            return _apply_overwriting(self, fn)
        with no_grad():
            for key, param in self._parameters.items():
                if param is None:
                    continue
                grad = param.grad
                param = _set_param_data(self, key, param, fn(param.data))
                if grad is not None and param.grad is grad:
                    grad.data = fn(grad.data)
                elif grad is not None:
                    param.grad = fn(grad).requires_grad_(grad.requires_grad)
            for name, buf in self._buffers.items():
                if buf is not None:
                    self._buffers[name] = fn(buf)
        return self

    def to(self, *args, **kwargs) -> StateMixin:
        """Move parameters, gradients and buffers to a device and/or a floating or complex dtype,
        in place.

        Accepts ``to(device)``, ``to(dtype)``, ``to(device, dtype)``, ``to(tensor)`` and the
        keywords ``device``, ``dtype``, ``memory_format`` (for 4-D and 5-D tensors, e.g.
        ``minigrad.channels_last``) and ``non_blocking`` (ignored). Integer buffers keep
        their dtype. Returns ``self``.

        Example:
            >>> model.to("cuda")
            >>> model.to(minigrad.float64)
        """
        memory_format = kwargs.pop("memory_format", None)
        device, dtype, copy = parse_to_args(args, kwargs)  # (copy: to "cpu:0", as PyTorch)
        if dtype is not None and not (dtype.is_floating_point or dtype.is_complex):
            raise TypeError(
                "nn.Module.to only accepts floating point or complex dtypes, but got desired "
                f"dtype={dtype}"
            )
        if dtype is not None and dtype.is_complex:
            warn_user(
                "Complex modules are a new feature under active development whose design may "
                "change, and some modules might not work as expected when using complex tensors "
                "as parameters or buffers."
            )

        def convert(t: Tensor) -> Tensor:
            cast = t.is_floating_point() or t.is_complex()  # integer buffers keep their dtype
            try:
                out = t.to(device=device, dtype=dtype if cast else None, copy=copy)
            except NotImplementedError as error:
                if not t.is_meta:
                    raise
                raise NotImplementedError(
                    f"{error} Please use minigrad.nn.Module.to_empty() instead of "
                    "minigrad.nn.Module.to() when moving module from meta to a different device."
                ) from None
            if memory_format is not None and t.dim() in (4, 5):  # as PyTorch: 4-D and 5-D only
                out = out.to(memory_format=memory_format)
            return out

        return self._apply(convert)

    def to_empty(self, *, device, recurse: bool = True) -> StateMixin:
        """Give every parameter and buffer new, uninitialized storage of the same shape and
        dtype on ``device`` (a model built elsewhere, then initialized by ``reset_parameters``
        or ``load_state_dict``). Only this module's own tensors with ``recurse=False``.
        Parameters on the ``meta`` device become new Parameter objects, as in PyTorch: make the
        optimizer after ``to_empty``."""
        if _future.get_swap_module_params_on_conversion() or (
            _future.get_overwrite_module_params_on_conversion()
        ):  # as PyTorch's to_empty: an _apply (its gradients too), swapping or overwriting
            return self._apply(lambda t: _public_empty_like(t, device), recurse=recurse)
        modules = self.modules() if recurse else [self]
        with no_grad():
            for module in modules:
                for key, param in module._parameters.items():
                    if param is not None:
                        applied = _public_empty_like(param, device=device)
                        _set_param_data(module, key, param, applied)
                for name, buf in module._buffers.items():
                    if buf is not None:
                        module._buffers[name] = _public_empty_like(buf, device)
        return self

    def share_memory(self) -> StateMixin:
        """Move every parameter, gradient and buffer to shared memory (``Tensor.share_memory_``),
        so that processes forked afterwards train the same model (Hogwild). Returns ``self``."""
        return self._apply(lambda t: t.share_memory_())

    def cuda(self, device=None) -> StateMixin:
        if device is None:
            device = "cuda"
        elif isinstance(device, int):
            device = f"cuda:{device}"
        return self.to(device)

    def cpu(self) -> StateMixin:
        return self.to("cpu")

    def _cast_floats(self, dtype) -> StateMixin:
        return self._apply(lambda t: t.to(dtype) if t.is_floating_point() else t)

    def float(self) -> StateMixin:
        return self._cast_floats(dtypes.float32)

    def double(self) -> StateMixin:
        return self._cast_floats(dtypes.float64)

    def half(self) -> StateMixin:
        return self._cast_floats(dtypes.float16)

    def bfloat16(self) -> StateMixin:
        return self._cast_floats(dtypes.bfloat16)

    def type(self, dst_type) -> StateMixin:
        """Cast every parameter, gradient and buffer (integer ones too, as PyTorch) to
        ``dst_type``, in place; returns ``self``."""
        return self._apply(lambda t: t.type(dst_type))

    # -- state dict ---------------------------------------------------------------------------
    def state_dict(self, *args, destination=None, prefix: str = "", keep_vars: bool = False):
        """An ordered dict of every parameter and persistent buffer, by qualified name.

        Values are detached tensors sharing storage with the module (``keep_vars=True``
        returns the parameters themselves).

        Example:
            >>> list(nn.Linear(2, 3).state_dict())
            ['weight', 'bias']
        """
        if args:  # PyTorch's deprecated positional form: (destination, prefix, keep_vars)
            given = [destination, prefix, keep_vars]
            given[: len(args)] = args
            destination, prefix, keep_vars = given
        if destination is None:
            destination = OrderedDict()
        for hook in list(_hooks(self, "_state_dict_pre_hooks").values()):
            hook(self, prefix, keep_vars)
        self._save_to_state_dict(destination, prefix, keep_vars)
        if type(self).get_extra_state is not StateMixin.get_extra_state:
            destination[prefix + _EXTRA_STATE] = self.get_extra_state()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(
                    destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars
                )
        metadata = {"version": getattr(type(self), "_version", 1)}
        for hook, keeps_result in list(_hooks(self, "_state_dict_hooks").values()):
            result = hook(self, destination, prefix, metadata)
            if keeps_result and result is not None:
                destination = result
        return destination

    # -- state dict hooks (PyTorch's, for renaming or adding keys on the way in or out) -------
    def register_state_dict_pre_hook(self, hook) -> RemovableHandle:
        """``hook(module, prefix, keep_vars)`` runs before this module's state is saved."""
        return _add(self, "_state_dict_pre_hooks", hook)

    def register_state_dict_post_hook(self, hook) -> RemovableHandle:
        """``hook(module, state_dict, prefix, local_metadata)`` runs after this module and its
        children are saved; it changes ``state_dict`` in place (and must return None)."""
        return _add(self, "_state_dict_hooks", (_returns_none(hook), False))

    def _register_state_dict_hook(self, hook) -> RemovableHandle:
        """As :meth:`register_state_dict_post_hook`, but a returned dict replaces the state
        dict (PyTorch's older private form, which libraries still use)."""
        return _add(self, "_state_dict_hooks", (hook, True))

    def register_load_state_dict_pre_hook(self, hook) -> RemovableHandle:
        """``hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)`` runs before this module loads its own entries; it may
        rename or add keys of ``state_dict`` (e.g. a legacy checkpoint's)."""
        return _add(self, "_load_state_dict_pre_hooks", hook)

    def _register_load_state_dict_pre_hook(self, hook, with_module: bool = False):
        """PyTorch's private form of :meth:`register_load_state_dict_pre_hook`: the hook takes
        no ``module`` argument unless ``with_module=True``."""
        return self.register_load_state_dict_pre_hook(
            hook if with_module else (lambda module, *args: hook(*args))
        )

    def register_load_state_dict_post_hook(self, hook) -> RemovableHandle:
        """``hook(module, incompatible_keys)`` runs after loading; it may change
        ``incompatible_keys.missing_keys``/``unexpected_keys`` in place (before ``strict``
        checks them) and must return None."""
        return _add(self, "_load_state_dict_post_hooks", _returns_none(hook))

    def get_extra_state(self):
        """Override (with :meth:`set_extra_state`) to keep state that is not a tensor in the
        state dict, under the key ``"_extra_state"``; it must be something ``save`` can store."""
        raise RuntimeError(
            "Reached a code path in Module.get_extra_state() that should never be called: "
            "override get_extra_state() in the module to return its extra state"
        )

    def set_extra_state(self, state) -> None:
        """Override to take back what :meth:`get_extra_state` returned, on
        ``load_state_dict``."""
        raise RuntimeError(
            "Reached a code path in Module.set_extra_state() that should never be called: "
            "override set_extra_state() in the module to load its extra state"
        )

    def _save_to_state_dict(self, destination, prefix: str, keep_vars: bool) -> None:
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buf if keep_vars else buf.detach()

    def load_state_dict(self, state_dict: Mapping, strict: bool = True, assign: bool = False):
        """Copy parameters and buffers from ``state_dict`` into this module (and descendants).

        Args:
            state_dict: a mapping from qualified names to tensors (or NumPy arrays).
            strict: if True, keys missing from ``state_dict`` or not used by the module are an
                error. Shape mismatches are always an error.
            assign: if True, the module takes the given tensors (as new Parameters) instead of
                copying their values into its own.

        Returns:
            A named tuple ``(missing_keys, unexpected_keys)``.

        Raises:
            RuntimeError: listing every missing, unexpected and shape-mismatched key.

        Example:
            >>> model.load_state_dict(minigrad.load("model.pt"))
            <All keys matched successfully>
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(
                f"Expected state_dict to be dict-like, got {type(state_dict).__name__}."
            )
        missing, used, errors, loaded, hooked_unexpected = [], set(), [], [], []
        saved_metadata = getattr(state_dict, "_metadata", None) or {}  # (PyTorch's files)
        # hooks and overrides may rename or delete keys: they change a copy, as in PyTorch
        state_dict = OrderedDict(state_dict)

        def load(module: StateMixin, prefix: str) -> None:
            metadata = saved_metadata.get(prefix[:-1], {})
            for hook in list(_hooks(module, "_load_state_dict_pre_hooks").values()):
                hook(
                    module, state_dict, prefix, metadata, strict, missing, hooked_unexpected, errors
                )
            if type(module)._load_from_state_dict.__module__.startswith("minigrad."):
                module._load_from_state_dict(state_dict, prefix, missing, used, errors, assign)
            else:  # a library's override (torchmetrics, timm, kornia) takes PyTorch's arguments
                metadata = {**metadata, "assign_to_params_buffers": assign, _USED: used}
                args = (metadata, strict, missing, hooked_unexpected, errors)
                module._load_from_state_dict(state_dict, prefix, *args)
            _load_extra_state(module, state_dict, prefix, missing, used)
            for name, child in module._modules.items():
                if child is not None:
                    load(child, prefix + name + ".")
            loaded.append(module)

        load(self, "")
        unexpected = [k for k in state_dict if k not in used] + hooked_unexpected
        incompatible = _IncompatibleKeys(missing, unexpected)
        for module in loaded:
            for hook in list(_hooks(module, "_load_state_dict_post_hooks").values()):
                hook(module, incompatible)
        if strict:
            if unexpected:
                keys = ", ".join(f'"{k}"' for k in unexpected)
                errors.insert(0, f"Unexpected key(s) in state_dict: {keys}. ")
            if missing:
                keys = ", ".join(f'"{k}"' for k in missing)
                errors.insert(0, f"Missing key(s) in state_dict: {keys}. ")
        if errors:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {self._get_name()}:\n\t" + "\n\t".join(errors)
            )
        return _IncompatibleKeys(missing, unexpected)

    def _load_from_state_dict(self, state_dict, prefix, *args) -> None:
        """Load this module's own parameters and persistent buffers (not its children's).
        ``args`` are minigrad's ``(missing, used, errors, assign)``, or PyTorch's
        ``(local_metadata, strict, missing_keys, unexpected_keys, error_msgs)`` as a library's
        override passes them on to ``super()``."""
        if len(args) == 5:
            local_metadata, _, missing, _, errors = args
            used = local_metadata.get(_USED, set())
            assign = local_metadata.get("assign_to_params_buffers", False)
        else:
            missing, used, errors, assign = args
        local = {**self._parameters}
        local.update(
            (k, v) for k, v in self._buffers.items() if k not in self._non_persistent_buffers_set
        )
        for name, current in local.items():
            if current is None:
                continue
            key = prefix + name
            if key not in state_dict:
                missing.append(key)
                continue
            used.add(key)
            value = state_dict[key]
            if isinstance(value, np.ndarray):
                value = as_tensor(value)
            if not isinstance(value, Tensor):
                errors.append(
                    f'While copying the parameter named "{key}", expected a minigrad Tensor from '
                    f"checkpoint but received {type(value).__name__}"
                )
            elif tuple(value.shape) != tuple(current.shape):
                errors.append(
                    f"size mismatch for {key}: copying a param with shape {value.shape!r} "
                    f"from checkpoint, the shape in current model is {current.shape!r}."
                )
            elif _future.get_swap_module_params_on_conversion():
                _load_swapping(self, key, current, value, assign, errors)
            else:
                self._load_one(name, current, value, assign)

    def _load_one(self, name: str, current: Tensor, value: Tensor, assign: bool) -> None:
        with no_grad():
            if not assign:
                current.copy_(value)
            elif name in self._parameters:
                self._parameters[name] = Parameter(value.detach(), current.requires_grad)
            else:
                self._buffers[name] = value.detach()


def _public_empty_like(t: Tensor, device) -> Tensor:
    """``minigrad.empty_like`` in its public, dispatching form, as PyTorch's ``to_empty`` calls
    ``torch.empty_like``: a tensor subclass's ``__torch_function__`` keeps its type."""
    import minigrad

    return minigrad.empty_like(t, device=device)


def _set_param_data(module, key: str, param: Parameter, applied: Tensor) -> Parameter:
    """Give ``module``'s parameter ``key`` the data ``applied``, in place as PyTorch's
    ``param.data = ...``, unless that would move it to or from the ``meta`` device: PyTorch's
    meta tensors share no implementation with real ones (``_has_compatible_shallow_copy_type``
    is False), so it gives the module a new Parameter instead. Returns the module's parameter."""
    if param.is_meta == applied.is_meta:
        param.data = applied
        return param
    new = Parameter(applied, param.requires_grad)
    module._parameters[key] = new
    return new


def _apply_swapping(module, fn) -> StateMixin:
    """``_apply`` under ``set_swap_module_params_on_conversion(True)``, as PyTorch's: each
    parameter swaps contents with ``Parameter(fn(param))`` and its gradient with
    ``fn(grad)``, so both keep their identity (a failed swap names the parameter)."""
    for key, param in module._parameters.items():
        if param is None:
            continue
        with no_grad():
            applied = fn(param)
        grad = param._grad
        try:
            param.grad = None
            swap_tensors(param, Parameter(applied, requires_grad=param.requires_grad))
        except Exception as error:
            param._grad = grad
            raise RuntimeError(f"_apply(): Couldn't swap {module._get_name()}.{key}") from error
        if grad is not None:
            with no_grad():
                grad_applied = fn(grad)
            grad_applied.requires_grad_(grad.requires_grad)
            try:
                swap_tensors(grad, grad_applied)
            except Exception as error:
                raise RuntimeError(
                    f"_apply(): Couldn't swap {module._get_name()}.{key}.grad"
                ) from error
            param.grad = grad
    _apply_buffers(module, fn)
    return module


def _apply_overwriting(module, fn) -> StateMixin:
    """``_apply`` under ``set_overwrite_module_params_on_conversion(True)``: each parameter is
    replaced by a new ``Parameter(fn(param))`` (and given ``fn(grad)``), as PyTorch does."""
    for key, param in module._parameters.items():
        if param is None:
            continue
        with no_grad():
            new = Parameter(fn(param), param.requires_grad)
            if param._grad is not None:
                new.grad = fn(param._grad).requires_grad_(param._grad.requires_grad)
        module._parameters[key] = new
    _apply_buffers(module, fn)
    return module


def _apply_buffers(module, fn) -> None:
    with no_grad():
        for name, buf in module._buffers.items():
            if buf is not None:
                module._buffers[name] = fn(buf)


def _load_swapping(module, key: str, current, value, assign: bool, errors: list) -> None:
    """``load_state_dict`` under ``set_swap_module_params_on_conversion(True)``, as PyTorch's:
    ``current`` swaps contents with ``current.module_load(value, assign=assign)`` (a Parameter
    where ``current`` is one); a failure is reported among the state dict's errors."""
    try:
        with no_grad():
            new = current.module_load(value, assign=assign)
            if new is value or new is current:
                raise RuntimeError(
                    "module_load returned one of self or other, please .detach() the result "
                    "if returning one of the inputs in module_load"
                )
            if isinstance(current, Parameter):
                if isinstance(new, Parameter):
                    new.requires_grad_(current.requires_grad)
                else:
                    new = Parameter(new, requires_grad=current.requires_grad)
            swap_tensors(current, new)
    except Exception as error:
        errors.append(
            f'While swapping the parameter named "{key}", whose dimensions in the model are '
            f"{current.size()} and whose dimensions in the checkpoint are {value.size()}, an "
            f"exception occurred : {error.args}."
        )


_EXTRA_STATE = "_extra_state"


_USED = "_minigrad_used_keys"  # in local_metadata: the keys loaded so far (PyTorch-form calls)


def _load_extra_state(module, state_dict, prefix: str, missing, used) -> None:
    """Hand ``prefix + "_extra_state"`` to a module that overrides ``set_extra_state`` (a
    missing one is listed as missing, as any missing key)."""
    if type(module).set_extra_state is StateMixin.set_extra_state:
        return
    key = prefix + _EXTRA_STATE
    if key in state_dict:
        used.add(key)
        module.set_extra_state(state_dict[key])
    else:
        missing.append(key)


def _hooks(module, name: str) -> dict:
    """A module's state-dict hooks of one kind (made on first registration: modules from
    older files and most modules have none)."""
    return module.__dict__.get(name) or {}


def _add(module, name: str, hook) -> RemovableHandle:
    hooks = module.__dict__.setdefault(name, OrderedDict())
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    return handle


def _returns_none(hook):
    def checked(*args):
        if hook(*args) is not None:
            raise RuntimeError(
                f"state dict hook {getattr(hook, '__name__', hook)!r} should not return a value "
                f"(change the state dict or the incompatible keys in place)"
            )

    return checked
