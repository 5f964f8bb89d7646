"""Hooks of modules: the call that runs forward hooks around ``forward``, and the identity
boundaries through which full backward hooks see a module's input and output gradients."""

from __future__ import annotations

from collections import OrderedDict

from ..._warnings import warn_user
from ...autograd import Function, grad_mode
from ...autograd.graph import RemovableHandle
from ...creation import zeros
from ...tensor import Tensor

# Hooks of every module (``nn.modules.module.register_module_forward_hook`` and the like):
# they run before each module's own hooks of the same kind, as in PyTorch.
global_forward_pre_hooks: OrderedDict = OrderedDict()
global_forward_hooks: OrderedDict = OrderedDict()
global_backward_pre_hooks: OrderedDict = OrderedDict()
global_backward_hooks: OrderedDict = OrderedDict()
global_with_kwargs: set = set()  # ids of global forward hooks that take kwargs
global_always_called: set = set()  # ids of global forward hooks run even if forward raises
# one entry per global call hook of any kind: Module._call_impl's fast path checks only this
global_call_hooks: dict = {}


def call_with_hooks(module, args: tuple, kwargs: dict):
    """Run ``module.forward`` between its forward pre-hooks and forward hooks; if the call
    raises, the forward hooks registered with ``always_call=True`` that have not run yet run
    before the exception propagates (an exception of theirs is only warned about)."""
    always = module.__dict__.get("_hooks_always_called")
    if global_always_called:
        always = global_always_called | (always or set())
    if not always:
        return _call(module, args, kwargs, None)
    called, partial = set(), [args, None]
    try:
        return _call(module, args, kwargs, (called, partial))
    except Exception:
        args, output = partial
        for hook_id, hook in [*global_forward_hooks.items(), *module._forward_hooks.items()]:
            if hook_id not in always or hook_id in called:
                continue
            try:
                if hook_id in module._hooks_with_kwargs or hook_id in global_with_kwargs:
                    result = hook(module, args, kwargs, output)
                else:
                    result = hook(module, args, output)
                output = output if result is None else result
            except Exception as e:
                warn_user(
                    "forward hook with ``always_call=True`` raised an exception that was "
                    f"silenced as another error was raised in forward: {e}"
                )
        raise


def _call(module, args: tuple, kwargs: dict, track):
    """The hooks and forward; ``track`` (or None) is ``(ids of the hooks that ran, [args,
    output])``, kept up to date for the always-called hooks should anything raise."""
    with_kwargs = module._hooks_with_kwargs
    if global_with_kwargs:
        with_kwargs = with_kwargs | global_with_kwargs
    for hook_id, hook in [*global_forward_pre_hooks.items(), *module._forward_pre_hooks.items()]:
        if hook_id in with_kwargs:
            result = hook(module, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(
                        "forward pre-hook registered with with_kwargs=True must return None "
                        f"or a tuple of (new_args, new_kwargs), but got {result!r}"
                    )
                args, kwargs = result
        else:
            result = hook(module, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
    state = None
    if _has_backward_hooks(module) and grad_mode.is_grad_enabled():
        state = _BackwardHookState(module)
        args = state.wrap_inputs(args)
    if track is not None:
        track[1][0] = args
    output = module.forward(*args, **kwargs)
    for hook_id, hook in [*global_forward_hooks.items(), *module._forward_hooks.items()]:
        if track is not None:
            track[1][1] = output
            track[0].add(hook_id)
        if hook_id in with_kwargs:
            result = hook(module, args, kwargs, output)
        else:
            result = hook(module, args, output)
        if result is not None:
            output = result
    if state is not None:  # after the forward hooks, as PyTorch: grad_output is of their result
        output = state.wrap_outputs(output)
    return output


def _has_backward_hooks(module) -> bool:
    return bool(
        module._backward_hooks
        or module._backward_pre_hooks
        or global_backward_hooks
        or global_backward_pre_hooks
    )


def _full_hooks(module) -> list:
    return [*global_backward_hooks.values(), *module._backward_hooks.values()]


class BackwardHookFunction(Function):
    """Identity on the tensors given (aliases: the same memory, so an in-place op on them is
    refused under grad mode, as PyTorch's); their gradients go to ``state`` in backward,
    which may replace them. (PyTorch's name: ``grad_fn`` reads BackwardHookFunctionBackward.)"""

    outputs_alias_inputs = True  # a user's Function's aliasing outputs, as PyTorch's (function.py)

    @staticmethod
    def forward(ctx, state, stage, *tensors):
        ctx.state, ctx.stage = state, stage
        ctx.set_materialize_grads(False)  # an output no gradient reached stays None
        return tuple(t.view_as(t) for t in tensors)

    @staticmethod
    def backward(ctx, *grads):
        return (None, None, *ctx.state.gradients(ctx.stage, grads))


class _BackwardHookState:
    """One call of a module with full backward hooks: which positional arguments and which
    outputs went through the boundaries, and the output gradients once known."""

    def __init__(self, module):
        self.module = module
        # the hooks as of the call, as PyTorch's BackwardHook keeps them: a hook removed
        # after forward still runs in this call's backward
        self.pre_hooks = [*global_backward_pre_hooks.values(), *module._backward_pre_hooks.values()]
        self.full_hooks = _full_hooks(module)
        self.n_args = 0
        self.input_positions: list = []  # positional args that require grad
        self.grad_output = None

    def wrap_inputs(self, args: tuple) -> tuple:
        self.n_args = len(args)
        self.arg_meta = [
            (a.shape, a.dtype, a.device) if isinstance(a, Tensor) else None for a in args
        ]
        self.input_positions = [
            i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad
        ]
        if not self.input_positions:
            return args
        passed = BackwardHookFunction.apply(self, "input", *(args[i] for i in self.input_positions))
        args = list(args)
        for i, t in zip(self.input_positions, passed):
            args[i] = t
        return tuple(args)

    def wrap_outputs(self, output):
        single = isinstance(output, Tensor)
        items = (output,) if single else output
        if not isinstance(items, (tuple, list)):
            return output
        positions = [i for i, o in enumerate(items) if isinstance(o, Tensor) and o.requires_grad]
        # grad_output has one entry per element of the output (None for a non-tensor, as
        # LSTM's ``(h, c)`` or MultiheadAttention's absent weights), as in PyTorch
        self.n_outputs = len(items)
        self.output_slots = positions
        if not positions:
            return output
        passed = BackwardHookFunction.apply(self, "output", *(items[i] for i in positions))
        wrapped = list(items)
        for i, t in zip(positions, passed):
            wrapped[i] = t
        if single:
            return wrapped[0]
        return type(output)(wrapped) if isinstance(output, tuple) else wrapped

    def gradients(self, stage: str, grads: tuple) -> tuple:
        module = self.module
        if stage == "output":
            grad_output = [None] * self.n_outputs
            for slot, g in zip(self.output_slots, grads):
                grad_output[slot] = g
            grad_output = tuple(grad_output)
            for hook in self.pre_hooks:
                result = hook(module, grad_output)
                if result is not None:
                    grad_output = _checked(
                        result, len(grad_output), "Backward pre hook", "grad_output"
                    )
            self.grad_output = grad_output
            if not self.input_positions and self.full_hooks:
                warn_user(
                    "Full backward hook is firing when gradients are computed with respect to "
                    "module outputs since no inputs require gradients. See https://docs.pytorch.org"
                    "/docs/main/generated/torch.nn.Module.html#torch.nn.Module."
                    "register_full_backward_hook for more details.",
                    UserWarning,
                )
                if any(g is not None for g in self._run_full_hooks((None,) * self.n_args)):
                    raise RuntimeError(
                        "Backward hook for Modules where no input requires gradient should "
                        "always return None or None for all gradients."
                    )
            return tuple(grad_output[slot] for slot in self.output_slots)
        grad_input = [  # PyTorch's: zeros for a tensor argument that needs no gradient
            None if meta is None else zeros(meta[0], dtype=meta[1], device=meta[2])
            for meta in self.arg_meta
        ]
        for i, g in zip(self.input_positions, grads):
            grad_input[i] = g
        grad_input = self._run_full_hooks(tuple(grad_input))
        return tuple(grad_input[i] for i in self.input_positions)

    def _run_full_hooks(self, grad_input: tuple) -> tuple:
        module, grad_output = self.module, self.grad_output
        if grad_output is None:  # the outputs had no gradient path (or were not tensors)
            grad_output = (None,) * getattr(self, "n_outputs", 0)
        for hook in self.full_hooks:
            result = hook(module, grad_input, grad_output)
            if result is not None:
                grad_input = _checked(result, len(grad_input), "Backward hook", "grad_input")
        return grad_input


def _checked(result, expected: int, what: str, of: str) -> tuple:
    result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
    if len(result) != expected:
        raise RuntimeError(
            f"{what} returned an invalid number of {of}, got {len(result)}, but expected {expected}"
        )
    return result


# -- hooks of every module ----------------------------------------------------------------------
# Registration hooks ``hook(module, name, value)`` run when a module registers a buffer, a
# submodule or a parameter; a value they return is registered instead.
global_buffer_registration_hooks: OrderedDict = OrderedDict()
global_module_registration_hooks: OrderedDict = OrderedDict()
global_parameter_registration_hooks: OrderedDict = OrderedDict()


def _register_call_hook(hooks: OrderedDict, hook, *extra: set) -> RemovableHandle:
    handle = RemovableHandle(hooks, global_call_hooks, *extra)
    hooks[handle.id] = hook
    global_call_hooks[handle.id] = True
    return handle


def register_module_forward_pre_hook(hook) -> RemovableHandle:
    """Run ``hook(module, args)`` before the ``forward`` of every module (before its own
    forward pre-hooks); a value it returns replaces ``args`` (a non-tuple is wrapped).

    Returns:
        A handle whose ``remove()`` unregisters the hook.
    """
    return _register_call_hook(global_forward_pre_hooks, hook)


def register_module_forward_hook(
    hook, *, with_kwargs: bool = False, always_call: bool = False
) -> RemovableHandle:
    """Run ``hook(module, args, output)`` (``hook(module, args, kwargs, output)`` with
    ``with_kwargs=True``) after the ``forward`` of every module, before its own forward hooks;
    a value it returns replaces the output. With ``always_call=True`` it also runs when
    ``forward`` raises.

    Returns:
        A handle whose ``remove()`` unregisters the hook.
    """
    handle = _register_call_hook(
        global_forward_hooks, hook, global_with_kwargs, global_always_called
    )
    if with_kwargs:
        global_with_kwargs.add(handle.id)
    if always_call:
        global_always_called.add(handle.id)
    return handle


def register_module_full_backward_pre_hook(hook) -> RemovableHandle:
    """Run ``hook(module, grad_output)`` when the gradients of every module's outputs are
    computed (before its own backward pre-hooks); a value it returns replaces
    ``grad_output``.

    Returns:
        A handle whose ``remove()`` unregisters the hook.
    """
    return _register_call_hook(global_backward_pre_hooks, hook)


def register_module_full_backward_hook(hook) -> RemovableHandle:
    """Run ``hook(module, grad_input, grad_output)`` when the gradients of every module's
    inputs are computed (before its own full backward hooks); a value it returns replaces
    ``grad_input``.

    Returns:
        A handle whose ``remove()`` unregisters the hook.
    """
    return _register_call_hook(global_backward_hooks, hook)


def _register(hooks: OrderedDict, hook) -> RemovableHandle:
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    return handle


def register_module_buffer_registration_hook(hook) -> RemovableHandle:
    """Run ``hook(module, name, buffer)`` whenever a module registers a buffer (also None);
    a tensor it returns is registered instead. Returns a handle that removes it."""
    return _register(global_buffer_registration_hooks, hook)


def register_module_module_registration_hook(hook) -> RemovableHandle:
    """Run ``hook(module, name, submodule)`` whenever a module registers a submodule (also
    None); a module it returns is registered instead. Returns a handle that removes it."""
    return _register(global_module_registration_hooks, hook)


def register_module_parameter_registration_hook(hook) -> RemovableHandle:
    """Run ``hook(module, name, param)`` whenever a module registers a parameter (not a None
    placeholder, as PyTorch); a parameter it returns is registered instead. Returns a handle
    that removes it."""
    return _register(global_parameter_registration_hooks, hook)


def registered(hooks: OrderedDict, module, name: str, value):
    """``value`` after the registration hooks ``hooks`` have seen it (and maybe replaced it)."""
    for hook in list(hooks.values()):
        result = hook(module, name, value)
        if result is not None:
            value = result
    return value
