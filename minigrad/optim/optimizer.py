"""The base Optimizer: parameter groups, per-parameter state, state_dict, and step plumbing.

Subclasses give their hyperparameter defaults, the names of their per-parameter state, and two
methods that work on the backend arrays of one parameter: ``_init_state`` and ``_update``.
The base class runs them in place under ``no_grad``, for every parameter that has a gradient,
and bumps the parameter's version counter (its data changed behind autograd's back).

Array helpers at the bottom (``lerp_``, ``addcmul_``, ...) reproduce PyTorch's elementwise
kernels step by step, so that float64 trajectories match ``torch.optim`` to rounding.
"""

from __future__ import annotations

import numbers
import sys
from collections import defaultdict
from itertools import chain

import numpy as np

from .. import _sparse_coo, backend, dtypes
from .._warnings import warn_user
from ..autograd import grad_mode
from ..autograd.graph import version_counter
from ..tensor import Tensor
from . import _step_hooks
from ._step_hooks import register_optimizer_step_post_hook, register_optimizer_step_pre_hook

__all__ = [
    "Optimizer",
    "register_optimizer_step_post_hook",
    "register_optimizer_step_pre_hook",
    "required",
]

# Keys that learning-rate schedulers add to param groups; they may be present on one side of a
# state_dict load and not the other.
_SCHEDULER_KEYS = frozenset({"initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum"})
# PyTorch's implementation switches: kept in the groups, but a state dict without them (an
# older checkpoint) or with switches this optimizer does not take still loads
_SWITCHES = frozenset({"foreach", "fused", "capturable", "differentiable"})
_NOT_HYPERPARAMETERS = frozenset({"params", "param_names"}) | _SCHEDULER_KEYS | _SWITCHES


class _Required:
    """Marks a hyperparameter that every param group must give (it has no default)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _Required()


class Optimizer:
    """Base class of all optimizers, with PyTorch's ``torch.optim.Optimizer`` interface.

    Args:
        params: an iterable of tensors, of ``(name, tensor)`` pairs, or of dicts, each dict a
            param group: ``{"params": [...], "lr": 0.1, ...}`` with per-group hyperparameters.
        defaults: the hyperparameters of groups that do not set them.
        switches: PyTorch's implementation switches the subclass takes (``foreach``,
            ``fused``, ``capturable``, ``differentiable``), kept among the defaults.

    Attributes:
        param_groups: a list of dicts, one per group, holding ``"params"`` and every
            hyperparameter of that group. Schedulers change ``group["lr"]`` in place.
        state: per-parameter state (momentum buffers, moment estimates), a dict keyed by the
            parameter tensor. State tensors live on the parameter's device; step counts are
            float32 0-d tensors on the CPU, as PyTorch keeps them (SparseAdam's and LBFGS's
            are ints, as there), so that computing bias corrections never waits for the GPU.

    PyTorch's implementation switches are taken where PyTorch's optimizer takes them and kept
    in the param groups: ``fused=False`` keeps a GPU update to one array op at a time instead
    of the one kernel per parameter that SGD and Adam/AdamW use there by default (``None`` or
    ``True``); ``foreach`` (PyTorch's multi-tensor kernels) and ``capturable`` (for CUDA
    graphs) change no result and select nothing here: the update goes parameter by parameter
    either way, and step counts stay on the host. ``differentiable=True`` raises
    ``NotImplementedError``, and ``fused`` with ``foreach`` a ``RuntimeError``, as in PyTorch.

    A parameter listed twice in one group gets PyTorch's warning, and is updated twice, as
    there. ``lr`` may be a one-element tensor, as in PyTorch (its value is read once a step).
    Difference from PyTorch, on purpose: hyperparameters are validated for every group, not
    only for the defaults.
    """

    _state_keys: tuple = ()  # the names of this optimizer's per-parameter state
    _key_order: str = ""  # hyperparameter names in PyTorch's order, where it differs from ours
    _tensor_step: bool = False  # whether PyTorch's optimizer keeps its step count as a tensor
    _no_tensor_lr_with_foreach: bool = False  # Adam and AdamW refuse that pair, as PyTorch
    _scalar_states: tuple = ()  # per-parameter numbers PyTorch keeps as 0-d tensors (not step)

    def __init__(self, params, defaults: dict, **switches):
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                f"dicts, but got {params.type()}"
            )
        # (a set of parameters is listed in its iteration order, as PyTorch's; only a group's
        # "params" given as a set is refused, in add_param_group)
        self.defaults = self._ordered(dict(defaults, **switches))  # switches join them
        self._validate(
            {k: v for k, v in self.defaults.items() if v is not required}, "the defaults"
        )
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict] = []
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def __getstate__(self) -> dict:
        """What copying and pickling keep: PyTorch's ``defaults``, ``state`` and
        ``param_groups`` first, and the other attributes a subclass set; not the hooks (a copy
        of an optimizer starts without them, as in PyTorch)."""
        kept = {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}
        kept.update((k, v) for k, v in self.__dict__.items() if not k.endswith("_hooks"))
        return kept

    def __setstate__(self, state: dict) -> None:
        """Restore :meth:`__getstate__`'s dict (subclasses that fill in their own defaults call
        ``super().__setstate__(state)`` first, as they do in PyTorch)."""
        self.__dict__.update(state)
        self.defaults.setdefault("differentiable", False)

    def _ordered(self, defaults: dict) -> dict:
        """The defaults in PyTorch's key order, so that groups and state dicts list keys as its."""
        ordered = {k: defaults[k] for k in self._key_order.split() if k in defaults}
        ordered.update(defaults)  # keys PyTorch's order does not name keep theirs, after it
        return ordered

    # -- param groups ---------------------------------------------------------------------------
    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own hyperparameters (missing ones use defaults).

        Raises:
            TypeError: a group that is not a dict, params given as a set, or a non-tensor.
            ValueError: a non-leaf tensor, a parameter already in a group (this one or
                another), a missing required hyperparameter, or an invalid hyperparameter.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        group = param_group  # kept, not copied, as in PyTorch: the caller's dict is the group
        group["params"], names = _split_params(group.get("params"), len(self.param_groups))
        if names is not None:
            group["param_names"] = names
        named = "param_names" in group  # from (name, tensor) pairs or given by the caller
        if self.param_groups and ("param_names" in self.param_groups[0]) != named:
            raise ValueError(
                "all optimizer param groups should be with/without names. cannot add param "
                f"group {'with' if named else 'without'} names to the optimizer"
            )
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(
                    f"parameter group didn't specify a value of required optimization "
                    f"parameter {name}"
                )
            group.setdefault(name, default)
        self._check_duplicates(group["params"])
        self._validate(group, f"param group {len(self.param_groups)}")
        self.param_groups.append(group)

    def _check_duplicates(self, params: list) -> None:
        seen = {id(p) for p in params}
        if len(seen) != len(params):  # PyTorch warns, keeps both, and updates the tensor twice
            warn_user(
                "optimizer contains a parameter group with duplicate parameters; in future, "
                "this will cause an error; see github.com/pytorch/pytorch/issues/40967 for "
                "more information"
            )
        for i, group in enumerate(self.param_groups):
            if any(id(p) in seen for p in group["params"]):
                raise ValueError(
                    f"some parameters appear in more than one parameter group: param group "
                    f"{len(self.param_groups)} repeats parameters of param group {i}"
                )

    def _validate(self, group: dict, where: str) -> None:
        """Raise ValueError for an invalid hyperparameter; subclasses add their own checks.
        Only minigrad's optimizers (and their subclasses) check: PyTorch's base class checks
        nothing, so a third-party optimizer takes what its own ``__init__`` accepts (timm's Adan
        has three betas)."""
        mro = type(self).__mro__
        if not any(c.__module__.startswith("minigrad.") and c is not Optimizer for c in mro):
            return
        for key, check in _CHECKS.items():
            if key in group:
                check(group[key], where)
        if group.get("fused") and group.get("foreach"):
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
        if (
            self._no_tensor_lr_with_foreach
            and isinstance(group.get("lr"), Tensor)
            and group.get("foreach")
            and not group.get("capturable")
        ):
            raise ValueError(
                "lr as a Tensor is not supported for capturable=False and foreach=True"
            )

    # -- the update -----------------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters: to None (the default), or to zeros in place."""
        plain = Tensor.grad  # the property: a class that keeps it holds .grad in _grad
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none and type(p).grad is plain:
                    p._grad = None  # (the setter's None case, without its call)
                    continue
                grad = p.grad
                if grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                    continue
                if grad.grad_fn is not None:
                    grad = p.grad = grad.detach()
                grad = getattr(grad, "_local_tensor", grad)  # a DTensor's: its local part
                if type(grad._data) is _sparse_coo.SparseCOO:  # zeros of a sparse grad: no entries
                    grad._data = _sparse_coo.emptied(grad._data)
                else:
                    grad._data.fill(0)
                version_counter(grad).value += 1

    def step(self, closure=None):
        """Update every parameter that has a gradient, in place, recording no graph.

        Args:
            closure: optional; re-evaluates the model and returns the loss (run with grad
                enabled before the update).

        Returns:
            The loss returned by ``closure``, or None.
        """
        loss = None
        if closure is not None:
            with grad_mode.enable_grad():
                loss = closure()
        modes = grad_mode._state  # no_grad() by hand: a context manager costs µs
        previous, modes.enabled = modes.enabled, False
        try:
            for group in self.param_groups:
                if isinstance(group["lr"], Tensor):  # a tensor lr: its value, for host math
                    group = dict(group, lr=group["lr"].item())
                if group.get("capturable"):
                    _check_capturable(group)
                dtensors = sys.modules.get("minigrad.distributed.tensor._api")
                if dtensors is not None and dtensors._ACTIVE[0]:  # DTensor params: their shards
                    dtensors.update_on_shards(self, group)
                    continue
                self._update_group(group)
        finally:
            modes.enabled = previous
        return loss

    def _update_group(self, group: dict) -> None:
        """Update each parameter of ``group`` that has a gradient, on the parameter's GPU."""
        states = self.state
        no_init = type(self)._init_state is Optimizer._init_state  # (SGD: nothing to fill)
        for p in group["params"]:
            grad = p.grad
            if grad is None:
                continue
            if type(grad._data) is _sparse_coo.SparseCOO and not self.takes_sparse:
                raise RuntimeError(_sparse_refusal(type(self).__name__))
            state, dev = states[p], p.device
            if dev.index != dev.backend.current:  # updates run on the parameter's GPU
                with dev.backend.using(dev.index):
                    self._update_one(p, state, group)
            elif (state or no_init) and p._data.dtype.kind != "c":
                self._update(p, state, group)  # _update_one's common case, without its call
            else:
                self._update_one(p, state, group)
            if not state:  # nothing kept (SGD without momentum): no entry, as in PyTorch
                del states[p]
            counter = p._version_counter
            if counter is None:
                counter = version_counter(p)
            counter.value += 1

    def _update_one(self, p: Tensor, state: dict, group: dict) -> None:
        if p._data.dtype.kind == "c":
            self._update_complex(p, state, group)
            return
        if not state:
            self._init_state(p, state, group)
        self._update(p, state, group)

    def _update_complex(self, p: Tensor, state: dict, group: dict) -> None:
        """Update a complex parameter as PyTorch does: its real and imaginary parts as
        independent real numbers, through real views (``view_as_real``) of the parameter, its
        gradient and its state, whose tensors stay complex (``exp_avg`` has ``p``'s dtype)."""
        proxy = _real_view(p)
        proxy.grad = _real_view(p.grad)
        real_state = {k: _real_view(v) if _is_complex(v) else v for k, v in state.items()}
        if not state:
            self._init_state(proxy, real_state, group)
        self._update(proxy, real_state, group)
        for key, value in real_state.items():
            paired = isinstance(value, Tensor) and value.shape == proxy.shape
            state[key] = _complex_view(value) if paired and value.is_floating_point() else value

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_with_step_hooks", False):
            cls.step = _step_hooks.with_step_hooks(step)  # hooks run around a user's own step

    def _patch_step_function(self) -> None:
        """PyTorch's: make sure the class's ``step`` runs the step hooks (here
        ``__init_subclass__`` did already; wrappers that skip ``__init__``, pytorch_optimizer's
        Magma, call it) and name ``zero_grad`` for the profiler."""
        self._zero_grad_profile_name = f"Optimizer.zero_grad#{type(self).__name__}.zero_grad"
        step = type(self).step
        if not getattr(step, "_with_step_hooks", False):
            type(self).step = _step_hooks.with_step_hooks(step)

    def register_step_pre_hook(self, hook):
        """Run ``hook(optimizer, args, kwargs)`` before each ``step``; it may return new
        ``(args, kwargs)``. Returns a handle whose ``remove()`` unregisters it."""
        return _step_hooks.register(self, "_step_pre_hooks", hook)

    def register_step_post_hook(self, hook):
        """Run ``hook(optimizer, args, kwargs)`` after each ``step``. Returns a handle."""
        return _step_hooks.register(self, "_step_post_hooks", hook)

    def register_state_dict_pre_hook(self, hook, prepend: bool = False):
        """Run ``hook(optimizer)`` at the start of :meth:`state_dict` (first among the others
        with ``prepend=True``). Returns a handle whose ``remove()`` unregisters it."""
        return _step_hooks.register(self, "_state_dict_pre_hooks", hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend: bool = False):
        """Run ``hook(optimizer, state_dict)`` at the end of :meth:`state_dict`; a dict it
        returns replaces the state dict. Returns a handle."""
        return _step_hooks.register(self, "_state_dict_post_hooks", hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend: bool = False):
        """Run ``hook(optimizer, state_dict)`` before :meth:`load_state_dict` loads (on a
        shallow copy of the dict given); a dict it returns is loaded instead. Returns a
        handle."""
        return _step_hooks.register(self, "_load_state_dict_pre_hooks", hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend: bool = False):
        """Run ``hook(optimizer)`` after :meth:`load_state_dict` has loaded. Returns a handle."""
        return _step_hooks.register(self, "_load_state_dict_post_hooks", hook, prepend)

    takes_sparse = False  # whether _update takes sparse COO gradients (minigrad.sparse)

    def _count_steps_on_host(self) -> None:
        """Make tensor step counts Python ints (minigrad.compile traces them as numbers that a
        replay recomputes); :meth:`state_dict` still hands out tensors."""
        for state in self.state.values():
            step = state.get("step")
            if type(step) is Tensor and step.ndim == 0:
                state["step"] = int(step._data)

    def _init_state(self, p: Tensor, state: dict, group: dict) -> None:
        """Fill ``state`` for parameter ``p`` before its first update."""

    def _update(self, p: Tensor, state: dict, group: dict) -> None:
        """Update ``p._data`` in place from ``p.grad``; subclasses implement this."""
        raise NotImplementedError(f"{type(self).__name__} does not implement step()")

    # -- state_dict -----------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """The optimizer's state, with parameters replaced by their index (PyTorch's layout).

        Returns:
            ``{"state": {index: {name: value}}, "param_groups": [{hyperparameters...,
            "params": [indices]}]}``. Indices count parameters across groups in order. The
            state tensors are the optimizer's own (not copies), as in PyTorch; save the dict
            with :func:`minigrad.save` to keep a snapshot.
        """
        _step_hooks.run(self, "_state_dict_pre_hooks")
        index: dict[int, int] = {}
        groups, start = [], 0
        for group in self.param_groups:  # numbered as PyTorch does, also with duplicates
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                index.setdefault(id(p), i)
            packed["params"] = [index[id(p)] for p in group["params"]]
            start += len(packed["params"])
            groups.append(packed)
        state = {index[id(p)]: dict(s) for p, s in self.state.items() if id(p) in index}
        if self._tensor_step:  # counts kept as numbers under minigrad.compile: as tensors
            for s in state.values():
                if "step" in s and not isinstance(s["step"], Tensor):
                    s["step"] = _step_tensor(s["step"])
        for s in state.values():  # likewise the other 0-d numbers PyTorch keeps as tensors
            for name in self._scalar_states:
                if name in s and not isinstance(s[name], Tensor):
                    s[name] = _scalar_tensor(s[name])
        out = {"state": state, "param_groups": groups}
        replaced = _step_hooks.run(self, "_state_dict_post_hooks", out)
        return out if replaced is None else replaced

    def load_state_dict(self, state_dict: dict) -> None:
        """Load a state_dict made by :meth:`state_dict` of the same kind of optimizer.

        State tensors are copied onto each parameter's device (and floating ones cast to its
        dtype); the saved hyperparameters replace the current ones.

        Raises:
            ValueError: not an optimizer state_dict, a different number or size of param
                groups, a group lacking one of this optimizer's hyperparameters or a state
                holding another optimizer's state names (a state_dict from another
                optimizer), or a state tensor whose shape differs from its parameter's. Keys
                of the caller's own, in groups or states, load as in PyTorch.
        """
        if isinstance(state_dict, dict):
            state_dict = dict(state_dict)  # hooks may change the copy, not the caller's dict
        replaced = _step_hooks.run(self, "_load_state_dict_pre_hooks", state_dict)
        if replaced is not None:
            state_dict = replaced
        saved_groups = _check_layout(state_dict)
        self._check_groups_match(saved_groups)
        params = list(chain.from_iterable(g["params"] for g in self.param_groups))
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups), params))
        new_state: defaultdict = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key not in id_map:
                raise ValueError(
                    f"optimizer state_dict has state for parameter {key!r}, but its "
                    f"param_groups list only parameters {sorted(id_map)}"
                )
            new_state[id_map[key]] = self._load_param_state(id_map[key], key, value)
        self.state = new_state
        for group, saved in zip(self.param_groups, saved_groups):
            new_group = {
                k: v
                for k, v in saved.items()
                if k != "params" and (k not in _SWITCHES or k in self.defaults)
            }
            for k in (_SWITCHES & set(group)) - set(saved):
                new_group[k] = group[k]
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                new_group["param_names"] = group["param_names"]
            group.clear()
            group.update(new_group)
            self._fix_loaded_group(group)
        _step_hooks.run(self, "_load_state_dict_post_hooks")

    def _fix_loaded_group(self, group: dict) -> None:
        """Adjust a freshly loaded group (AdamW forces decoupled weight decay)."""

    def _check_groups_match(self, saved_groups: list) -> None:
        name = type(self).__name__
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has a different number of parameter groups: "
                f"{len(saved_groups)} saved, {len(self.param_groups)} in this {name}"
            )
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(
                    f"loaded state dict contains a parameter group that doesn't match the size "
                    f"of optimizer's group: param group {i} has {len(saved['params'])} "
                    f"parameters saved and {len(group['params'])} in this {name}"
                )
            # a group lacking one of this optimizer's hyperparameters comes from another
            # optimizer; other keys on either side (timm's "lr_scale", Lookahead's
            # "lookahead_k") load as in PyTorch, which takes the saved group as it is
            missing = set(self.defaults) - _NOT_HYPERPARAMETERS - set(saved)
            if missing:
                raise ValueError(
                    f"loaded state dict is from a different optimizer than this {name}: its "
                    f"param group {i} lacks hyperparameters {sorted(missing)}"
                )
            self._validate(saved, f"saved param group {i}")

    def _load_param_state(self, p: Tensor, key, saved) -> dict:
        if not isinstance(saved, dict):
            raise ValueError(f"state of parameter {key} must be a dict, got {type(saved).__name__}")
        # a name another optimizer keeps marks a state dict from that optimizer; other names
        # (timm's Lookahead keeps "lookahead_slow_buff" in its base optimizer's state) are
        # kept and cast, as PyTorch keeps every name
        unknown = [k for k in saved if k not in self._state_keys and k in _all_state_keys()]
        if self._state_keys and unknown:
            name = type(self).__name__
            raise ValueError(
                f"loaded state dict is from a different optimizer than this {name}: the state "
                f"of parameter {key} has {sorted(map(str, unknown))}, but {name} keeps only "
                f"{list(self._state_keys)}"
            )
        state = {k: _cast_state(p, key, k, v) for k, v in saved.items()}
        for name in self._scalar_states:  # a number in an older minigrad checkpoint
            if name in state and not isinstance(state[name], Tensor):
                state[name] = new_scalar_state(state[name])
        if self._tensor_step and "step" in state and not isinstance(state["step"], Tensor):
            state["step"] = _step_tensor(state["step"])  # an older checkpoint's number
        return state

    # -- display --------------------------------------------------------------------------------
    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines += [""] * bool(i) + [f"Parameter Group {i}"]  # (a blank line between groups)
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join(lines + [")"])


Optimizer.step = _step_hooks.with_step_hooks(Optimizer.step)  # as every subclass's own step

_SET_ERROR = (
    "optimizer parameters need to be organized in ordered collections, but the ordering of "
    "tensors in sets will change between runs. Please use a list instead."
)


def _check_capturable(group: dict) -> None:
    """PyTorch's refusal of ``capturable=True`` for parameters on the CPU (it is for CUDA
    graphs; on a GPU minigrad accepts it and keeps step counts on the host all the same)."""
    if any(p.device.type == "cpu" for p in group["params"] if p.grad is not None):
        raise AssertionError(  # PyTorch's exception type and message
            "If capturable=True, params and state_steps must be on supported devices: "
            "['cuda', 'xpu', 'hpu', 'privateuseone', 'xla']."
        )


def _split_params(params, group_index: int):
    """The group's parameters as a list, and their names when given as (name, tensor) pairs."""
    if params is None:  # a KeyError, as PyTorch's
        raise KeyError(f"param group {group_index} has no 'params' entry")
    if isinstance(params, Tensor):
        params = [params]
    elif isinstance(params, (set, frozenset)):
        raise TypeError(_SET_ERROR)
    else:
        params = list(params)
    named = [isinstance(p, tuple) for p in params]
    names = None
    if any(named):
        if not all(named):
            raise ValueError(
                "all optimizer params should be with/without names. Some param names are missing"
            )
        names, params = [n for n, _ in params], [p for _, p in params]
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(
                f"optimizer can only optimize Tensors, but one of the params is "
                f"{type(p).__name__} (parameter {i} of param group {group_index})"
            )
        if not p.is_leaf and not p.retains_grad:
            raise ValueError(
                f"can't optimize a non-leaf Tensor (parameter {i} of param group {group_index}, "
                f"made by {p.grad_fn.name()}); optimize the leaf it came from, or detach it"
            )
    return params, names


def _check_layout(state_dict) -> list:
    if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
        got = sorted(map(str, state_dict)) if isinstance(state_dict, dict) else type(state_dict)
        raise ValueError(
            f"not an optimizer state_dict: expected a dict with keys 'state' and "
            f"'param_groups', got {got}"
        )
    groups = state_dict["param_groups"]
    if not isinstance(groups, (list, tuple)) or not all(
        isinstance(g, dict) and "params" in g for g in groups
    ):
        raise ValueError("not an optimizer state_dict: 'param_groups' must be a list of dicts")
    if not isinstance(state_dict["state"], dict):
        raise ValueError("not an optimizer state_dict: 'state' must be a dict")
    return list(groups)


def _all_state_keys() -> set:
    """The per-parameter state names of every minigrad optimizer."""
    names, todo = set(), [Optimizer]
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        if cls.__module__.startswith("minigrad."):
            names.update(cls._state_keys)
    return names


def _cast_state(p: Tensor, index, name, value):
    """One saved state value, as PyTorch loads it: a tensor moved to ``p``'s device (and cast
    to ``p``'s dtype when ``p`` is floating point); ``step`` kept as it is. A tensor that needs
    no change is the saved tensor itself, not a copy, as in PyTorch (``Tensor.to``): an
    optimizer loaded from another's live ``state_dict()`` shares its buffers."""
    if not isinstance(value, Tensor):
        return value
    if name == "step":
        return _step_tensor(value)
    if value.ndim and value.shape != p.shape:
        raise ValueError(
            f"state {name!r} of parameter {index} has shape {list(value.shape)}, but the "
            f"parameter has shape {list(p.shape)}"
        )
    dtype = p.dtype if p.is_floating_point() else value.dtype
    return value.to(p.device, dtype)


# -- hyperparameter checks, shared by all optimizers ----------------------------------------------
def _number(value, name: str, where: str):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{name} must be a Python number, got {type(value).__name__} in {where}"
            + (" (tensor hyperparameters are not supported)" if isinstance(value, Tensor) else "")
        )
    return value


def _non_negative(label: str, name: str):
    def check(value, where):
        if not _number(value, name, where) >= 0.0:
            raise ValueError(f"Invalid {label}: {value} in {where}; expected {name} >= 0")

    return check


def _check_betas(betas, where: str) -> None:
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r} in {where}")
    for i, beta in enumerate(betas):
        if not 0.0 <= _number(beta, f"betas[{i}]", where) < 1.0:
            raise ValueError(
                f"Invalid beta parameter at index {i}: {beta} in {where}; expected 0 <= beta < 1"
            )


def _check_rho(rho, where: str) -> None:
    if not 0.0 <= _number(rho, "rho", where) <= 1.0:
        raise ValueError(f"Invalid rho value: {rho} in {where}; expected 0 <= rho <= 1")


def _check_differentiable(value, where: str) -> None:
    if value:
        raise NotImplementedError(
            f"differentiable=True ({where}): minigrad's optimizers update parameters in place "
            "without recording a graph, so there is no gradient through a step"
        )


def _check_lr(lr, where: str) -> None:
    if isinstance(lr, Tensor):  # PyTorch takes a one-element tensor lr
        if lr.numel() != 1:
            raise ValueError(f"Tensor lr must be 1-element, got shape {list(lr.shape)} in {where}")
        lr = lr.item()
    _non_negative("learning rate", "lr")(lr, where)


_CHECKS = {
    "lr": _check_lr,
    "eps": _non_negative("epsilon value", "eps"),
    "weight_decay": _non_negative("weight_decay value", "weight_decay"),
    "momentum": _non_negative("momentum value", "momentum"),
    "alpha": _non_negative("alpha value", "alpha"),
    "lr_decay": _non_negative("lr_decay value", "lr_decay"),
    "initial_accumulator_value": _non_negative(
        "initial_accumulator_value value", "initial_accumulator_value"
    ),
    "momentum_decay": _non_negative("momentum_decay value", "momentum_decay"),
    "betas": _check_betas,
    "rho": _check_rho,
    "differentiable": _check_differentiable,
}


# -- array helpers: PyTorch's pointwise kernels, in place on backend arrays ------------------------
def zeros_state(p: Tensor, fill: float = 0.0) -> Tensor:
    """A state tensor shaped like ``p``, on its device and dtype, filled with ``fill``."""
    return state_tensor(p, p.device.xp.full(p.shape, fill, dtype=p._data.dtype))


# Set by minigrad.compile while it traces: new step counts are then Python numbers, which a
# replay can recompute (see minigrad/_compile/symbolic.py); a tensor's value read on the host
# would end the capture.
host_step_counts = False


def new_step():
    """A fresh step count as PyTorch keeps it: a float32 0-d tensor on the CPU, also for a
    parameter on a GPU (bias corrections are host arithmetic), or 0 while compile traces."""
    if host_step_counts:
        return 0
    return Tensor._make(np.zeros((), np.float32), backend.device("cpu"))


def _scalar_dtype():
    """The dtype of PyTorch's 0-d optimizer state: float64 if that is the default dtype,
    else float32."""
    return np.float64 if dtypes.get_default_dtype() is dtypes.float64 else np.float32


def new_scalar_state(value: float):
    """A per-parameter number that PyTorch keeps as a 0-d tensor of the scalar dtype on the
    CPU (NAdam's ``mu_product``, ASGD's ``eta`` and ``mu``), so that it is rounded as PyTorch
    rounds it; a number of that precision while compile traces (see ``host_step_counts``)."""
    if host_step_counts:
        return _round_to_scalar_dtype(value)
    return _scalar_tensor(value)


def _scalar_tensor(value) -> Tensor:
    return Tensor._make(np.array(_scalar_dtype()(value)), backend.device("cpu"))


def read_scalar_state(state: dict, name: str) -> float:
    """``state[name]`` (a 0-d tensor or a number) as a Python float."""
    value = state[name]
    return float(value._data) if isinstance(value, Tensor) else value


def set_scalar_state(state: dict, name: str, value: float) -> float:
    """Store ``value`` in ``state[name]`` in place, as PyTorch copies a new 0-d tensor of the
    scalar dtype into it (rounded to that dtype even when a checkpoint made the state
    float64); return the stored number."""
    value = _in_scalar_dtype(value)
    held = state[name]
    if isinstance(held, Tensor):
        held._data[()] = value
        return float(held._data)
    state[name] = value
    return value


def scale_scalar_state(state: dict, name: str, factor: float) -> float:
    """``state[name] *= factor`` in the state's dtype, as PyTorch multiplies a 0-d tensor by a
    Python number (the number rounded to the tensor's dtype first); return the new number."""
    held = state[name]
    if isinstance(held, Tensor):
        arr = held._data
        arr *= arr.dtype.type(factor)
        return float(arr)
    # two float32 numbers multiply exactly in double, so this rounds as float32 arithmetic
    state[name] = value = _in_scalar_dtype(held * _in_scalar_dtype(factor))
    return value


def _in_scalar_dtype(value):
    """``value`` rounded to the scalar dtype, as a Python number; a number minigrad.compile
    traces (a ``Sym``, from the step count) stays one, rounded again on every replay."""
    rounded = _round_to_scalar_dtype
    return value.apply(rounded) if hasattr(value, "apply") else rounded(value)


def _round_to_scalar_dtype(value) -> float:
    return float(_scalar_dtype()(value))


def count_step(state: dict):
    """Add one to ``state["step"]`` in place and return the new count as a Python number.

    The count may be a tensor (PyTorch's layout, float32 0-d) or a plain number (an older
    minigrad checkpoint, a user's own code, or a counter that minigrad.compile traces)."""
    step = state["step"]
    if type(step) is Tensor:
        arr = step._data
        count = int(arr) + 1
        arr[()] = count  # 10x faster than a += 1 on a 0-d array
        return count
    state["step"] = step = step + 1
    return step


def _step_tensor(value) -> Tensor:
    """A step count loaded from a state dict: a tensor kept as it is (the same tensor, as
    PyTorch keeps it); a number (older checkpoints) as a float32 0-d CPU tensor."""
    if isinstance(value, Tensor):
        return value
    return Tensor._make(np.array(float(value), np.float32), backend.device("cpu"))


def _sparse_refusal(name: str) -> str:
    """PyTorch's error for an optimizer given a sparse gradient it cannot take."""
    if name in ("Adam", "AdamW"):
        return "Adam does not support sparse gradients, please consider SparseAdam instead"
    return f"{name} does not support sparse gradients"


def state_tensor(p: Tensor, array) -> Tensor:
    """Wrap a backend array on ``p``'s device as a state tensor (no copy)."""
    return Tensor._make(array, p.device)


def grad_with_decay(p: Tensor, group: dict, decay: bool = True):
    """``p.grad`` as an array, negated under ``maximize`` and with L2 ``weight_decay·p`` added.

    Never writes into ``p.grad``: the result is a new array whenever it differs from it.
    """
    g = p.grad._data
    if group.get("maximize"):
        g = -g
    wd = group.get("weight_decay", 0)
    if decay and wd != 0:
        g = add(g, p._data, wd)
    return g


def add(a, b, alpha):
    """``a + alpha·b`` as a new array (torch.add with ``alpha``)."""
    out = b * alpha
    out += a
    return out


def add_(xp, a, b, alpha, tmp=None) -> None:
    """``a += alpha·b`` (Tensor.add_ with ``alpha``); ``tmp`` is an optional scratch array."""
    if alpha == 1:
        a += b
        return
    tmp = xp.multiply(b, alpha, out=tmp)
    a += tmp


def lerp_(xp, a, b, weight: float, tmp=None) -> None:
    """``a ← a + weight·(b − a)``; for weight ≥ 0.5 PyTorch uses ``b − (b − a)·(1 − weight)``."""
    diff = xp.subtract(b, a, out=tmp)
    if weight < 0.5:
        diff *= weight
        a += diff
    else:
        diff *= 1 - weight
        xp.subtract(b, diff, out=a)


def addcmul_(xp, a, t1, t2, value: float, tmp=None) -> None:
    """``a += value·t1·t2`` (Tensor.addcmul_)."""
    tmp = xp.multiply(t1, value, out=tmp)
    tmp *= t2
    a += tmp


def addcdiv_(xp, a, t1, t2, value: float, tmp=None) -> None:
    """``a += value·t1/t2`` (Tensor.addcdiv_)."""
    tmp = xp.multiply(t1, value, out=tmp)
    tmp /= t2
    a += tmp


def _is_complex(value) -> bool:
    return isinstance(value, Tensor) and value._data.dtype.kind == "c"


def _real_view(t: Tensor) -> Tensor:
    """A float tensor over complex ``t``'s memory: ``(..., 2)`` pairs of real and imaginary
    parts (``torch.view_as_real``); in-place updates to it update ``t``."""
    data = t._data
    if not data.flags.c_contiguous:
        raise NotImplementedError("optimizers update complex tensors only when contiguous")
    pairs = data.view(data.real.dtype).reshape(data.shape + (2,))
    return Tensor._make(pairs, t.device)


def _complex_view(t: Tensor) -> Tensor:
    """The complex tensor over the ``(..., 2)`` real pairs of ``t`` (its memory, not a copy)."""
    data = t._data if t._data.flags.c_contiguous else t._data.copy()
    complex_dtype = dtypes.to_complex(dtypes.from_numpy(data.dtype)).numpy
    return Tensor._make(data.view(complex_dtype).reshape(data.shape[:-1]), t.device)
