"""``torch.utils.swap_tensors``: exchange two tensors' contents while both Python objects keep
their identity (what ``Module._apply`` and ``load_state_dict`` use when
``minigrad.__future__.set_swap_module_params_on_conversion(True)`` is set).

A minigrad tensor *is* its Python object (its data, device, autograd state live in slots), so
swapping the class, the ``__dict__`` and every slot swaps everything PyTorch's
``_swap_tensor_impl`` swaps. PyTorch refuses a tensor whose ``TensorImpl`` is referenced from
elsewhere (``_use_count() > 1``); here those references are the ones the graph keeps to the
Python object: a node's saved input, a view's ``_base``, and a leaf's ``AccumulateGrad``.
"""

from __future__ import annotations

import copyreg
import gc
import sys
import weakref

from ..autograd.graph import AccumulateGrad, SavedTensor, Tensor

_POISONED = (
    "Trying to execute AccumulateGrad node that was poisoned by swap_tensors "
    "this can happen when you try to run backward on a tensor that was swapped. "
    "For a module m with `torch.__future__.set_swap_module_params_on_conversion(True)` "
    "you should not change the device or dtype of the module (e.g. `m.cpu()` or `m.half()`) "
    "between running forward and backward. To resolve this, please only change the "
    "device/dtype before running forward (or after both forward and backward)."
)


def swap_tensors(t1, t2) -> None:
    """Swap the contents of ``t1`` and ``t2`` in place: afterwards ``t1`` has ``t2``'s data,
    dtype, shape, device, ``requires_grad``, ``grad``, autograd state, class, ``__dict__`` and
    slots, and ``t2`` has ``t1``'s; both objects keep their ``id``.

    Raises ``RuntimeError`` as PyTorch does when either has a weak reference, when their
    classes have different slots, or when the graph holds a tensor (saved for backward, the
    base of a view). A leaf whose only other holder is its ``AccumulateGrad`` node is swapped,
    and that node is poisoned: a backward reaching it raises.
    """
    for name, t in (("t1", t1), ("t2", t2)):
        if not isinstance(t, Tensor):
            raise TypeError(f"swap_tensors(): {name} must be a Tensor, got {type(t).__name__}")
    if weakref.getweakrefs(t1):
        raise RuntimeError("Cannot swap t1 because it has weakref associated with it")
    if weakref.getweakrefs(t2):
        raise RuntimeError("Cannot swap t2 because it has weakref associated with it")
    slots = set(copyreg._slotnames(type(t1)))
    if slots != set(copyreg._slotnames(type(t2))):
        raise RuntimeError("Cannot swap t1 and t2 if they have different slots")
    holders = _graph_holders(t1, t2)
    for name, t in (("t1", t1), ("t2", t2)):
        _check_use_count(t, name, holders.get(id(t), []))
    if t1 is t2:
        return
    t1.__class__, t2.__class__ = t2.__class__, t1.__class__
    t1.__dict__, t2.__dict__ = t2.__dict__, t1.__dict__
    for slot in slots:
        _swap_slot(t1, t2, slot)


def _graph_holders(*tensors) -> dict:
    """``{id(tensor): [holder, ...]}``: the graph's references to each of ``tensors`` that
    count in PyTorch's ``use_count`` (saved inputs, views' bases, live AccumulateGrad nodes).

    A saved input and a view both hold the tensor's version counter, so a tensor whose
    counter nobody else holds needs no search; the others are found among the referrers
    that the garbage collector knows (one scan of the heap: slow, but rare)."""
    out = {}
    for t in tensors:
        ref = t._accumulator
        node = ref() if ref is not None else None
        if node is not None and node.variable is t:
            out.setdefault(id(t), []).append(node)
    shared = {id(t): t for t in tensors if _counter_holders(t)}
    if not shared:
        return out
    for ref in gc.get_referrers(*shared.values()):
        if isinstance(ref, SavedTensor):
            held = ref.tensor
        elif isinstance(ref, Tensor):
            held = ref._base
        else:
            continue
        if held is not None and shared.get(id(held)) is held:
            out.setdefault(id(held), []).append(ref)
    return out


def _counter_holders(t) -> int:
    """How many holders besides ``t`` its version counter has."""
    counter = t._version_counter
    # less: t's slot, the local name and getrefcount's argument
    return 0 if counter is None else sys.getrefcount(counter) - 3


def _check_use_count(t, name: str, holders: list) -> None:
    """PyTorch's ``check_use_count``: one holder is allowed when it is the leaf's own
    ``AccumulateGrad`` node, which is then poisoned; any other holder is refused."""
    use_count = 1 + len(holders)
    if use_count == 1:
        return
    if use_count == 2 and t.is_leaf and isinstance(holders[0], AccumulateGrad):
        holders[0].register_prehook(_poisoned)
        return
    raise RuntimeError(
        f"Expected use_count of {name} to be 1 or 2 with an AccumulateGrad node but got "
        f"{use_count} make sure you are not holding references to the tensor in other places."
    )


def _poisoned(grad_outputs):
    raise RuntimeError(_POISONED)


def _swap_slot(t1, t2, slot: str) -> None:
    """Exchange one slot's values, moving a value where only one of the two has it set."""
    missing = object()
    v1, v2 = getattr(t1, slot, missing), getattr(t2, slot, missing)
    for t, v in ((t1, v2), (t2, v1)):
        if v is missing:
            delattr(t, slot)
        else:
            setattr(t, slot, v)
