"""``minigrad.library.opcheck``: run a custom op on sample inputs and check what can be checked
without PyTorch's tracing — declared mutation, aliasing, the autograd registration, the fake
impl's shapes and dtypes, and the autograd formula against numerical gradients."""

from __future__ import annotations

import numpy as np

from ..autograd import gradcheck
from ..tensor import Tensor
from ._op import CustomOpDef, _tensors

DEFAULT_TEST_UTILS = (
    "test_schema",
    "test_autograd_registration",
    "test_faketensor",
    "test_aot_dispatch_dynamic",
)


class OpCheckError(Exception):
    """An ``opcheck`` test failed (PyTorch's ``OpCheckError``)."""


def _clone(value):
    if isinstance(value, Tensor):
        return value.detach().clone().requires_grad_(value.requires_grad)
    if isinstance(value, (list, tuple)):
        return type(value)(_clone(v) for v in value)
    return value


def _flat(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _test_schema(op, values):
    """Tensors not in ``mutates_args`` keep their values; outputs alias no input."""
    before = [t.detach().clone() for t in _tensors(values)]
    op._run(values)  # raises if an output aliases an input
    for (name, v), old in zip(_named_tensors(op, values), before):
        changed = not np.array_equal(v.detach().cpu().numpy(), old.cpu().numpy(), equal_nan=True)
        if changed and name not in op._mutates_args:
            raise OpCheckError(
                f"{op._qualname}: argument {name!r} was mutated but is not in mutates_args "
                f"{op._mutates_args}"
            )


def _named_tensors(op, values):
    for name, v in zip(op._signature.parameters, values):
        for t in _tensors([v]):
            yield name, t


def _test_autograd_registration(op, values):
    if any(t.requires_grad for t in _tensors(values)) and op._backward_fn is None:
        raise OpCheckError(
            f"{op._qualname}: inputs require grad but no autograd formula was registered "
            "(use register_autograd)"
        )


def _test_faketensor(op, values):
    if op._abstract_fn is None:
        raise OpCheckError(
            f"{op._qualname}: operator does not have a fake impl registered (register_fake)"
        )
    real = _flat(op._run(values))
    fake = _flat(op._abstract_fn(*values))
    for i, (r, f) in enumerate(zip(real, fake)):
        if isinstance(r, Tensor) and (tuple(r.shape) != tuple(f.shape) or r.dtype != f.dtype):
            raise OpCheckError(
                f"{op._qualname}: output {i} of the fake impl has shape {tuple(f.shape)} and "
                f"dtype {f.dtype}; the kernel's has {tuple(r.shape)} and {r.dtype}"
            )


def _test_gradients(op, values, atol, rtol):
    if op._backward_fn is None or not any(t.requires_grad for t in _tensors(values)):
        return
    flags = [isinstance(v, Tensor) and v.requires_grad for v in values]

    def fn(*grad_inputs):
        it = iter(grad_inputs)
        return op(*[next(it) if f else v for v, f in zip(values, flags)])

    inputs = [v for v, f in zip(values, flags) if f]
    if not all(t.dtype.is_floating_point and t.dtype.itemsize == 8 for t in inputs):
        inputs = [t.detach().double().requires_grad_() for t in inputs]
    kw = {k: v for k, v in (("atol", atol), ("rtol", rtol)) if v is not None}
    try:
        gradcheck(fn, tuple(inputs), **kw)
    except Exception as e:
        raise OpCheckError(f"{op._qualname}: autograd formula differs from gradcheck: {e}") from e


def opcheck(
    op, args, kwargs=None, *, test_utils=DEFAULT_TEST_UTILS, raise_exception=True, atol=None,
    rtol=None,
) -> dict:  # fmt: skip
    """Check a custom op on one set of inputs, as ``torch.library.opcheck``.

    minigrad has no fake tensors or AOT tracing, so each of PyTorch's test names runs the
    closest check possible here: ``test_schema`` (only ``mutates_args`` arguments change, no
    output aliases an input), ``test_autograd_registration`` (inputs that require grad need
    ``register_autograd``), ``test_faketensor`` (the fake impl, called on the real inputs,
    gives the kernel's shapes and dtypes) and ``test_aot_dispatch_dynamic`` (the registered
    backward agrees with ``gradcheck``, in float64).

    Returns:
        ``{test name: "SUCCESS" or the exception}``; with ``raise_exception`` the first failure
        is raised as :class:`OpCheckError`.
    """
    from . import _lookup

    op = op if isinstance(op, CustomOpDef) else _lookup(op, "opcheck")
    test_utils = [test_utils] if isinstance(test_utils, str) else list(test_utils)
    checks = {
        "test_schema": lambda v: _test_schema(op, v),
        "test_autograd_registration": lambda v: _test_autograd_registration(op, v),
        "test_faketensor": lambda v: _test_faketensor(op, v),
        "test_aot_dispatch_dynamic": lambda v: _test_gradients(op, v, atol, rtol),
    }
    unknown = [t for t in test_utils if t not in checks]
    if unknown:
        raise ValueError(f"opcheck: unknown test_utils {unknown}; valid: {list(checks)}")
    results = {}
    for name in test_utils:
        values = op._bind(_clone(tuple(args)), _clone(dict(kwargs or {})))
        try:
            checks[name](values)
            results[name] = "SUCCESS"
        except OpCheckError as e:
            if raise_exception:
                raise
            results[name] = e
    return results
