"""Hooks on the tensors that backward needs, as ``torch.autograd.graph.saved_tensors_hooks``.

Inside ``with saved_tensors_hooks(pack, unpack):`` every tensor an op saves for backward is
handed to ``pack`` when it is saved, and what ``pack`` returned is kept instead of the tensor;
``unpack`` gives the tensor back when backward reads it. This is how activations are
offloaded (:class:`save_on_cpu`), compressed or recomputed. The unpacked tensor is reconnected
to where the saved one was in the graph (its ``grad_fn``, or its leaf), so double backward
works through it. The arrays an op keeps for itself beside its saved tensors (im2col
windows, softmax outputs: ``Node.keep``) are not tensors and are not passed to the hooks.

Differs from PyTorch on purpose: when ``pack`` returns the tensor itself, an in-place change
of it before backward still raises (PyTorch skips the version check under hooks and computes
with the changed values).

The hooks are per thread. :data:`active` counts the hook contexts open in all threads, so
that saving a tensor costs nothing extra while none is open.
"""

from __future__ import annotations

import threading
import weakref

active = 0  # contexts open in all threads: Node.save consults the hooks only when nonzero
_lock = threading.Lock()


class _State(threading.local):
    def __init__(self):
        self.stack = []  # (pack, unpack) pairs, innermost last
        self.disabled_message = None  # set by disable_saved_tensors_hooks


_state = _State()


class HookedSavedTensor:
    """A saved tensor held as what the pack hook returned, with its place in the graph."""

    __slots__ = ("packed", "unpack_hook", "edge", "output_nr", "counter", "version")

    def __init__(self, tensor, node, unpack_hook, packed):
        self.packed, self.unpack_hook = packed, unpack_hook
        self.output_nr = tensor._output_nr if tensor.grad_fn is node else None
        # the edge of an input (its grad_fn, or its leaf's accumulator); for this node's own
        # outputs it is the node, rebuilt at unpacking (holding it would make a cycle)
        self.edge = None
        from .graph import INFERENCE, refuse_inference_save

        if tensor._version_counter is INFERENCE:
            refuse_inference_save()
        if self.output_nr is None and tensor.requires_grad:
            from .graph import gradient_edge

            self.edge = gradient_edge(tensor)
        self.counter = self.version = None
        if packed is tensor:  # the same memory: an in-place change would corrupt backward
            from .graph import version_counter

            self.counter = version_counter(tensor)
            self.version = self.counter.value

    def unpack(self, node, index: int):
        from .graph import Tensor

        if self.counter is not None and self.counter.value != self.version:
            from .graph import modified_error

            t = self.packed  # the tensor itself (pack returned it)
            raise modified_error(t._data, t.device, t.grad_fn, t._output_nr, self)
        value = self.unpack_hook(self.packed)
        if not isinstance(value, Tensor):
            raise TypeError(
                f"Output of saved tensor unpack_hook expected to be a Tensor but got result of "
                f"type {type(value).__name__}"
            )
        if self.output_nr is not None:
            grad_fn, output_nr = node, self.output_nr
        elif self.edge is not None:
            grad_fn, output_nr = self.edge
            if type(grad_fn).__name__ == "AccumulateGrad":  # a leaf: unpacked as a leaf, as
                out = Tensor._make(value._data, value.device, True)  # PyTorch's, that shares
                out._accumulator = weakref.ref(grad_fn)  # the saved leaf's accumulator
                return out
        else:
            return value
        out = Tensor._make(value._data, value.device, True, grad_fn)
        out._output_nr = output_nr
        return out


def packed(tensor, node):
    """``tensor`` as the innermost hooks keep it (or itself when no hooks are set here)."""
    if not _state.stack:
        return tensor
    pack_hook, unpack_hook = _state.stack[-1]
    return HookedSavedTensor(tensor, node, unpack_hook, pack_hook(tensor))


# Binary ops whose PyTorch backward saves its second input before its first (derivatives.yaml
# lists ``other`` first: ``self``'s gradient needs it), so that pack hooks see them in that
# order; by class name, as several live in layers above this one.
_OTHER_FIRST = frozenset(
    "Mul Div Pow Remainder Fmod Maximum Minimum Atan2 Hypot LogAddExp LogAddExp2 Xlogy "
    "Complex".split()
)


def pack_order(tensors: tuple, node) -> range | tuple:
    """The order in which ``node``'s saved ``tensors`` reach the pack hook: PyTorch's, which
    is the inputs' order except for the binary ops of ``_OTHER_FIRST`` and matrix products
    of matrices (``mm``/``bmm``: ``mat2`` first; ``dot``/``mv`` keep the order)."""
    if len(tensors) >= 2 and tensors[0] is not None and tensors[1] is not None:
        cls = type(node)  # the op class (graph.op_class; graph imports this module)
        name = cls.__dict__.get("_node_base", cls).__name__
        if name in _OTHER_FIRST or (
            name == "MatMul" and tensors[0].ndim >= 2 and tensors[1].ndim >= 2
        ):
            return (1, 0, *range(2, len(tensors)))
    return range(len(tensors))


class saved_tensors_hooks:  # noqa: N801 - PyTorch's name
    """Context manager: ``pack_hook(tensor) -> object`` runs on every tensor saved for backward
    inside it, ``unpack_hook(object) -> tensor`` when backward reads it.

    Example::

        >>> with minigrad.autograd.graph.saved_tensors_hooks(lambda t: t.half(), lambda t: t.float()):
        ...     y = (x * w).sum()  # x and w are kept in float16 until backward
    """

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook, self.unpack_hook = pack_hook, unpack_hook

    def __enter__(self):
        global active
        if _state.disabled_message is not None:
            raise RuntimeError(_state.disabled_message)
        _state.stack.append((self.pack_hook, self.unpack_hook))
        with _lock:
            active += 1
        return self

    def __exit__(self, *exc):
        global active
        _state.stack.pop()
        with _lock:
            active -= 1


class save_on_cpu(saved_tensors_hooks):  # noqa: N801 - PyTorch's name
    """Keep the tensors saved for backward in host memory, moved back to their device when
    backward reads them: GPU memory for activations traded for transfers. ``pin_memory`` is
    accepted for PyTorch's signature; transfers here are synchronous either way."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda"):
        def pack(tensor):
            return tensor.device, tensor.cpu()

        def unpack(saved):
            device, tensor = saved
            return tensor.to(device)

        super().__init__(pack, unpack)


class disable_saved_tensors_hooks:  # noqa: N801 - PyTorch's name
    """Context manager inside which opening :class:`saved_tensors_hooks` raises
    ``RuntimeError(error_message)`` (for code whose saved tensors must stay as they are)."""

    def __init__(self, error_message: str):
        self.error_message = error_message

    def __enter__(self):
        self.previous = _state.disabled_message
        _state.disabled_message = self.error_message
        return self

    def __exit__(self, *exc):
        _state.disabled_message = self.previous


class allow_mutation_on_saved_tensors(saved_tensors_hooks):  # noqa: N801 - PyTorch's name
    """Context manager inside which a tensor saved for backward may be changed in place:
    backward computes with the values it had when saved. Run forward and backward inside the
    same context (backward outside it raises AssertionError, as in PyTorch); contexts do not
    nest.

    Differs from PyTorch in cost only: every tensor saved inside is copied when saved
    (PyTorch copies it when it is first changed), so memory grows with the saved activations.

    Example::

        >>> with minigrad.autograd.graph.allow_mutation_on_saved_tensors():
        ...     h = x.sin(); y = h * h; h.mul_(2.0); y.sum().backward()  # d/dx sin(x)^2
    """

    def __init__(self):
        self.closed = False
        super().__init__(self._pack, self._unpack)

    def _pack(self, tensor):
        return tensor.detach().clone()

    def _unpack(self, copy):
        if self.closed:
            raise AssertionError(  # (PyTorch's exception type)
                "Trying to backward outside of the 'allow_mutation_on_saved_tensors' context in "
                "which the graph was originally recorded."
            )
        return copy

    def __enter__(self):
        if any(isinstance(getattr(p, "__self__", None), allow_mutation_on_saved_tensors)
               for p, _ in _state.stack):  # fmt: skip
            raise RuntimeError("allow_mutation_on_saved_tensors contexts cannot be nested")
        super().__enter__()
        return self

    def __exit__(self, *exc):
        self.closed = True
        super().__exit__(*exc)
